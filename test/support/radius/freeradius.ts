/**
 * A real FreeRADIUS (Debian's `freeradius`, 3.2.x) for integration tests and e2e: its own minimal
 * config in a temporary directory, one auth listener on a loopback port, started in the foreground
 * and stopped by the test. The config enables pap, chap and mschap against a users file with
 * Cleartext-Password entries.
 *
 * Message-Authenticator in answers: FreeRADIUS 3.2.1 (Debian 12) adds it only to EAP answers, so
 * the config adds it in post-auth (Accept) and Post-Auth-Type REJECT unless `messageAuthenticator:
 * false` asks for a server that does not, the negative control for our client's refusal.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeUdpPort } from '../free-udp-port';

export const FREERADIUS_BINARY = '/usr/sbin/freeradius';

/** Why FreeRADIUS cannot run here, or undefined when it can. */
export function freeRadiusUnavailable(): string | undefined {
  const r = spawnSync(FREERADIUS_BINARY, ['-v'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return `FreeRADIUS not installed (${FREERADIUS_BINARY}); .ci/run installs the Debian package freeradius`;
  return undefined;
}

export interface FreeRadiusUser {
  readonly username: string;
  readonly password: string;
  /** Reply attributes in users-file syntax, e.g. ['Framed-IP-Address = 10.0.0.9', 'Session-Timeout = 600']. */
  readonly reply?: readonly string[];
}

export interface FreeRadiusOptions {
  readonly secret: string;
  readonly users: readonly FreeRadiusUser[];
  /** Add Message-Authenticator to Access-Accept and Access-Reject. Default true. */
  readonly messageAuthenticator?: boolean;
  /** Refuse requests without Message-Authenticator (clients.conf). Default true. */
  readonly requireMessageAuthenticator?: boolean;
  /** Listen here (default 127.0.0.1 and a free port). */
  readonly address?: string;
  readonly port?: number;
  /** Clients allowed, as CIDRs (default 127.0.0.0/8). */
  readonly clients?: readonly string[];
}

export interface FreeRadius {
  readonly address: string;
  readonly port: number;
  /** What the server printed (its log goes to stdout). */
  log(): string;
  stop(): Promise<void>;
}

function quote(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function config(dir: string, o: FreeRadiusOptions, address: string, port: number): string {
  const mac = o.messageAuthenticator ?? true;
  const addMac = mac ? 'update reply {\n\t\t\tMessage-Authenticator := 0x00\n\t\t}' : '';
  const clients = (o.clients ?? ['127.0.0.0/8'])
    .map(
      (cidr, i) => `client c${i} {
\tipaddr = ${cidr}
\tsecret = ${quote(o.secret)}
\trequire_message_authenticator = ${o.requireMessageAuthenticator ?? true ? 'yes' : 'no'}
\tnas_type = other
}`,
    )
    .join('\n');
  return `prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = ${dir}
sbindir = /usr/sbin
logdir = ${dir}
raddbdir = ${dir}
radacctdir = ${dir}
name = freeradius
confdir = ${dir}
modconfdir = ${dir}
run_dir = ${dir}
db_dir = ${dir}
libdir = /usr/lib/freeradius
pidfile = ${dir}/radiusd.pid
max_request_time = 10
cleanup_delay = 2
max_requests = 16384
hostname_lookups = no
log {
\tdestination = stdout
\tauth = yes
\tauth_badpass = no
\tauth_goodpass = no
}
security {
\tallow_core_dumps = no
\tmax_attributes = 200
\treject_delay = 0
\tstatus_server = no
}
thread pool {
\tstart_servers = 2
\tmax_servers = 8
\tmin_spare_servers = 1
\tmax_spare_servers = 4
\tmax_requests_per_server = 0
}
${clients}
modules {
\tpap {
\t\tnormalise = yes
\t}
\tchap {
\t}
\tmschap {
\t\tuse_mppe = no
\t}
\tfiles {
\t\tfilename = ${dir}/users
\t\tacctusersfile = ${dir}/acct_users
\t\tpreproxy_usersfile = ${dir}/preproxy_users
\t}
}
server default {
\tlisten {
\t\ttype = auth
\t\tipaddr = ${address}
\t\tport = ${port}
\t}
\tauthorize {
\t\tfiles
\t\tchap
\t\tmschap
\t\tpap
\t}
\tauthenticate {
\t\tAuth-Type PAP {
\t\t\tpap
\t\t}
\t\tAuth-Type CHAP {
\t\t\tchap
\t\t}
\t\tAuth-Type MS-CHAP {
\t\t\tmschap
\t\t}
\t}
\tpost-auth {
\t\t${addMac}
\t\tPost-Auth-Type REJECT {
\t\t\t${addMac}
\t\t}
\t}
}
`;
}

function usersFile(users: readonly FreeRadiusUser[]): string {
  return users
    .map((u) => {
      const reply = (u.reply ?? []).join(',\n\t');
      return `${quote(u.username)} Cleartext-Password := ${quote(u.password)}\n${reply ? `\t${reply}\n` : ''}`;
    })
    .join('\n');
}

/** Starts FreeRADIUS and resolves once it listens; rejects with its log when it fails to start. */
export async function startFreeRadius(options: FreeRadiusOptions): Promise<FreeRadius> {
  const dir = mkdtempSync(join(tmpdir(), 'freeradius-'));
  const address = options.address ?? '127.0.0.1';
  const port = options.port ?? (await freeUdpPort(address));
  writeFileSync(join(dir, 'radiusd.conf'), config(dir, options, address, port));
  writeFileSync(join(dir, 'dictionary'), '');
  writeFileSync(join(dir, 'users'), usersFile(options.users));
  writeFileSync(join(dir, 'acct_users'), '');
  writeFileSync(join(dir, 'preproxy_users'), '');
  let output = '';
  const child: ChildProcess = spawn(FREERADIUS_BINARY, ['-f', '-l', 'stdout', '-d', dir, '-n', 'radiusd'], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15_000;
  while (!/Ready to process requests/.test(output)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`FreeRADIUS did not start:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { address, port, log: () => output, stop };
}
