/**
 * Figure 5, disconnect latency (issue 18): from the start of an operator's DELETE /v1/sessions/{id}
 * to the client's PPP link going down (the simulator receiving the agent's LCP Terminate-Request),
 * for N simulator sessions on one agent (the real CLI), DELETEd at concurrency 32. The broker runs
 * the production heartbeat (30 s). Two modes in the same run, alternating which goes first by
 * round: command nudges on (COMMAND_NUDGE_PORT), and off, the heartbeat-only baseline.
 */
import { forkChild, type ChildRpc } from './child-rpc';
import { startAgentProcess, type AgentProcess } from './agent-process';
import { jsonClient } from './http-client';
import { percentile, sleep } from './stats';
import { freeUdpPort } from '../support/free-udp-port';
import { fixturePassword } from '../support/fixture-password';

export interface DisconnectOptions {
  readonly sessions: number;
  readonly rounds: number;
  readonly nodeArgs?: readonly string[];
}

export interface DisconnectMode {
  readonly mode: 'nudge' | 'heartbeat';
  readonly sessions: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Sessions not down within the wait (counted, left out of the percentiles). */
  readonly notDown: number;
  /** How long the DELETEs themselves took (all N at concurrency 32). */
  readonly deleteSeconds: number;
}

export const DISCONNECT_HEARTBEAT_SECONDS = 30;

export async function benchDisconnect(options: DisconnectOptions, log: (line: string) => void): Promise<{ heartbeatSeconds: number; rounds: DisconnectMode[][] }> {
  const broker = await forkChild(new URL('./broker-child.ts', import.meta.url).pathname, {
    env: { BENCH_HEARTBEAT_SECONDS: String(DISCONNECT_HEARTBEAT_SECONDS) },
    ...(options.nodeArgs ? { execArgv: [...options.nodeArgs] } : {}),
  });
  const rounds: DisconnectMode[][] = [];
  try {
    for (let round = 0; round < options.rounds; round++) {
      const order: DisconnectMode['mode'][] = round % 2 === 0 ? ['nudge', 'heartbeat'] : ['heartbeat', 'nudge'];
      const results: DisconnectMode[] = [];
      for (const mode of order) results.push(await oneMode(broker, mode, round, options, log));
      rounds.push(results);
    }
  } finally {
    await broker.close();
  }
  return { heartbeatSeconds: DISCONNECT_HEARTBEAT_SECONDS, rounds };
}

async function oneMode(broker: ChildRpc, mode: DisconnectMode['mode'], round: number, options: DisconnectOptions, log: (line: string) => void): Promise<DisconnectMode> {
  const info = await broker.call<{ url: string; adminToken: string }>('info');
  const tenantId = `dc${round}${mode[0]}${Date.now().toString(36)}`;
  await broker.call('seed', { tenantId, cidr: `10.${210 + (round % 20)}.${mode === 'nudge' ? 0 : 128}.0/17`, users: ['bench'] });
  const { agentId, token } = await broker.call<{ agentId: string; token: string }>('enrol', { name: `bench-disconnect-${mode}` });
  let agent: AgentProcess | undefined;
  let sim: ChildRpc | undefined;
  const admin = jsonClient(info.url, info.adminToken, 32);
  try {
    agent = await startAgentProcess({
      brokerUrl: info.url,
      agentId,
      token,
      tunName: `tbbd${process.pid % 1000}${mode[0]}`,
      nudgePort: mode === 'nudge' ? await freeUdpPort() : 0,
      ...(options.nodeArgs ? { nodeArgs: options.nodeArgs } : {}),
    });
    sim = await forkChild(new URL('./sim-child.ts', import.meta.url).pathname, options.nodeArgs ? { execArgv: [...options.nodeArgs] } : {});
    const opened = await sim.call<{ ok: number; failed: number }>('open', {
      server: { address: '127.0.0.1', port: agent.port },
      username: `bench@${tenantId}`,
      password: fixturePassword('bench'),
      sessions: options.sessions,
      sessionsPerTunnel: 25,
      tunnelsPerSource: 20,
      firstSource: 2000 + round * 100 + (mode === 'nudge' ? 0 : 50),
      pendingBudget: 1000,
      redialForMs: 60_000,
    });
    const active = await broker.call<{ sessionId: string; assignedIp: string }[]>('activeSessionIds', { tenantId });
    log(`disconnect (${mode}): ${opened.ok} sessions up (${opened.failed} failed), ${active.length} active at the broker`);
    // Let the agent's first heartbeats pass, so the heartbeat-only mode sees a random phase.
    await sleep(2000 + Math.random() * 3000);
    await sim.call('watchDown');
    const startedAt = new Map<string, number>();
    const queue = [...active];
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        for (let s = queue.shift(); s; s = queue.shift()) {
          startedAt.set(s.assignedIp, Date.now());
          const res = await admin.delete(`/v1/sessions/${s.sessionId}`);
          if (res.status !== 202) log(`disconnect (${mode}): DELETE ${s.sessionId} answered ${res.status}`);
        }
      }),
    );
    const deleteSeconds = (performance.now() - t0) / 1000;
    // Everything is down within a heartbeat interval plus the agent's work; wait at most twice that.
    const waitUntil = Date.now() + 2 * DISCONNECT_HEARTBEAT_SECONDS * 1000 + 10_000;
    let down: Record<string, number> = {};
    for (;;) {
      down = await sim.call<Record<string, number>>('downAt');
      if (Object.keys(down).length >= startedAt.size || Date.now() > waitUntil) break;
      await sleep(500);
    }
    const latencies: number[] = [];
    for (const [address, at] of startedAt) {
      const d = down[address];
      if (d !== undefined) latencies.push(d - at);
    }
    latencies.sort((a, b) => a - b);
    const figures: DisconnectMode = {
      mode,
      sessions: startedAt.size,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      maxMs: latencies.at(-1) ?? NaN,
      notDown: startedAt.size - latencies.length,
      deleteSeconds,
    };
    log(`disconnect (${mode}): p50 ${figures.p50Ms} ms, p99 ${figures.p99Ms} ms, max ${figures.maxMs} ms, ${figures.notDown} not down; ${startedAt.size} DELETEs took ${deleteSeconds.toFixed(1)} s`);
    await sim.call('closeAll');
    return figures;
  } finally {
    admin.close();
    await sim?.close(30_000);
    await agent?.stop();
  }
}
