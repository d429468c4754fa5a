/**
 * Stock xl2tpd (the Debian package, /usr/sbin/xl2tpd) as the tunnel-setup baseline: started in the
 * foreground (-D) with its own configuration, pid and control files in a temp dir, listening on its
 * own loopback port, IPsec SAref off, no tunnel authentication; its log (stderr, a line per tunnel
 * like ours) goes to a file in that dir. Stopped with SIGTERM.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../scripts/lib/dynamodb-local';
import { sleep } from './stats';

export const XL2TPD = '/usr/sbin/xl2tpd';

export interface Xl2tpdProcess {
  readonly pid: number;
  readonly port: number;
  /** Resident set size in bytes (VmRSS). */
  rss(): number;
  /** User + system CPU seconds so far. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

export function xl2tpdInstalled(): boolean {
  return existsSync(XL2TPD);
}

export async function startXl2tpd(): Promise<Xl2tpdProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-xl2tpd-'));
  const port = await freePort();
  // Tunnels only: the LNS section is what xl2tpd answers an SCCRQ with; no session ever asks for its range.
  writeFileSync(
    join(dir, 'xl2tpd.conf'),
    [
      '[global]',
      'listen-addr = 127.0.0.1',
      `port = ${port}`,
      'ipsec saref = no',
      'access control = no',
      '',
      '[lns default]',
      'ip range = 10.251.0.2-10.251.0.254',
      'local ip = 10.251.0.1',
      'require authentication = no',
      'hostname = xl2tpd-bench',
      '',
    ].join('\n'),
  );
  const log = openSync(join(dir, 'xl2tpd.log'), 'a');
  const child = spawn(XL2TPD, ['-D', '-c', join(dir, 'xl2tpd.conf'), '-p', join(dir, 'pid'), '-C', join(dir, 'control')], { stdio: ['ignore', log, log] });
  closeSync(log);
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const pid = child.pid!;
  const deadline = Date.now() + 10_000;
  while (!readFileSync(join(dir, 'xl2tpd.log'), 'utf8').includes('Listening on IP address')) {
    if (child.exitCode !== null) throw new Error(`xl2tpd exited during start-up (${child.exitCode}): ${readFileSync(join(dir, 'xl2tpd.log'), 'utf8')}`);
    if (Date.now() > deadline) throw new Error('xl2tpd did not listen within 10 s');
    await sleep(50);
  }
  return {
    pid,
    port,
    rss: () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024,
    cpuSeconds: () => {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in USER_HZ
    },
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
