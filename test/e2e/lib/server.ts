/**
 * The agents in the guest: charon and the project's agent (`node bin/edge-agent.js`) talking to
 * the broker on the host over the TAP. Two sites:
 *  - `server` namespace: the agent owns 198.51.100.1 itself (no NAT), as most scenarios need;
 *  - `cloud` namespace: a VM with only a private address behind the `igw` namespace's 1:1 NAT
 *    (public 198.51.100.2), running the agent's cloud NAT mode (CLOUD_NAT=on|off).
 *
 * IPsec ownership (`IpsecMode`):
 *  - `agent`:   (default) the agent drives charon over VICI (IPSEC=strongswan, ALLOW_PLAIN_L2TP=false):
 *               it loads the broker's PSK and connection; the harness only starts charon.
 *  - `harness`: the agent runs IPSEC=off ALLOW_PLAIN_L2TP=true and the harness loads the server
 *               connection and PSK into charon with swanctl (kept for comparison).
 *  - `off`:     no IPsec anywhere; plain L2TP scenarios only.
 */
import { resolve } from 'node:path';
import { serverSwanctlConf } from './configs';
import { ensureCharon } from './clients';
import { E2eError } from './errors';
import type { Guest } from './guest';
import { CLOUD_PUBLIC_ADDRESS, SERVER_ADDRESS } from './topology';

export type IpsecMode = 'agent' | 'harness' | 'off';
export type AgentSite = 'server' | 'cloud';

export interface AgentLaunch {
  readonly brokerUrl: string;
  readonly agentId: string;
  readonly agentToken: string;
  readonly ipsec: IpsecMode;
  readonly psk: string;
  /** Default `server`. */
  readonly site?: AgentSite;
  /** `cloud` site: CLOUD_NAT for the agent. */
  readonly cloudNat?: 'on' | 'off';
  /** `cloud` site: CLOUD_NAT_IPTABLES (UML's kernel has no nftables NAT: iptables-legacy there). */
  readonly iptables?: string;
  /** More agent settings (e.g. L2TP_MARKS=off for a negative control). */
  readonly env?: Readonly<Record<string, string>>;
}

const REPO = resolve(import.meta.dirname, '../../..');
export const AGENT_TUN = 'tbr0';
/** Short interim period so scenarios see counters at the broker while a session is active. */
export const INTERIM_INTERVAL_SECONDS = 2;

function agentEnv(launch: AgentLaunch): Record<string, string> {
  const cloud = launch.site === 'cloud';
  return {
    BROKER_URL: launch.brokerUrl,
    AGENT_ID: launch.agentId,
    AGENT_TOKEN: launch.agentToken,
    // In the cloud the agent listens on any address, as the fleet's boot script leaves it; the
    // cloud NAT mode then binds it to the public address.
    L2TP_LISTEN: cloud ? '0.0.0.0:1701' : `${SERVER_ADDRESS}:1701`,
    PUBLIC_ADDRESS: cloud ? CLOUD_PUBLIC_ADDRESS : SERVER_ADDRESS,
    ...(cloud ? { CLOUD_NAT: launch.cloudNat ?? 'on', CLOUD_NAT_IPTABLES: launch.iptables ?? 'iptables' } : {}),
    TUN_NAME: AGENT_TUN,
    MTU: '1400',
    IPSEC: launch.ipsec === 'agent' ? 'strongswan' : 'off',
    VICI_SOCKET: '/run/charon.vici',
    ALLOW_PLAIN_L2TP: launch.ipsec === 'agent' ? 'false' : 'true',
    STATE_DIR: '/run/edge-agent',
    LOG_LEVEL: 'debug',
    INTERIM_INTERVAL_SECONDS: String(INTERIM_INTERVAL_SECONDS),
    ...launch.env,
  };
}

/** Starts charon (unless IPsec is off) and the agent; resolves once the agent listens on udp/1701. */
/** Exit statuses of an agent killed by SIGILL, SIGABRT, SIGBUS, SIGSEGV: a crash of the runtime, not of the configuration. */
const CRASH_STATUSES = new Set([132, 134, 135, 139]);

/**
 * Starts charon (unless IPsec is off) and the agent; resolves once the agent listens on udp/1701.
 * An agent that crashed at start with a signal is started again (up to twice), and the result says
 * so: under QEMU TCG, Node segfaulted before its first log line in about half of the starts that
 * followed a SIGKILL of the previous agent (and once after a clean stop); never under UML.
 */
export async function startServer(guest: Guest, launch: AgentLaunch): Promise<{ agentReadyMs: number; crashedAtStart?: string }> {
  const ns = launch.site ?? 'server';
  if (launch.ipsec !== 'off') await ensureCharon(guest, ns);
  if (launch.ipsec === 'harness') {
    await guest.writeFile(ns, '/etc/swanctl/swanctl.conf', serverSwanctlConf(launch.psk), '600');
    await guest.must(ns, 'swanctl --load-all --clear --noprompt', { timeoutMs: 15_000 });
  }
  const assignments = Object.entries(agentEnv(launch)).map(([k, v]) => `${k}=${v}`).join(' ');
  const started = Date.now();
  let crashedAtStart: string | undefined;
  for (let attempt = 1; ; attempt++) {
    // The pid file (the agent's own pid) appears whole (mv): the readiness loop below reads it, and
    // an empty file read between `>` and the write looked like an agent that had exited (seen under
    // TCG). The shell around it logs how the agent ended (137: SIGKILL, e.g. the OOM killer).
    await guest.must(
      ns,
      `mkdir -p /run/edge-agent && rm -f /run/edge-agent/pid && cd '${REPO}' &&
       setsid -f sh -c 'env ${assignments} "$0" bin/edge-agent.js & echo $! > /run/edge-agent/pid.new && mv /run/edge-agent/pid.new /run/edge-agent/pid
         wait $!; rc=$?; echo "[harness] agent process $(cat /run/edge-agent/pid) ended with status $rc" >&2' '${process.execPath}' >>/run/log/agent.log 2>&1 </dev/null`,
    );
    const ready = await guest.sh(
      ns,
      `i=0; until ss -Hlun 'sport = :1701' | grep -q 1701; do
         i=$((i+1)); [ $i -gt $((300*E2E_SCALE)) ] && exit 1; sleep 0.2
         [ -f /run/edge-agent/pid ] && ! kill -0 $(cat /run/edge-agent/pid) 2>/dev/null && exit 2; done; exit 0`,
      { timeoutMs: 70_000 },
    );
    if (ready.code === 0) return { agentReadyMs: Date.now() - started, ...(crashedAtStart ? { crashedAtStart } : {}) };
    const log = await guest.sh(ns, "sleep 0.5; tail -n 15 /run/log/agent.log; dmesg | grep -iE 'out of memory|killed process' | tail -2");
    // The last status line is this start's (earlier ones are the agents stopped or killed before).
    const status = Number([...log.stdout.matchAll(/\[harness\] agent process \d+ ended with status (\d+)/g)].at(-1)?.[1]);
    if (ready.code === 2 && CRASH_STATUSES.has(status) && attempt < 3) {
      crashedAtStart = `the agent crashed at start (status ${status}${attempt > 1 ? `, ${attempt} times` : ''}) and was started again`;
      continue;
    }
    throw new E2eError(`agent (${ns}) did not start (${ready.code === 2 ? `exited${Number.isNaN(status) ? '' : ` with status ${status}`}` : `no udp/1701: exit ${ready.code} ${ready.stderr.trim()}`}): ${log.stdout.trim().slice(-600)}`);
  }
}

/** SIGTERM to the agent (graceful: it reports its sessions stopped, and removes its cloud NAT set-up), bounded. */
export async function stopAgent(guest: Guest, site: AgentSite = 'server'): Promise<void> {
  await guest.sh(
    site,
    `pid=$(cat /run/edge-agent/pid 2>/dev/null) || exit 0
     kill -TERM $pid 2>/dev/null || exit 0
     i=0; while kill -0 $pid 2>/dev/null && [ $i -lt $((50*E2E_SCALE)) ]; do i=$((i+1)); sleep 0.2; done
     kill -KILL $pid 2>/dev/null; true`,
    { timeoutMs: 20_000 },
  );
}

/** SIGKILL to the agent: a crash, which leaves its host set-up behind for the next start. */
export async function killAgent(guest: Guest, site: AgentSite): Promise<void> {
  await guest.sh(
    site,
    `pid=$(cat /run/edge-agent/pid 2>/dev/null) || exit 0
     kill -KILL $pid 2>/dev/null
     i=0; while kill -0 $pid 2>/dev/null && [ $i -lt $((50*E2E_SCALE)) ]; do i=$((i+1)); sleep 0.1; done; true`,
    { timeoutMs: 10_000 },
  );
}
