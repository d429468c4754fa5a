/**
 * The local stack's built-in edge agent: enrolled once with the local broker (id and token kept
 * in <DATA_DIR>/agent.json, mode 600), then run as an owned child process (scripts/lib/
 * owned-process.ts) that always talks to the broker of the current run. Its JSON logs go to a
 * file; its warnings and errors are echoed as one line each. When it exits on its own after having
 * run, it is restarted with a growing delay; when it cannot start (TUN name or L2TP port taken by
 * another stack), the reason and the setting that fixes it are reported and it is not retried.
 */
import { closeSync, existsSync, openSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { followFile } from './follow-file';
import { enrolAgent, type AdminClient } from './stack/admin-client';
import { spawnOwned, type OwnedProcess } from './owned-process';

export type LocalAgentState = 'starting' | 'running' | 'failed' | 'restarting' | 'stopped';

export interface LocalAgent {
  readonly agentId: string;
  state(): LocalAgentState;
  /** One line for the banner: where it listens, or why it failed and how to fix it. */
  describe(): string;
  /** SIGTERM (sessions end with agent-shutdown, reports delivered), SIGKILL after the grace. */
  stop(): Promise<void>;
}

export interface LocalAgentOptions {
  readonly brokerUrl: string;
  readonly admin: AdminClient;
  readonly dataDir: string;
  readonly l2tpListen: string;
  /** UDP port for command nudges on the L2TP listen address (0 = off). */
  readonly nudgePort?: number;
  /** METRICS_LISTEN of the agent (address:port or off); the agent's default when absent. */
  readonly metricsListen?: string;
  readonly tunName: string;
  /** charon's VICI socket when the agent requires IPsec. */
  readonly viciSocket?: string;
  readonly publicAddress?: string;
  readonly logLevel: string;
  /** A human line for the terminal. */
  readonly print: (line: string) => void;
  /** How long to wait for its registration with the broker. @default 30000 */
  readonly readyTimeoutMs?: number;
}

/** The capacity the built-in agent is enrolled with (and runs with). */
export const LOCAL_AGENT_CAPACITY = 1000;
const STOP_GRACE_MS = 10_000;

interface SavedEnrolment {
  readonly agentId: string;
  readonly token: string;
}

/** The saved enrolment when the broker still knows it and has not revoked it, else a new one. */
async function enrolment(options: LocalAgentOptions): Promise<SavedEnrolment> {
  const file = join(options.dataDir, 'agent.json');
  if (existsSync(file)) {
    // Earlier versions also saved the broker's URL; it is ignored: the current run's is used.
    const saved = JSON.parse(readFileSync(file, 'utf8')) as Partial<SavedEnrolment>;
    if (saved.agentId && saved.token && (await stillEnrolled(options.admin, saved.agentId, reportedAddress(options)))) return { agentId: saved.agentId, token: saved.token };
  }
  const created = await enrolAgent(options.admin, { name: 'local-agent', capacity: LOCAL_AGENT_CAPACITY });
  writeFileSync(file, `${JSON.stringify(created, null, 2)}\n`, { mode: 0o600 });
  return created;
}

/**
 * The public address the agent will report (edge-agent/src/runtime/launch.ts: PUBLIC_ADDRESS, else the
 * listen address, else the host name). The broker pins an agent's first address (issue 14), so a run
 * that would report another one enrols a new agent instead of reusing the saved one.
 */
function reportedAddress(options: Pick<LocalAgentOptions, 'publicAddress' | 'l2tpListen'>): string {
  if (options.publicAddress) return options.publicAddress;
  const host = options.l2tpListen.slice(0, options.l2tpListen.lastIndexOf(':')).replace(/^\[|\]$/g, '');
  return host === '0.0.0.0' || host === '::' ? hostname() : host;
}

async function stillEnrolled(admin: AdminClient, agentId: string, publicAddress: string): Promise<boolean> {
  let cursor: string | undefined;
  do {
    const { status, body } = await admin.request<{ items: { agentId: string; revoked?: boolean; publicAddress?: string }[]; cursor?: string }>(
      'GET',
      `/v1/agents?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    if (status !== 200) throw new Error(`listing agents: HTTP ${status}`);
    const found = body.items.find((a) => a.agentId === agentId);
    if (found) return !found.revoked && (found.publicAddress === undefined || found.publicAddress === publicAddress);
    cursor = body.cursor;
  } while (cursor);
  return false;
}

/** The setting that fixes a start-up failure the agent reported on stderr. */
export function fixFor(reason: string): string | undefined {
  if (/TUN device (\S+).*(busy|exists)/i.test(reason)) return 'another process (another stack?) uses that TUN device: set AGENT_TUN_NAME, e.g. AGENT_TUN_NAME=tbr1';
  if (/cannot listen on UDP .*in use/i.test(reason)) return 'another process (another stack?) has that L2TP port: set AGENT_L2TP_LISTEN, e.g. AGENT_L2TP_LISTEN=127.0.0.1:1702';
  if (/permission denied|CAP_NET_ADMIN/i.test(reason)) return 'run npm start as root (the agent needs CAP_NET_ADMIN for its TUN device)';
  return undefined;
}

/** Enrols (once) and starts the agent; resolves when it has registered, or has failed to start. */
export async function startLocalAgent(options: LocalAgentOptions): Promise<LocalAgent> {
  const { agentId, token } = await enrolment(options);
  const logPath = join(options.dataDir, 'logs', 'local-agent.log');
  let state: LocalAgentState = 'starting';
  let failure: string | undefined;
  let owned: OwnedProcess | undefined;
  let stopping = false;
  let restarts = 0;
  let restartTimer: NodeJS.Timeout | undefined;

  const launch = (): Promise<void> =>
    new Promise((settled) => {
      // The agent writes its log into the file itself (see follow-file.ts); this process follows it.
      const logFd = openSync(logPath, 'a', 0o600);
      const from = statSync(logPath).size;
      const child = spawnOwned(process.execPath, [resolve('bin/edge-agent.js')], {
        stdio: ['ignore', logFd, logFd],
        env: {
          ...process.env,
          BROKER_URL: options.brokerUrl,
          AGENT_ID: agentId,
          AGENT_TOKEN: token,
          L2TP_LISTEN: options.l2tpListen,
          ...(options.nudgePort !== undefined ? { COMMAND_NUDGE_PORT: String(options.nudgePort) } : {}),
          TUN_NAME: options.tunName,
          IPSEC: options.viciSocket ? 'strongswan' : 'off',
          ALLOW_PLAIN_L2TP: options.viciSocket ? 'false' : 'true',
          ...(options.viciSocket ? { VICI_SOCKET: options.viciSocket } : {}),
          STATE_DIR: join(options.dataDir, 'agent-state'),
          CAPACITY: String(LOCAL_AGENT_CAPACITY),
          LOG_LEVEL: options.logLevel,
          ...(options.metricsListen !== undefined ? { METRICS_LISTEN: options.metricsListen } : {}),
          ...(options.publicAddress ? { PUBLIC_ADDRESS: options.publicAddress } : {}),
        },
      });
      owned = child;
      const startedAt = Date.now();
      let lastError = '';
      let registered = false;
      closeSync(logFd);
      const follower = followFile(logPath, from, (text) => {
        let line: { level?: number; msg?: string; err?: unknown };
        try {
          line = JSON.parse(text) as typeof line;
        } catch {
          lastError = text.replace(/^edge-agent: /, ''); // the CLI's one-line reasons, on stderr
          return;
        }
        if (!registered && line.msg === 'registered with the broker') {
          registered = true;
          state = 'running';
          settled();
        }
        if ((line.level ?? 0) >= 40) options.print(`agent: ${line.msg ?? ''}${line.err ? ` (${String(line.err)})` : ''}`);
      });
      const timeoutMs = options.readyTimeoutMs ?? 30_000;
      const notReady = setTimeout(() => {
        if (registered) return;
        options.print(`agent: not registered with the broker within ${timeoutMs / 1000} s (still trying; see ${logPath})`);
        settled();
      }, timeoutMs);
      void child.exited.then((code) => {
        follower.stop();
        clearTimeout(notReady);
        if (stopping) return;
        const why = lastError || `exit code ${code}`;
        if (!registered && restarts === 0) {
          // It never came up: a setting is wrong (TUN name, port); retrying would fail the same way.
          state = 'failed';
          failure = why;
          settled();
          return;
        }
        // It ran, then stopped on its own: restart it, later each time, sooner again once it stays up.
        if (Date.now() - startedAt > 60_000) restarts = 0;
        const delayMs = Math.min(30_000, 1_000 * 2 ** restarts++);
        state = 'restarting';
        options.print(`agent: exited (${why}); restarting in ${delayMs / 1000} s`);
        restartTimer = setTimeout(() => void launch(), delayMs);
        settled();
      });
    });

  await launch();

  return {
    agentId,
    state: () => state,
    describe() {
      if (state === 'failed') {
        const fix = failure ? fixFor(failure) : undefined;
        return `FAILED: ${failure ?? 'exited'}${fix ? `\n                   fix: ${fix}` : ''}`;
      }
      const ipsec = options.viciSocket ? `IPsec required (charon at ${options.viciSocket})` : 'IPsec off (plain L2TP)';
      return `${agentId} ${state === 'running' ? 'registered' : state}: L2TP udp ${options.l2tpListen}, TUN ${options.tunName}, ${ipsec}; log ${logPath}`;
    },
    async stop() {
      stopping = true;
      clearTimeout(restartTimer);
      await owned?.stop(STOP_GRACE_MS);
      if (state !== 'failed') state = 'stopped';
    },
  };
}
