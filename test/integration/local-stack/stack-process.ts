/**
 * The local stack as a user runs it: `npm start` in its own process group, with its own ports,
 * names and data directory (so stacks of parallel tests, or a developer's own, never collide), and
 * helpers to talk to it, follow its output and find every process it started.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../../scripts/lib/dynamodb-local';
import { freeUdpPort } from '../../support/free-udp-port';
import { openTunnels, type SimulatorRun } from '../../simulator';
import { fixturePassword } from '../../support/fixture-password';

export const TENANT = 'acme';

/** Intervals short enough for a test: heartbeats every second, dead after 4 s, addresses back 3 s later. */
export const FAST = {
  HEARTBEAT_INTERVAL_SECONDS: '1',
  REAPER_INTERVAL_SECONDS: '1',
  HEARTBEAT_TIMEOUT_MS: '4000',
  LEASE_GRACE_MS: '3000',
  AUTOSCALER_INTERVAL_SECONDS: '2',
} as const;

export interface StackNames {
  readonly port: number;
  readonly dynamodbPort: number;
  readonly dataDir: string;
  readonly l2tpPort: number;
  /** The built-in agent's command-nudge port (its own, so stacks of parallel tests never collide). */
  readonly nudgePort: number;
  /** The built-in agent's metrics TCP port on loopback (its own, for the same reason). */
  readonly metricsPort: number;
  readonly tunName: string;
}

/** Fresh ports, a data directory and a TUN name for one stack. */
export async function freshNames(): Promise<StackNames> {
  return {
    port: await freePort(),
    dynamodbPort: await freePort(),
    dataDir: mkdtempSync(join(tmpdir(), 'tb-stack-')),
    l2tpPort: 20_000 + (randomBytes(2).readUInt16BE(0) % 20_000),
    nudgePort: await freeUdpPort(),
    metricsPort: await freePort(),
    tunName: `tbs${randomBytes(3).toString('hex')}`,
  };
}

export interface StackProcess {
  readonly npm: ChildProcess;
  readonly names: StackNames;
  readonly url: string;
  readonly adminToken: string;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** Resolves once the output matches. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
  admin<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Every live process of the stack's tree (npm, its shell, node, watchdogs, java, agents). */
  processTree(): number[];
  /** The exit code (or signal) once npm has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGINT to the group (Ctrl-C) and wait for npm to exit. */
  stop(): Promise<void>;
}

/** All descendants of `pid` (and pid itself), from /proc. */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // exited meanwhile
    }
  }
  const all: number[] = [];
  const walk = (p: number) => {
    all.push(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(pid);
  return all;
}

export const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Starts `npm start -- <args>` and resolves once its banner is out (and the built-in agent registered, if asked). */
export async function startStackProcess(options: {
  names: StackNames;
  env?: Record<string, string>;
  args?: string[];
  startTimeoutMs?: number;
  /** Run as this (unprivileged) user, from root: `runuser -u <user> -- npm start`. */
  asUser?: string;
}): Promise<StackProcess> {
  const { names } = options;
  if (options.asUser) execFileSync('chown', ['-R', options.asUser, names.dataDir]);
  const [command, ...prefix] = options.asUser ? ['runuser', '-u', options.asUser, '--', 'env', `HOME=${names.dataDir}`, 'npm'] : ['npm'];
  const npm = spawn(command!, [...prefix, 'start', '--', ...(options.args ?? [])], {
    detached: true, // its own process group, like a terminal's foreground job
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      PORT: String(names.port),
      DYNAMODB_PORT: String(names.dynamodbPort),
      DATA_DIR: names.dataDir,
      AGENT_L2TP_LISTEN: `127.0.0.1:${names.l2tpPort}`,
      AGENT_COMMAND_NUDGE_PORT: String(names.nudgePort),
      AGENT_METRICS_LISTEN: `127.0.0.1:${names.metricsPort}`,
      AGENT_TUN_NAME: names.tunName,
      ...options.env,
    },
  });
  let text = '';
  const listeners = new Set<() => void>();
  const append = (chunk: Buffer) => {
    text += chunk.toString('utf8');
    for (const l of listeners) l();
  };
  npm.stdout!.on('data', append);
  npm.stderr!.on('data', append);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => npm.once('exit', (code, signal) => done({ code, signal })));
  const waitForOutput = (pattern: RegExp, timeoutMs = 60_000) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!pattern.test(text)) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no ${pattern} in the stack's output within ${timeoutMs} ms:\n${text}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        listeners.delete(check);
      };
      listeners.add(check);
      check();
    });
  await Promise.race([
    waitForOutput(/local stack is running[\s\S]*Ctrl-C/, options.startTimeoutMs ?? 90_000),
    exited.then(({ code }) => Promise.reject(new Error(`npm start exited (${code}) during start-up:\n${text}`))),
  ]);
  const url = `http://127.0.0.1:${names.port}`;
  const adminToken = readFileSync(join(names.dataDir, 'admin-token'), 'utf8').trim();
  const admin: StackProcess['admin'] = async (method, path, body) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const raw = await response.text();
    return { status: response.status, body: raw ? JSON.parse(raw) : undefined };
  };
  return {
    npm,
    names,
    url,
    adminToken,
    output: () => text,
    waitForOutput,
    admin,
    processTree: () => descendants(npm.pid!).filter(isAlive),
    exited,
    async stop() {
      if (npm.exitCode === null && npm.signalCode === null) process.kill(-npm.pid!, 'SIGINT');
      await exited;
    },
  };
}

/** Tenant `acme` with one pool and users alice, bob (password fixturePassword(name)). */
export async function seedTenant(stack: StackProcess, cidr: string): Promise<void> {
  const steps: [string, unknown][] = [
    ['/v1/tenants', { tenantId: TENANT, name: 'Acme', authMethods: ['mschapv2', 'pap'] }],
    [`/v1/tenants/${TENANT}/pools`, { poolId: 'main', cidr, dns: ['192.0.2.53'] }],
    [`/v1/tenants/${TENANT}/users`, { username: 'alice', password: fixturePassword('alice') }],
  ];
  for (const [path, body] of steps) {
    const { status, body: answer } = await stack.admin('POST', path, body);
    if (status !== 201) throw new Error(`seeding ${path}: ${status} ${JSON.stringify(answer)}`);
  }
}

/** `count` simulated sessions of alice through the L2TP server at address:port. */
export async function connectSessions(server: { address: string; port: number }, count: number, localAddress?: string): Promise<SimulatorRun> {
  return openTunnels({
    server,
    ...(localAddress ? { localAddress } : {}),
    tunnels: 1,
    sessionsPerTunnel: count,
    credentials: () => ({ username: `alice@${TENANT}`, password: fixturePassword('alice'), method: 'mschapv2' }),
    timeouts: { setupMs: 20_000, closeMs: 2_000, echoIntervalMs: 0 },
  });
}


export const removeDataDir = (names: StackNames) => rmSync(names.dataDir, { recursive: true, force: true });
