/**
 * The server side in the guest's "server" namespace: charon, and the project's agent
 * (`node bin/edge-agent.js`) talking to the broker on the host over the TAP.
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
import { SERVER_ADDRESS } from './topology';

export type IpsecMode = 'agent' | 'harness' | 'off';

export interface AgentLaunch {
  readonly brokerUrl: string;
  readonly agentId: string;
  readonly agentToken: string;
  readonly ipsec: IpsecMode;
  readonly psk: string;
}

const REPO = resolve(import.meta.dirname, '../../..');
export const AGENT_TUN = 'tbr0';
/** Short interim period so scenarios see counters at the broker while a session is active. */
export const INTERIM_INTERVAL_SECONDS = 2;

/** Starts charon (unless IPsec is off) and the agent; resolves once the agent listens on udp/1701. */
export async function startServer(guest: Guest, launch: AgentLaunch): Promise<{ agentReadyMs: number }> {
  if (launch.ipsec !== 'off') await ensureCharon(guest, 'server');
  if (launch.ipsec === 'harness') {
    await guest.writeFile('server', '/etc/swanctl/swanctl.conf', serverSwanctlConf(launch.psk), '600');
    await guest.must('server', 'swanctl --load-all --clear --noprompt', { timeoutMs: 15_000 });
  }
  const env: Record<string, string> = {
    BROKER_URL: launch.brokerUrl,
    AGENT_ID: launch.agentId,
    AGENT_TOKEN: launch.agentToken,
    L2TP_LISTEN: `${SERVER_ADDRESS}:1701`,
    PUBLIC_ADDRESS: SERVER_ADDRESS,
    TUN_NAME: AGENT_TUN,
    MTU: '1400',
    IPSEC: launch.ipsec === 'agent' ? 'strongswan' : 'off',
    VICI_SOCKET: '/run/charon.vici',
    ALLOW_PLAIN_L2TP: launch.ipsec === 'agent' ? 'false' : 'true',
    STATE_DIR: '/run/edge-agent',
    LOG_LEVEL: 'debug',
    INTERIM_INTERVAL_SECONDS: String(INTERIM_INTERVAL_SECONDS),
  };
  const assignments = Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ');
  const started = Date.now();
  await guest.must(
    'server',
    `mkdir -p /run/edge-agent && rm -f /run/edge-agent/pid && cd '${REPO}' &&
     setsid -f sh -c 'echo $$ > /run/edge-agent/pid; exec env ${assignments} "$0" bin/edge-agent.js' '${process.execPath}' >>/run/log/agent.log 2>&1 </dev/null`,
  );
  const ready = await guest.sh(
    'server',
    `i=0; until ss -Hlun 'sport = :1701' | grep -q 1701; do
       i=$((i+1)); [ $i -gt 300 ] && exit 1; sleep 0.2
       [ -f /run/edge-agent/pid ] && ! kill -0 $(cat /run/edge-agent/pid) 2>/dev/null && exit 2; done; exit 0`,
    { timeoutMs: 70_000 },
  );
  if (ready.code !== 0) {
    const log = await guest.sh('server', 'tail -n 15 /run/log/agent.log');
    throw new E2eError(`agent did not start (${ready.code === 2 ? 'exited' : `no udp/1701: exit ${ready.code} ${ready.stderr.trim()}`}): ${log.stdout.trim().slice(-600)}`);
  }
  return { agentReadyMs: Date.now() - started };
}

/** SIGTERM to the agent (graceful: it reports its sessions stopped), bounded. */
export async function stopAgent(guest: Guest): Promise<void> {
  await guest.sh(
    'server',
    `pid=$(cat /run/edge-agent/pid 2>/dev/null) || exit 0
     kill -TERM $pid 2>/dev/null || exit 0
     i=0; while kill -0 $pid 2>/dev/null && [ $i -lt 50 ]; do i=$((i+1)); sleep 0.2; done
     kill -KILL $pid 2>/dev/null; true`,
    { timeoutMs: 20_000 },
  );
}
