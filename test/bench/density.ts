/**
 * Figures 3 and 4 on one agent (the edge-agent CLI as a child), broker and DynamoDB Local:
 *   setup rate  sessions/s the simulator establishes end to end (L2TP + PPP + MS-CHAPv2 + start);
 *   density     (RSS with N sessions - RSS before) / N, after holding them for `holdSeconds` with
 *               LCP echo and L2TP HELLO running; agent CPU over the hold = the idle keepalive cost;
 *   storm       every session drops at once (LCP Terminate, CDN, StopCCN) and all reconnect at once:
 *               time until all are up, failures, duplicate addresses (simulator's view and the broker's).
 */
import type { ChildRpc } from './child-rpc';
import { forkChild } from './child-rpc';
import { startAgentProcess, type AgentProcess } from './agent-process';
import { describeCpu, findPid, startCpuMeter, type CpuSplit } from './cpu-meter';
import { sleep } from './stats';
import { fixturePassword } from '../support/fixture-password';

export interface DensityOptions {
  readonly sessions: number;
  readonly holdSeconds: number;
  /** LCP echo and HELLO interval during the hold. */
  readonly keepaliveSeconds: number;
  /** Node flags for the agent and simulator children (e.g. `--cpu-prof`), from `--profile=DIR`. */
  readonly nodeArgs?: readonly string[];
  /** Write an agent heap snapshot here after the hold (SIGUSR2 + --heapsnapshot-signal). */
  readonly heapSnapshotDir?: string;
  /** Storm: failed clients redial until this long after the drop (like clients set to reconnect). @default 600000 */
  readonly stormRedialMs?: number;
}

export interface DensityFigures {
  readonly sessions: number;
  readonly setupSeconds: number;
  readonly setupsPerSec: number;
  readonly setupFailed: number;
  readonly rssBefore: number;
  readonly rssAfter: number;
  readonly bytesPerSession: number;
  readonly idleCpuPercent: number;
  readonly holdSeconds: number;
  /** CPU seconds by process during the setup burst (and the storm's in `storm.cpu`). */
  readonly setupCpu: CpuSplit;
  readonly storm: { cpu: CpuSplit; sessions: number; seconds: number; failed: number; redials: number; duplicateAddresses: number; reasons: Record<string, number> };
}

interface OpenResult {
  seconds: number;
  ok: number;
  failed: number;
  reasons: Record<string, number>;
  duplicateAddresses: number;
  /** Sessions placed again after a failed attempt. */
  redials: number;
}

export async function benchDensity(broker: ChildRpc, options: DensityOptions, log: (line: string) => void): Promise<DensityFigures> {
  const info = await broker.call<{ url: string; endpoint: string }>('info');
  const tenantId = `dn${Date.now().toString(36)}`;
  // A /16: room for every session twice (old leases may still be held while the storm reconnects).
  await broker.call('seed', { tenantId, cidr: '10.203.0.0/16', users: ['bench'] });
  const { agentId, token } = await broker.call<{ agentId: string; token: string }>('enrol', { name: 'bench-density' });
  let agent: AgentProcess | undefined;
  let sim: ChildRpc | undefined;
  try {
    agent = await startAgentProcess({ brokerUrl: info.url, agentId, token, tunName: `tbbn${process.pid % 10000}`, nodeArgs: [...(options.nodeArgs ?? []), ...(options.heapSnapshotDir ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${options.heapSnapshotDir}`] : [])] });
    sim = await forkChild(new URL('./sim-child.ts', import.meta.url).pathname, options.nodeArgs ? { execArgv: [...options.nodeArgs] } : {});
    // 25 sessions per tunnel: the agent accepts at most 32 calls pending (ICRQ without ICCN) per tunnel.
    const open = (firstSource: number, pacing: { pendingBudget?: number; redialForMs?: number }) =>
      sim!.call<OpenResult>('open', {
        ...pacing,
        server: { address: '127.0.0.1', port: agent!.port },
        username: `bench@${tenantId}`,
        password: fixturePassword('bench'),
        sessions: options.sessions,
        sessionsPerTunnel: 25,
        tunnelsPerSource: 20,
        firstSource,
        echoIntervalMs: options.keepaliveSeconds * 1000,
        helloIntervalMs: options.keepaliveSeconds * 1000,
        setupMs: 120_000,
      });
    await sleep(2000);
    const rssBefore = agent.rss();
    const pids = { broker: broker.child.pid, dynamo: findPid(['-port', new URL(info.endpoint).port]), agent: agent.pid, sim: sim.child.pid, bench: process.pid };
    const setupMeter = startCpuMeter(pids);
    let calls = await broker.call<Record<string, number>>('storeCalls');
    /** DynamoDB requests per session since the last call, by operation. */
    const callsPerSession = async (sessions: number) => {
      const now = await broker.call<Record<string, number>>('storeCalls');
      const delta = Object.entries(now).map(([op, n]) => `${op} ${((n - (calls[op] ?? 0)) / Math.max(1, sessions)).toFixed(2)}`).join(', ');
      calls = now;
      return delta;
    };
    // The first setup is paced (at most 3,000 sessions in setup at once): the density figure
    // wants every session up, and an unpaced burst beyond what the broker serves within the
    // clients' 30 s CHAP wait would just fail. 3,000 keeps the agent's 128 broker slots busy (2
    // calls per setup; a 400 budget left them half idle: 152/s) while a client waits ~10 s at
    // 300 setups/s. The storm below is the unpaced burst.
    const setup = await open(0, { pendingBudget: 3000, redialForMs: 120_000 });
    const setupCpu = setupMeter.stop();
    log(`density: ${setup.ok} sessions up in ${setup.seconds.toFixed(1)} s (${(setup.ok / setup.seconds).toFixed(1)}/s), ${setup.failed} failed, ${setup.redials} redials ${JSON.stringify(setup.reasons)}`);
    log(`density: CPU during setup: ${describeCpu(setupCpu)}`);
    log(`density: DynamoDB requests per session during setup: ${await callsPerSession(setup.ok)}`);
    // Let the broker reports and route setup settle before the idle measurement.
    await sleep(3000);
    const cpu0 = agent.cpuSeconds();
    const t0 = performance.now();
    await sleep(options.holdSeconds * 1000);
    const idleCpuPercent = ((agent.cpuSeconds() - cpu0) / ((performance.now() - t0) / 1000)) * 100;
    const stillUp = await sim.call<number>('up');
    const rssAfter = agent.rss();
    const bytesPerSession = (rssAfter - rssBefore) / Math.max(1, setup.ok);
    if (options.heapSnapshotDir) {
      process.kill(agent.pid, 'SIGUSR2');
      await sleep(Math.max(5000, options.sessions * 3)); // the snapshot blocks the agent while it is written
    }
    log(`density: ${stillUp} still up after ${options.holdSeconds} s; RSS ${(rssBefore / 2 ** 20).toFixed(0)} -> ${(rssAfter / 2 ** 20).toFixed(0)} MiB = ${(bytesPerSession / 1024).toFixed(1)} KiB/session; idle CPU ${idleCpuPercent.toFixed(1)}%`);

    // The storm: drop everything and redial at once, from other source ports (new client sockets).
    await sim.call('dropAll');
    await callsPerSession(1);
    const stormMeter = startCpuMeter(pids);
    const storm = await open(1000, { redialForMs: options.stormRedialMs ?? 600_000 });
    const stormCpu = stormMeter.stop();
    log(`storm: CPU: ${describeCpu(stormCpu)}`);
    log(`storm: DynamoDB requests per session: ${await callsPerSession(storm.ok)}`);
    const held = await broker.call<{ count: number; duplicates: number }>('activeSessions', { tenantId });
    log(`storm: ${storm.ok} up in ${storm.seconds.toFixed(1)} s, ${storm.failed} still failed, ${storm.redials} redials, attempts failed ${JSON.stringify(storm.reasons)}; broker: ${held.count} active, ${held.duplicates} duplicate addresses`);
    await sim.call('closeAll');
    return {
      sessions: options.sessions,
      setupSeconds: setup.seconds,
      setupsPerSec: setup.ok / setup.seconds,
      setupFailed: setup.failed,
      rssBefore,
      rssAfter,
      bytesPerSession,
      idleCpuPercent,
      holdSeconds: options.holdSeconds,
      setupCpu,
      storm: {
        cpu: stormCpu,
        sessions: options.sessions,
        seconds: storm.seconds,
        failed: options.sessions - storm.ok,
        redials: storm.redials,
        duplicateAddresses: storm.duplicateAddresses + held.duplicates,
        reasons: storm.reasons,
      },
    };
  } finally {
    await sim?.close(30_000);
    await agent?.stop();
  }
}
