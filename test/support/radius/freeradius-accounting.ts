/**
 * A real FreeRADIUS 3 accounting server for integration tests: its own configuration in a
 * temporary directory (nothing of /etc/freeradius is read but the dictionaries), listening for
 * accounting only on 127.0.0.1 at a free port, started in the foreground (`freeradius -X -f -d`)
 * and stopped by the test. Its `preacct` runs an `acct_unique` policy and its `accounting` writes
 * every request to a `detail` file, which `records()` parses. It can be stopped and started again
 * on the same port and file (an accounting server that is down for a while).
 *
 * Every Accounting-Response carries a Message-Authenticator (the reply list gets one, which
 * FreeRADIUS then computes), because the broker requires one.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeUdpPort } from '../free-udp-port';

/** The FreeRADIUS binary (Debian's package names it freeradius). */
const BINARY = ['/usr/sbin/freeradius', '/usr/sbin/radiusd'].find((p) => existsSync(p));

/** Why FreeRADIUS cannot run here, or undefined when it can. */
export function freeRadiusUnavailable(): string | undefined {
  if (!BINARY) return 'freeradius is not installed (apt-get install freeradius; .ci/run does)';
  const version = spawnSync(BINARY, ['-v'], { encoding: 'utf8' });
  return version.status === 0 || /FreeRADIUS Version 3\./.test(version.stdout) ? undefined : `freeradius -v failed: ${version.stderr}`;
}

/** One request as the detail file records it: attribute name -> value (quotes removed), and when. */
export interface DetailRecord {
  readonly written: string;
  readonly attributes: Readonly<Record<string, string>>;
}

export interface FreeRadiusAccounting {
  readonly port: number;
  readonly secret: string;
  readonly detailPath: string;
  /** Every request written so far, in order. */
  records(): DetailRecord[];
  /** Stops the server (the port stays unanswered until `start`). */
  stop(): Promise<void>;
  /** Starts it again on the same port and detail file. */
  start(): Promise<void>;
  /** Stops it and removes the temporary directory. */
  close(): Promise<void>;
  /** Its debug output so far (for failure messages). */
  output(): string;
}

export interface FreeRadiusOptions {
  readonly secret: string;
  /** Add a Message-Authenticator to every Accounting-Response. @default true */
  readonly messageAuthenticator?: boolean;
}

export async function startFreeRadiusAccounting(options: FreeRadiusOptions): Promise<FreeRadiusAccounting> {
  if (!BINARY) throw new Error(freeRadiusUnavailable());
  const dir = mkdtempSync(join(tmpdir(), 'freeradius-acct-'));
  const port = await freeUdpPort();
  const detailPath = join(dir, 'detail');
  for (const sub of ['log', 'run', 'radacct']) mkdirSync(join(dir, sub));
  writeFileSync(join(dir, 'radiusd.conf'), radiusdConf(dir, port, options.secret, detailPath, options.messageAuthenticator ?? true));
  let child: ChildProcess | undefined;
  let log = '';

  const start = async () => {
    if (child) return;
    const proc = spawn(BINARY, ['-X', '-f', '-d', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`freeradius did not become ready in 20 s:\n${log.slice(-4000)}`)), 20_000);
      const onData = (chunk: Buffer) => {
        log += chunk.toString('utf8');
        if (log.includes('Ready to process requests')) {
          clearTimeout(timer);
          resolve();
        }
      };
      proc.stdout!.on('data', onData);
      proc.stderr!.on('data', onData);
      proc.once('exit', (code) => {
        clearTimeout(timer);
        if (child === proc) child = undefined;
        reject(new Error(`freeradius exited with ${code}:\n${log.slice(-4000)}`));
      });
    });
  };

  const stop = async () => {
    const proc = child;
    if (!proc) return;
    child = undefined;
    await new Promise<void>((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
    });
  };

  await start();
  return {
    port,
    secret: options.secret,
    detailPath,
    records: () => (existsSync(detailPath) ? parseDetail(readFileSync(detailPath, 'utf8')) : []),
    start,
    stop,
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
    output: () => log,
  };
}

/** Parses a detail file: blocks of `\tName = Value` lines under a time line, separated by blank lines. */
export function parseDetail(text: string): DetailRecord[] {
  const out: DetailRecord[] = [];
  for (const block of text.split(/\n\s*\n/)) {
    const lines = block.split('\n').filter((l) => l.trim() !== '');
    if (lines.length === 0) continue;
    const attributes: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const m = /^\s+([A-Za-z0-9-]+) = (.*)$/.exec(line);
      if (m) attributes[m[1]!] = m[2]!.replace(/^"(.*)"$/, '$1');
    }
    out.push({ written: lines[0]!.trim(), attributes });
  }
  return out;
}

function radiusdConf(dir: string, port: number, secret: string, detailPath: string, mac: boolean): string {
  return `# Written by test/support/radius/freeradius-accounting.ts
prefix = /usr
exec_prefix = /usr
sysconfdir = ${dir}
localstatedir = ${dir}
sbindir = /usr/sbin
logdir = ${dir}/log
raddbdir = ${dir}
radacctdir = ${dir}/radacct
confdir = ${dir}
run_dir = ${dir}/run
db_dir = ${dir}
libdir = /usr/lib/freeradius
dictdir = /usr/share/freeradius
pidfile = ${dir}/run/radiusd.pid
name = freeradius
max_request_time = 30
cleanup_delay = 5
max_requests = 1024
hostname_lookups = no

log {
	destination = stdout
	colourise = no
	file = ${dir}/log/radius.log
	stripped_names = no
	auth = no
}

security {
	allow_core_dumps = no
	max_attributes = 200
	reject_delay = 0
	status_server = no
}

thread pool {
	start_servers = 1
	max_servers = 2
	min_spare_servers = 1
	max_spare_servers = 2
	max_requests_per_server = 0
}

client broker {
	ipaddr = 127.0.0.1
	secret = "${secret}"
}

modules {
	# %{md5:...} of the acct_unique policy.
	expr {
	}
	detail {
		filename = ${detailPath}
		escape_filenames = no
		permissions = 0600
		header = "%t"
		locking = no
	}
}

policy {
	# The same key FreeRADIUS's own acct_unique builds from the request.
	acct_unique {
		update request {
			&Acct-Unique-Session-Id := "%{md5:%{User-Name},%{Acct-Session-Id},%{%{NAS-IPv6-Address}:-%{NAS-IP-Address}},%{NAS-Identifier},%{NAS-Port-ID},%{NAS-Port}}"
		}
	}
}

server default {
	listen {
		type = acct
		ipaddr = 127.0.0.1
		port = ${port}
	}
	preacct {
		acct_unique
	}
	accounting {
		detail${mac ? `
		update reply {
			&Message-Authenticator := 0x00
		}` : ''}
	}
}
`;
}
