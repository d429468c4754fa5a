/** `api-keys list|create|revoke`: operator API keys (tbk_...). */
import { Command, Option } from 'commander';
import { seg } from '../api-client';
import { jsonMode, note, printList, printRecord, type CliContext } from '../context';
import { UsageError } from '../errors';
import type { Column } from '../table';

interface ApiKeyView {
  keyId: string;
  scope: string;
  tenantId?: string;
  name: string;
  revoked: boolean;
  expiresAt?: string;
  expired: boolean;
  createdAt: string;
}

const KEY_COLUMNS: Column<ApiKeyView>[] = [
  { header: 'KEY', value: (k) => k.keyId },
  { header: 'SCOPE', value: (k) => k.scope },
  { header: 'TENANT', value: (k) => k.tenantId },
  { header: 'NAME', value: (k) => k.name },
  { header: 'STATUS', value: (k) => (k.revoked ? 'revoked' : k.expired ? 'expired' : 'valid') },
  { header: 'EXPIRES', value: (k) => k.expiresAt },
  { header: 'CREATED', value: (k) => k.createdAt },
];

export function apiKeysCommand(ctx: CliContext): Command {
  const keys = new Command('api-keys').description('operator API keys: fleet-wide or scoped to one tenant (secrets are shown once, at creation)');

  keys
    .command('list')
    .description('list keys (never their secrets)')
    .option('-t, --tenant <tenantId>', 'only this tenant\'s keys')
    .action(async (o: { tenant?: string }, cmd: Command) => {
      printList(ctx, cmd, await ctx.client().listAll<ApiKeyView>('/v1/api-keys', { tenantId: o.tenant }), KEY_COLUMNS);
    });

  keys
    .command('create')
    .description('create a key (fleet token); prints its token once on stdout: store it now')
    .requiredOption('--name <name>', 'what the key is for')
    .addOption(new Option('--scope <scope>', 'fleet, or one tenant').choices(['fleet', 'tenant']).makeOptionMandatory())
    .option('-t, --tenant <tenantId>', 'the tenant of a tenant-scoped key')
    .option('--expires-at <time>', 'refused from this time on (ISO-8601 with offset, e.g. 2026-01-01T00:00:00Z)')
    .action(async (o: { name: string; scope: string; tenant?: string; expiresAt?: string }, cmd: Command) => {
      if (o.scope === 'tenant' && !o.tenant) throw new UsageError('--scope tenant needs --tenant <tenantId>');
      if (o.scope === 'fleet' && o.tenant) throw new UsageError('a fleet key has no tenant; drop --tenant or use --scope tenant');
      const body = { scope: o.scope, name: o.name, ...(o.tenant ? { tenantId: o.tenant } : {}), ...(o.expiresAt ? { expiresAt: o.expiresAt } : {}) };
      const { body: created } = await ctx.client().request<{ apiKey: ApiKeyView; token: string }>('POST', '/v1/api-keys', { body });
      if (jsonMode(cmd)) return void ctx.io.stdout.write(`${JSON.stringify(created, null, 2)}\n`);
      note(ctx, `key ${created.apiKey.keyId} created; its token is below and is never shown again (use it as TUNNEL_BROKER_TOKEN)`);
      ctx.io.stdout.write(`${created.token}\n`);
    });

  keys
    .command('revoke')
    .description('revoke a key: refused from its next request on')
    .argument('<keyId>')
    .action(async (keyId: string, _o, cmd: Command) => {
      await ctx.client().request('DELETE', `/v1/api-keys/${seg(keyId)}`);
      if (jsonMode(cmd)) ctx.io.stdout.write(`${JSON.stringify({ keyId, revoked: true })}\n`);
      else note(ctx, `key ${keyId} revoked`);
    });

  return keys;
}
