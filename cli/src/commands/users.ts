/** `users list|show|create|password|lock|unlock|delete|import --tenant <id>`. Passwords come from stdin, never argv. */
import { Command } from 'commander';
import { seg } from '../api-client';
import { jsonMode, note, printList, printRecord, type CliContext } from '../context';
import { parseUsersCsv } from '../csv';
import { ApiError, CliError, UsageError } from '../errors';
import { EXIT } from '../exit-codes';
import { readSecret } from '../secret-input';
import type { Column } from '../table';

interface UserView {
  username: string;
  staticIp?: string;
  disabled: boolean;
  locked: boolean;
  lockedUntil?: string;
  failedAttempts: number;
  chapMd5: boolean;
  createdAt: string;
}

const USER_COLUMNS: Column<UserView>[] = [
  { header: 'USER', value: (u) => u.username },
  { header: 'DISABLED', value: (u) => u.disabled },
  { header: 'LOCKED', value: (u) => (u.locked ? `until ${u.lockedUntil}` : false) },
  { header: 'FAILURES', value: (u) => u.failedAttempts },
  { header: 'STATIC IP', value: (u) => u.staticIp },
  { header: 'CHAP-MD5', value: (u) => u.chapMd5 },
  { header: 'CREATED', value: (u) => u.createdAt },
];

const TENANT_OPTION = ['-t, --tenant <tenantId>', 'the tenant'] as const;

interface UserOptions {
  tenant: string;
  staticIp?: string;
  chapMd5?: boolean;
}

export function usersCommand(ctx: CliContext): Command {
  const users = new Command('users').description('a tenant\'s VPN users (passwords are read from standard input, never the command line)');
  const base = (t: string) => `/v1/tenants/${seg(t)}/users`;
  const one = (t: string, u: string) => `${base(t)}/${seg(u)}`;
  const password = (what: string) => readSecret(ctx.io.stdin, ctx.io.stderr, `${what}: `, 'password');

  users
    .command('list')
    .description('list a tenant\'s users with their lock state and failed logins')
    .requiredOption(...TENANT_OPTION)
    .action(async (o: UserOptions, cmd: Command) => {
      printList(ctx, cmd, await ctx.client().listAll<UserView>(base(o.tenant)), USER_COLUMNS);
    });

  users
    .command('show')
    .description('show one user')
    .argument('<username>')
    .requiredOption(...TENANT_OPTION)
    .action(async (username: string, o: UserOptions, cmd: Command) => {
      printRecord(ctx, cmd, (await ctx.client().request('GET', one(o.tenant, username))).body);
    });

  users
    .command('create')
    .description('create a user; the password is read from standard input (a prompt on a terminal)')
    .argument('<username>')
    .requiredOption(...TENANT_OPTION)
    .option('--static-ip <ip>', 'a fixed address inside one of the tenant\'s pools')
    .option('--chap-md5', 'keep a sealed copy of the password for CHAP-MD5 (default when the tenant allows it)')
    .option('--no-chap-md5', 'keep no CHAP-MD5 copy')
    .action(async (username: string, o: UserOptions, cmd: Command) => {
      const body = {
        username,
        password: await password(`password for ${username}`),
        ...(o.staticIp !== undefined ? { staticIp: o.staticIp } : {}),
        ...(o.chapMd5 !== undefined ? { chapMd5: o.chapMd5 } : {}),
      };
      printRecord(ctx, cmd, (await ctx.client().request('POST', base(o.tenant), { body })).body);
    });

  users
    .command('password')
    .description('set a user\'s password, read from standard input (a prompt on a terminal)')
    .argument('<username>')
    .requiredOption(...TENANT_OPTION)
    .action(async (username: string, o: UserOptions, cmd: Command) => {
      const body = { password: await password(`new password for ${username}`) };
      const { body: answer } = await ctx.client().request<Record<string, unknown>>('PATCH', one(o.tenant, username), { body });
      printRecord(ctx, cmd, answer);
    });

  users
    .command('lock')
    .description('disable a user: new logins are refused (user-disabled) and the user\'s sessions are ended')
    .argument('<username>')
    .requiredOption(...TENANT_OPTION)
    .action(async (username: string, o: UserOptions, cmd: Command) => {
      const { body } = await ctx.client().request<{ sessionsEnded?: number }>('PATCH', one(o.tenant, username), { body: { disabled: true } });
      if (!jsonMode(cmd)) note(ctx, `${username} disabled; ${body.sessionsEnded ?? 0} session(s) being ended`);
      printRecord(ctx, cmd, body);
    });

  users
    .command('unlock')
    .description('enable a user and lift the lock after failed logins (clears the failure count)')
    .argument('<username>')
    .requiredOption(...TENANT_OPTION)
    .action(async (username: string, o: UserOptions, cmd: Command) => {
      const client = ctx.client();
      await client.request('PATCH', one(o.tenant, username), { body: { disabled: false } });
      await client.request('POST', `${one(o.tenant, username)}/unlock`);
      printRecord(ctx, cmd, (await client.request('GET', one(o.tenant, username))).body);
    });

  users
    .command('delete')
    .description('delete a user and end the user\'s sessions')
    .argument('<username>')
    .requiredOption(...TENANT_OPTION)
    .action(async (username: string, o: UserOptions, cmd: Command) => {
      await ctx.client().request('DELETE', one(o.tenant, username));
      if (jsonMode(cmd)) ctx.io.stdout.write(`${JSON.stringify({ tenantId: o.tenant, username, deleted: true })}\n`);
      else note(ctx, `user ${username} of ${o.tenant} deleted`);
    });

  users
    .command('import')
    .description('create users from a CSV file (header: username,password[,staticIp][,chapMd5]); progress on stderr; exit 6 if some rows failed')
    .argument('<file>', 'the CSV file (mode 0600: it holds passwords)')
    .requiredOption(...TENANT_OPTION)
    .action(async (file: string, o: UserOptions, cmd: Command) => {
      let text: string;
      try {
        text = ctx.io.readFile(file);
      } catch (error) {
        throw new UsageError(`cannot read ${file}: ${(error as Error).message}`, 'give the path of a readable CSV file');
      }
      const parsed = parseUsersCsv(text);
      if (!parsed.ok) throw new UsageError(`${file} is not a users file:\n  ${parsed.errors.join('\n  ')}`, 'fix the listed lines; nothing was imported');
      const client = ctx.client();
      const results: { line: number; username: string; ok: boolean; error?: { status: number; code: string; message: string; field?: string } }[] = [];
      const total = parsed.rows.length;
      for (const [i, row] of parsed.rows.entries()) {
        const { line, ...fields } = row;
        try {
          await client.request('POST', base(o.tenant), { body: fields });
          results.push({ line, username: row.username, ok: true });
          note(ctx, `[${i + 1}/${total}] ${row.username}: created`);
        } catch (error) {
          if (!(error instanceof ApiError)) throw error;
          const e = { status: error.status, code: error.code, message: error.apiMessage, ...(error.field !== undefined ? { field: error.field } : {}) };
          results.push({ line, username: row.username, ok: false, error: e });
          note(ctx, `[${i + 1}/${total}] ${row.username}: failed (line ${line}): ${error.message}`);
        }
      }
      const failed = results.filter((r) => !r.ok).length;
      if (jsonMode(cmd)) ctx.io.stdout.write(`${JSON.stringify({ created: total - failed, failed, results }, null, 2)}\n`);
      else ctx.io.stdout.write(`${total - failed} created, ${failed} failed\n`);
      if (failed) throw new CliError(EXIT.partial, `${failed} of ${total} users were not created`, 'fix those lines and import a file of just them');
    });

  return users;
}
