/**
 * Black-box e2e harness: a real broker (production app on DynamoDB Local) in the host namespace on the host end of a
 * veth pair, the edge agent as a child process (`bin/edge-agent.js`) inside a throwaway namespace listening on the
 * other end, and the simulator on the host side. Nothing of the agent is imported: only its CLI, env and JSON logs.
 */
import { appendFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { startLiveBroker, type LiveBroker, type LiveBrokerOptions } from './live-broker';
import { createNetns, type Netns } from '../../scripts/lib/netns';
import { openTunnels, type OpenTunnelsOptions, type SimulatorRun } from '../simulator';

const AGENT_BIN = fileURLToPath(new URL('../../bin/edge-agent.js', import.meta.url));
export const L2TP_PORT = 1701;

export interface AgentLogLine {
  readonly level?: number;
  readonly msg?: string;
  readonly [key: string]: unknown;
}

export interface BrokerSession {
  readonly sessionId: string;
  readonly username: string;
  readonly assignedIp: string;
  readonly state: 'active' | 'stopped';
  readonly endReason?: string;
  readonly tunnelId: number;
  readonly startedAt: string;
  readonly peerAddress?: string;
  readonly counters: { readonly bytesIn: number; readonly bytesOut: number; readonly packetsIn: number; readonly packetsOut: number };
}

export interface E2e {
  readonly ns: Netns;
  readonly broker: LiveBroker;
  readonly agentId: string;
  readonly agent: ChildProcess;
  readonly logs: AgentLogLine[];
  /** The agent's credential (to check where it shows up). */
  readonly token: string;
  /** Resolves with the agent's exit code once it has exited. */
  readonly agentExit: Promise<number | null>;
  /** The simulator pointed at the agent, from the host end of the veth. */
  open(options: Omit<OpenTunnelsOptions, 'server' | 'localAddress'>): Promise<SimulatorRun>;
  sessions(query?: Record<string, string>): Promise<BrokerSession[]>;
  /** Last agent log lines, for failure messages. */
  logTail(lines?: number): string;
  close(): Promise<void>;
}

export interface StartE2eOptions {
  readonly label: string;
  readonly tenantId: string;
  readonly users: string[];
  readonly cidr?: string;
  /** Hand the agent its credential in a 0600 file (AGENT_TOKEN_FILE) instead of AGENT_TOKEN. */
  readonly tokenInFile?: boolean;
  /** Broker settings on top of the live broker's (e.g. HEARTBEAT_INTERVAL_SECONDS, DATA_KEYS). */
  readonly brokerEnv?: Record<string, string>;
  /** Agent settings on top of the harness's (e.g. COMMAND_NUDGE_PORT). */
  readonly agentEnv?: Record<string, string>;
  /** The web console for the broker to serve (test/integration/console). */
  readonly consoleAssets?: LiveBrokerOptions['consoleAssets'];
}

/** Everything up: namespace, broker, seeded tenant, enrolled agent, agent listening and registered. */
export async function startE2e(options: StartE2eOptions): Promise<E2e> {
  const cleanups: Array<() => Promise<void>> = [];
  let logs: AgentLogLine[] = [];
  const close = async () => {
    for (const cleanup of cleanups.reverse()) {
      // Bounded: a stuck step (e.g. a server waiting for connections) must not keep the namespace alive.
      let timer: NodeJS.Timeout | undefined;
      const cap = new Promise<void>((resolve) => (timer = setTimeout(resolve, 20_000)));
      await Promise.race([cleanup().catch(() => undefined), cap]).finally(() => clearTimeout(timer));
    }
  };
  // E2E_AGENT_LOG=<file>: also stream the agent's JSON log to a file, for diagnosis.
  const keep = process.env.E2E_AGENT_LOG;
  if (keep) await writeFile(keep, '');
  try {
    const ns = await createNetns(options.label);
    cleanups.push(() => ns.delete());
    const broker = await startLiveBroker({
      host: ns.hostAddress,
      ...(options.brokerEnv ? { env: options.brokerEnv } : {}),
      ...(options.consoleAssets ? { consoleAssets: options.consoleAssets } : {}),
    });
    cleanups.push(() => broker.close());
    await broker.seedTenant(options.tenantId, {
      cidr: options.cidr ?? '10.8.0.0/24',
      users: options.users,
      authMethods: ['mschapv2', 'chap-md5', 'pap'],
    });
    const { agentId, token } = await broker.enrolAgent(`e2e-${options.label}`);
    const stateDir = await mkdtemp(join(tmpdir(), 'e2e-agent-'));
    cleanups.push(() => rm(stateDir, { recursive: true, force: true }));
    const secretDir = await mkdtemp(join(tmpdir(), 'e2e-agent-secret-'));
    cleanups.push(() => rm(secretDir, { recursive: true, force: true }));
    const tokenFile = join(secretDir, 'token');
    if (options.tokenInFile) await writeFile(tokenFile, `${token}\n`, { mode: 0o600 });

    const agent = ns.spawn(process.execPath, [AGENT_BIN], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
        BROKER_URL: broker.url,
        AGENT_ID: agentId,
        ...(options.tokenInFile ? { AGENT_TOKEN_FILE: tokenFile } : { AGENT_TOKEN: token }),
        L2TP_LISTEN: `${ns.nsAddress}:${L2TP_PORT}`,
        TUN_NAME: 'tbr0',
        MTU: '1400',
        IPSEC: 'off',
        ALLOW_PLAIN_L2TP: 'true',
        STATE_DIR: stateDir,
        PUBLIC_ADDRESS: ns.nsAddress,
        LOG_LEVEL: 'debug',
        ...options.agentEnv,
      },
    });
    logs = [];
    const stderr: string[] = [];
    const agentExit = new Promise<number | null>((resolve) => agent.once('exit', (code) => resolve(code)));
    cleanups.push(async () => {
      if (agent.exitCode === null && agent.signalCode === null) {
        agent.kill('SIGKILL');
        await agentExit;
      }
    });
    createInterface({ input: agent.stdout! }).on('line', (line) => {
      if (keep) appendFileSync(keep, `${line}\n`);
      try {
        logs.push(JSON.parse(line) as AgentLogLine);
      } catch {
        logs.push({ msg: line });
      }
    });
    createInterface({ input: agent.stderr! }).on('line', (line) => stderr.push(line));

    const logTail = (lines = 40) =>
      [...logs.slice(-lines).map((l) => JSON.stringify(l)), ...stderr.slice(-10).map((l) => `stderr: ${l}`)].join('\n');
    await eventually(
      'agent listening and registered',
      async () => {
        if (agent.exitCode !== null) throw new Error(`agent exited with ${agent.exitCode}:\n${logTail()}`);
        const listening = logs.some((l) => l.msg === 'edge agent listening');
        const registered = logs.some((l) => l.msg === 'registered with the broker');
        return listening && registered ? true : undefined;
      },
      { timeoutMs: 30_000, detail: logTail },
    );

    const sessions = async (query: Record<string, string> = {}) => {
      const qs = new URLSearchParams({ agentId, ...query }).toString();
      const response = await broker.admin<{ items: BrokerSession[] }>('GET', `/v1/sessions?${qs}`);
      if (response.status !== 200) throw new Error(`GET /v1/sessions: ${response.status} ${JSON.stringify(response.body)}`);
      return response.body.items;
    };
    const runs: SimulatorRun[] = [];
    cleanups.push(async () => {
      await Promise.all(runs.map((r) => r.close()));
    });
    return {
      ns,
      broker,
      agentId,
      agent,
      token,
      logs,
      agentExit,
      async open(sim) {
        const run = await openTunnels({ ...sim, server: { address: ns.nsAddress, port: L2TP_PORT }, localAddress: ns.hostAddress });
        runs.push(run);
        return run;
      },
      sessions,
      logTail,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Poll `probe` until it returns something other than undefined; fails after `timeoutMs` with `what` and detail. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  options: { timeoutMs?: number; intervalMs?: number; detail?: () => string } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  let last: unknown;
  for (;;) {
    try {
      // A probe that hangs (e.g. a request to a stopped broker) must not outlive the deadline.
      let timer: NodeJS.Timeout | undefined;
      const cap = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), Math.max(100, deadline - Date.now()))));
      const value = await Promise.race([probe(), cap]).finally(() => clearTimeout(timer));
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
      if (error instanceof Error && /agent exited/.test(error.message)) throw error;
    }
    if (Date.now() > deadline) {
      const cause = last instanceof Error ? ` (last error: ${last.message})` : '';
      throw new Error(`timed out waiting for ${what}${cause}${options.detail ? `\n--- agent log tail ---\n${options.detail()}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 200));
  }
}
