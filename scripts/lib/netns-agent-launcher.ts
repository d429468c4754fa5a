/**
 * The local scaling provider's launcher: enrols an agent with the broker's admin API and runs
 * `bin/edge-agent.js` inside a fresh network namespace joined to the host by a veth pair. The agent
 * listens on the namespace's veth address (what the tenant endpoint hands to clients) and reaches
 * the broker either over a Unix socket (`brokerSocket`: the broker can stay on 127.0.0.1, as in
 * the local stack) or on the host end of its veth (then the broker must listen on an address the
 * namespace can reach, e.g. 0.0.0.0 on a test machine). Namespaces come from an injected factory
 * (scripts/lib/netns.ts) so this file holds no `ip` plumbing of its own. Agents run as owned
 * processes: they end with the process that launched them, even when it is SIGKILLed.
 */
import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { LocalAgentLauncher, LocalAgentProcess } from '../../functions/src/domain/autoscaling/local-provider';
import { followFile } from './follow-file';
import { spawnOwned } from './owned-process';

/** The part of a namespace the launcher uses (scripts/lib/netns.ts `Netns` fits). */
export interface AgentNamespace {
  readonly name: string;
  readonly hostAddress: string;
  readonly nsAddress: string;
  delete(): Promise<void>;
}

export interface Enrolment {
  readonly agentId: string;
  readonly token: string;
}

export interface NetnsAgentLauncherOptions {
  readonly createNamespace: (label: string) => Promise<AgentNamespace>;
  readonly enrol: (name: string) => Promise<Enrolment>;
  /** The broker's TCP port; the agent uses http://<host veth address>:<port> unless `brokerSocket` is set. */
  readonly brokerPort: number;
  /** The broker's Unix socket: agents use it instead of the veth (the broker may listen on 127.0.0.1 only). */
  readonly brokerSocket?: string;
  /** Agents' state directories are `<stateRoot>/<name>`. @default a fresh temporary directory each, removed at stop */
  readonly stateRoot?: string;
  /**
   * Agents write their output to `<logDir>/<name>.log` themselves and the launcher follows the file,
   * so an agent outlives nothing it writes to (see follow-file.ts). @default pipes to this process
   */
  readonly logDir?: string;
  readonly capacity: number;
  /** @default bin/edge-agent.js of this checkout */
  readonly agentBin?: string;
  readonly l2tpPort?: number;
  /** Extra agent environment (e.g. LOG_LEVEL). */
  readonly env?: Readonly<Record<string, string>>;
  /** Every agent log line (parsed JSON, or `{ msg }`), e.g. to keep for failure messages. */
  readonly onLog?: (agentId: string, line: Record<string, unknown>) => void;
  /** @default 30000 */
  readonly readyTimeoutMs?: number;
  /** SIGTERM to SIGKILL. @default 10000 */
  readonly stopGraceMs?: number;
}

/** A launched agent with what tests need beyond the provider's view. */
export interface NetnsAgent extends LocalAgentProcess {
  readonly token: string;
  readonly namespace: AgentNamespace;
  /** The agent's watchdog (scripts/lib/owned-process.ts); its output is the agent's. */
  readonly child: ChildProcess;
  /** Signals the agent and its watchdog together (SIGKILL: a crash, nothing cleaned up). */
  signal(signal: NodeJS.Signals): void;
  /** Resolves with the exit code (null after a signal) once the process has exited. */
  readonly exited: Promise<number | null>;
}

export class NetnsAgentLauncher implements LocalAgentLauncher {
  /** Every agent launched so far, by id. */
  readonly launched = new Map<string, NetnsAgent>();

  constructor(private readonly o: NetnsAgentLauncherOptions) {}

  async launch(name: string): Promise<NetnsAgent> {
    const cleanups: Array<() => Promise<unknown>> = [];
    const cleanup = async () => {
      for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
    };
    try {
      const ns = await this.o.createNamespace(name.replace(/[^a-z0-9]/gi, '').slice(-8) || 'agent');
      cleanups.push(() => ns.delete());
      const { agentId, token } = await this.o.enrol(name);
      let stateDir: string;
      if (this.o.stateRoot) {
        stateDir = join(this.o.stateRoot, name);
        await mkdir(stateDir, { recursive: true, mode: 0o700 });
      } else {
        stateDir = await mkdtemp(join(tmpdir(), 'local-agent-'));
        cleanups.push(() => rm(stateDir, { recursive: true, force: true }));
      }
      const logPath = this.o.logDir ? join(this.o.logDir, `${name}.log`) : undefined;
      const logFd = logPath ? openSync(logPath, 'a', 0o600) : undefined;
      const logFrom = logPath ? statSync(logPath).size : 0;
      const owned = spawnOwned('ip', ['netns', 'exec', ns.name, process.execPath, this.o.agentBin ?? resolve('bin/edge-agent.js')], {
        ...(logFd !== undefined ? { stdio: ['ignore', logFd, logFd] } : {}),
        env: {
          PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
          ...(this.o.brokerSocket
            ? { BROKER_URL: `http://127.0.0.1:${this.o.brokerPort}`, BROKER_SOCKET: this.o.brokerSocket }
            : { BROKER_URL: `http://${ns.hostAddress}:${this.o.brokerPort}` }),
          AGENT_ID: agentId,
          AGENT_TOKEN: token,
          L2TP_LISTEN: `${ns.nsAddress}:${this.o.l2tpPort ?? 1701}`,
          TUN_NAME: 'tbr0',
          IPSEC: 'off',
          ALLOW_PLAIN_L2TP: 'true',
          STATE_DIR: stateDir,
          PUBLIC_ADDRESS: ns.nsAddress,
          CAPACITY: String(this.o.capacity),
          LOG_LEVEL: 'info',
          ...this.o.env,
        },
      });
      const child = owned.child;
      const exited = owned.exited.then((code) => (code > 128 ? null : code));
      const gone = owned.gone;
      cleanups.push(() => owned.stop(0));
      const tail: string[] = [];
      let registered!: () => void;
      const ready = new Promise<void>((done) => (registered = done));
      const onOutput = (text: string) => {
        let line: Record<string, unknown>;
        try {
          line = JSON.parse(text) as Record<string, unknown>;
        } catch {
          line = { msg: text };
        }
        if (line.msg === 'registered with the broker') registered();
        tail.push(text);
        if (tail.length > 30) tail.shift();
        this.o.onLog?.(agentId, line);
      };
      if (logPath && logFd !== undefined) {
        closeSync(logFd);
        const follower = followFile(logPath, logFrom, onOutput);
        void owned.exited.then(() => follower.stop());
      } else {
        createInterface({ input: child.stdout! }).on('line', onOutput);
        createInterface({ input: child.stderr! }).on('line', (text) => tail.push(`stderr: ${text}`));
      }
      const timeoutMs = this.o.readyTimeoutMs ?? 30_000;
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        ready.then(() => 'ready' as const),
        exited.then(() => 'exited' as const),
        new Promise<'timeout'>((done) => (timer = setTimeout(() => done('timeout'), timeoutMs))),
      ]);
      clearTimeout(timer);
      if (outcome !== 'ready') throw new Error(`agent ${name} (${agentId}) ${outcome === 'exited' ? 'exited' : `not registered within ${timeoutMs} ms`}:\n${tail.join('\n')}`);

      const stopGraceMs = this.o.stopGraceMs ?? 10_000;
      let stopping: Promise<void> | undefined;
      const agent: NetnsAgent = {
        agentId,
        token,
        address: ns.nsAddress,
        namespace: ns,
        child,
        signal: (signal) => {
          if (child.pid !== undefined && !gone()) process.kill(-child.pid, signal);
        },
        exited,
        stop: () =>
          (stopping ??= (async () => {
            await owned.stop(stopGraceMs);
            await cleanup();
          })()),
      };
      this.launched.set(agentId, agent);
      return agent;
    } catch (error) {
      await cleanup();
      throw error;
    }
  }
}

/** Enrols agents through the broker's admin API (POST /v1/agents). */
export function adminApiEnroller(brokerUrl: string, adminToken: string, options: { capacity: number; region?: string }): (name: string) => Promise<Enrolment> {
  return async (name) => {
    const response = await fetch(`${brokerUrl}/v1/agents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name, region: options.region ?? 'local', capacity: options.capacity }),
    });
    const body = (await response.json()) as { agent?: { agentId: string }; token?: string };
    if (response.status !== 201 || !body.agent || !body.token) throw new Error(`enrolling ${name}: HTTP ${response.status} ${JSON.stringify(body)}`);
    return { agentId: body.agent.agentId, token: body.token };
  };
}
