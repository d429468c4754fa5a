/**
 * Throwaway network namespaces, for privileged tests and for the agents the local stack's autoscaler
 * runs: a namespace joined to the host namespace by a veth pair with addresses from 10.231.<n>.0/30
 * (n picked per namespace, unused on this host), a way to run commands inside it, and cleanup that
 * also happens when the creating process exits abnormally. Names are `<prefix>-<pid>-<label>-<tag>`,
 * so namespaces of a process that died (even by SIGKILL) are recognised and removed by the next one.
 * Root only: call `netnsSkipReason()` first and skip with its message.
 */
import { execFile, spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
/** Tests' namespaces; the local stack uses its own prefix (scripts/lib/stack/). */
export const TEST_NETNS_PREFIX = 'tbt';
/** Subnet locks are shared by every prefix: they guard one address range. */
const LOCK_PREFIX = 'tunnel-broker-netns';

export interface Netns {
  /** Namespace name (`ip netns exec <name> ...`). */
  readonly name: string;
  /** Host end of the veth pair and its address (/30). */
  readonly hostInterface: string;
  readonly hostAddress: string;
  /** Namespace end and its address. */
  readonly nsInterface: string;
  readonly nsAddress: string;
  /** Run a command inside the namespace; resolves with its exit code and output (never rejects on a non-zero exit). */
  exec(command: string, args?: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Start a long-running process inside the namespace (`ip netns exec`). */
  spawn(command: string, args: readonly string[], options?: SpawnOptions): ChildProcess;
  /** Delete the namespace and the veth pair; idempotent. */
  delete(): Promise<void>;
}

/** Why namespace tests cannot run here, or undefined when they can. */
export function netnsSkipReason(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'needs root (CAP_NET_ADMIN for ip netns, veth and TUN)';
  if (spawnSync('ip', ['-V']).status !== 0) return 'needs iproute2 (`ip`)';
  if (!existsSync('/dev/net/tun')) return 'needs /dev/net/tun';
  return undefined;
}

const live = new Set<string>();
let exitHookInstalled = false;

/** Synchronous last-resort cleanup when the process exits without running the tests' after() hooks. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const name of live) {
      const pids = spawnSync('ip', ['netns', 'pids', name], { encoding: 'utf8' }).stdout ?? '';
      for (const pid of pids.split(/\s+/).filter(Boolean)) spawnSync('kill', ['-9', pid], { stdio: 'ignore' });
      spawnSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
    }
    for (const n of subnetsHeld) releaseSubnetFile(n);
  });
}

/** Creates a namespace with a veth link to the host namespace, both ends up, plus loopback inside. */
export async function createNetns(label = 'e2e', options: { prefix?: string } = {}): Promise<Netns> {
  const prefix = options.prefix ?? TEST_NETNS_PREFIX;
  await removeStaleNamespaces(prefix);
  const tag = randomBytes(3).toString('hex');
  const name = `${prefix}-${process.pid}-${label}-${tag}`;
  const hostInterface = `tbh${tag}`;
  const nsInterface = `tbn${tag}`;
  const subnet = await reserveSubnet();
  const hostAddress = `10.231.${subnet}.1`;
  const nsAddress = `10.231.${subnet}.2`;

  const inNs = (args: string[]) => run('ip', ['netns', 'exec', name, 'ip', ...args]);
  installExitHook();
  live.add(name);
  let deleted = false;
  const remove = async () => {
    if (deleted) return;
    deleted = true;
    await killInside(name);
    // Deleting the namespace destroys its veth end, which takes the host end with it; the link del is a safety net.
    await run('ip', ['netns', 'del', name]).catch(() => undefined);
    await run('ip', ['link', 'del', hostInterface]).catch(() => undefined);
    releaseSubnet(subnet);
    live.delete(name);
  };
  try {
    await run('ip', ['netns', 'add', name]);
    await run('ip', ['link', 'add', hostInterface, 'type', 'veth', 'peer', 'name', nsInterface]);
    await run('ip', ['link', 'set', nsInterface, 'netns', name]);
    await run('ip', ['addr', 'add', `${hostAddress}/30`, 'dev', hostInterface]);
    await run('ip', ['link', 'set', hostInterface, 'up']);
    await inNs(['addr', 'add', `${nsAddress}/30`, 'dev', nsInterface]);
    await inNs(['link', 'set', nsInterface, 'up']);
    await inNs(['link', 'set', 'lo', 'up']);
  } catch (error) {
    await remove();
    throw error;
  }

  return {
    name,
    hostInterface,
    hostAddress,
    nsInterface,
    nsAddress,
    async exec(command, args = []) {
      try {
        const { stdout, stderr } = await run('ip', ['netns', 'exec', name, command, ...args], { timeout: 60_000 });
        return { code: 0, stdout, stderr };
      } catch (error) {
        const e = error as { code?: number; stdout?: string; stderr?: string };
        return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(error) };
      }
    },
    spawn(command, args, options = {}) {
      return spawn('ip', ['netns', 'exec', name, command, ...args], options);
    },
    delete: remove,
  };
}

/**
 * A /30 index in 10.231.0.0/16 that no interface on the host uses and no other namespace being set
 * up holds. The address check alone raced: namespaces created at the same moment (a fleet of three
 * agents, parallel test files) could draw the same subnet before either had its address, and the
 * second one's agent then never reached the broker. A lock file per subnet, created exclusively,
 * settles the draw across processes; a lock whose process is gone is taken over.
 */
async function reserveSubnet(): Promise<number> {
  const { stdout } = await run('ip', ['-o', '-4', 'addr', 'show']);
  const used = new Set([...stdout.matchAll(/inet 10\.231\.(\d+)\./g)].map((m) => Number(m[1])));
  for (let tries = 0; tries < 64; tries++) {
    const n = randomBytes(1)[0] as number;
    if (!used.has(n) && lockSubnet(n)) return n;
  }
  throw new Error('no free 10.231.<n>.0/30 test subnet');
}

const subnetLock = (n: number) => join(tmpdir(), `${LOCK_PREFIX}-subnet-${n}.lock`);

function lockSubnet(n: number): boolean {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(subnetLock(n), String(process.pid), { flag: 'wx' });
      subnetsHeld.add(n);
      return true;
    } catch {
      let holder: number;
      try {
        holder = Number(readFileSync(subnetLock(n), 'utf8').trim());
      } catch {
        continue; // released meanwhile: try again
      }
      // An empty file is a lock being written right now.
      if (!(holder > 0) || holder === process.pid || isAlive(holder)) return false;
      releaseSubnetFile(n); // left by a crashed run
    }
  }
  return false;
}

const subnetsHeld = new Set<number>();

function releaseSubnet(n: number): void {
  if (subnetsHeld.delete(n)) releaseSubnetFile(n);
}

function releaseSubnetFile(n: number): void {
  try {
    unlinkSync(subnetLock(n));
  } catch {
    // already gone
  }
}

/** Namespaces of earlier runs whose process is gone (a crash that skipped even the exit hook, e.g. SIGKILL). */
export async function removeStaleNamespaces(prefix: string): Promise<void> {
  const { stdout } = await run('ip', ['netns', 'list']).catch(() => ({ stdout: '' }));
  for (const match of stdout.matchAll(new RegExp(`^(${prefix}-(\\d+)-\\S+)`, 'gm'))) {
    const pid = Number(match[2]);
    if (pid === process.pid || isAlive(pid)) continue;
    await killInside(match[1] as string);
    await run('ip', ['netns', 'del', match[1] as string]).catch(() => undefined);
  }
}

/** SIGKILL whatever still runs inside the namespace (a process there keeps it alive after `ip netns del`). */
async function killInside(name: string): Promise<void> {
  const { stdout } = await run('ip', ['netns', 'pids', name]).catch(() => ({ stdout: '' }));
  for (const pid of stdout.split(/\s+/).filter(Boolean).map(Number)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
