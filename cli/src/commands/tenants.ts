/** `tenants list|create|show|update|delete`. */
import { Command } from 'commander';
import { seg } from '../api-client';
import { note, printList, printRecord, type CliContext } from '../context';
import { UsageError } from '../errors';
import { authMethodsArg, intArg, limitArg } from '../parse-args';
import type { Column } from '../table';

export interface TenantView {
  tenantId: string;
  name: string;
  authMethods: string[];
  maxSessions?: number;
  maxSessionsPerUser?: number;
  passwordPolicy?: { minLength: number; rejectUsername: boolean };
  createdAt: string;
}

export const TENANT_COLUMNS: Column<TenantView>[] = [
  { header: 'TENANT', value: (t) => t.tenantId },
  { header: 'NAME', value: (t) => t.name },
  { header: 'AUTH METHODS', value: (t) => t.authMethods },
  { header: 'MAX SESSIONS', value: (t) => t.maxSessions },
  { header: 'PER USER', value: (t) => t.maxSessionsPerUser },
  { header: 'CREATED', value: (t) => t.createdAt },
];

interface TenantFields {
  name?: string;
  authMethods?: string[];
  maxSessions?: number | 'none';
  maxSessionsPerUser?: number | 'none';
  minPasswordLength?: number;
  rejectUsername?: boolean;
}

/** The request body of a create or update from its options (only what was given). */
export function tenantBody(o: TenantFields): Record<string, unknown> {
  const policy = {
    ...(o.minPasswordLength !== undefined ? { minLength: o.minPasswordLength } : {}),
    ...(o.rejectUsername !== undefined ? { rejectUsername: o.rejectUsername } : {}),
  };
  return {
    ...(o.name !== undefined ? { name: o.name } : {}),
    ...(o.authMethods !== undefined ? { authMethods: o.authMethods } : {}),
    ...(o.maxSessions !== undefined ? { maxSessions: o.maxSessions === 'none' ? null : o.maxSessions } : {}),
    ...(o.maxSessionsPerUser !== undefined ? { maxSessionsPerUser: o.maxSessionsPerUser === 'none' ? null : o.maxSessionsPerUser } : {}),
    ...(Object.keys(policy).length ? { passwordPolicy: policy } : {}),
  };
}

function fieldOptions(cmd: Command, limit: (v: string) => number | 'none'): Command {
  return cmd
    .option('--auth-methods <list>', 'PPP methods allowed, comma-separated (mschapv2,chap-md5,pap)', authMethodsArg)
    .option('--max-sessions <n>', 'most concurrent sessions of the tenant', limit)
    .option('--max-sessions-per-user <n>', 'most concurrent sessions of one user', limit)
    .option('--min-password-length <n>', 'password policy: shortest password (1..256)', intArg)
    .option('--reject-username', 'password policy: refuse passwords containing the user name')
    .option('--no-reject-username', 'password policy: allow passwords containing the user name');
}

export function tenantsCommand(ctx: CliContext): Command {
  const tenants = new Command('tenants').description('tenants: the customers of the fleet, each with its pools and users');

  tenants
    .command('list')
    .description('list tenants (a tenant-scoped token sees its own only)')
    .action(async (_o, cmd: Command) => {
      printList(ctx, cmd, await ctx.client().listAll<TenantView>('/v1/tenants'), TENANT_COLUMNS);
    });

  fieldOptions(
    tenants
      .command('create')
      .description('create a tenant (fleet token)')
      .argument('<tenantId>', 'the id clients use as their realm (alice@<tenantId>)')
      .requiredOption('--name <name>', 'display name'),
    intArg,
  ).action(async (tenantId: string, o: TenantFields, cmd: Command) => {
    const { body } = await ctx.client().request('POST', '/v1/tenants', { body: { tenantId, ...tenantBody(o) } });
    printRecord(ctx, cmd, body);
  });

  tenants
    .command('show')
    .description('show one tenant')
    .argument('<tenantId>')
    .action(async (tenantId: string, _o, cmd: Command) => {
      printRecord(ctx, cmd, (await ctx.client().request('GET', `/v1/tenants/${seg(tenantId)}`)).body);
    });

  fieldOptions(
    tenants
      .command('update')
      .description('change a tenant (fleet token); `none` removes a session limit')
      .argument('<tenantId>')
      .option('--name <name>', 'display name'),
    limitArg,
  ).action(async (tenantId: string, o: TenantFields, cmd: Command) => {
    const body = tenantBody(o);
    if (Object.keys(body).length === 0) throw new UsageError('nothing to change', 'give at least one option, e.g. --max-sessions 50');
    printRecord(ctx, cmd, (await ctx.client().request('PATCH', `/v1/tenants/${seg(tenantId)}`, { body })).body);
  });

  tenants
    .command('delete')
    .description('delete a tenant (fleet token); --cascade ends its sessions and deletes its users, keys and pools')
    .argument('<tenantId>')
    .option('--cascade', 'also delete what the tenant holds; repeat until it reports deleted')
    .action(async (tenantId: string, o: { cascade?: boolean }, cmd: Command) => {
      const answer = await ctx.client().request<{ deleting?: boolean; activeSessions?: number; pools?: number }>(
        'DELETE',
        `/v1/tenants/${seg(tenantId)}`,
        { query: { cascade: o.cascade ? 'true' : undefined } },
      );
      const done = answer.status === 204;
      if (cmd.optsWithGlobals().json) ctx.io.stdout.write(`${JSON.stringify({ tenantId, deleted: done, ...(answer.body ?? {}) })}\n`);
      else if (done) note(ctx, `tenant ${tenantId} deleted`);
      else note(ctx, `tenant ${tenantId} is being deleted: ${answer.body.activeSessions ?? 0} active sessions and ${answer.body.pools ?? 0} pools left; run the same command again to finish`);
    });

  return tenants;
}
