/**
 * Tunnel setup rate and memory per idle tunnel: the edge agent (the CLI as a child, IPsec off, its
 * default log level) against stock xl2tpd, driven by the same sequential client (tunnel-client.ts)
 * in the same run. Control connections only (SCCRQ -> SCCRP -> SCCCN, no sessions), each from its
 * own loopback source address (the agent caps tunnels per peer address, as it should).
 *   rate    tunnels set up per second by the one sequential client, median of rounds; within a
 *           round the servers take turns in slices of 100 tunnels (the first alternating), so a
 *           noisy neighbour on the shared machine slows both alike;
 *   memory  (RSS after the round - RSS before) / tunnels, every tunnel still up (idle);
 *   CPU     the server's user + system CPU per tunnel over the round.
 * Each round starts both servers afresh; a warm-up of 1,000 tunnels each (not counted, kept up) comes
 * before the RSS baseline: a fresh Node process runs its first tunnels several times slower than a
 * long-running agent (its code is not optimized yet: ~250 µs of CPU per tunnel for the first 100,
 * ~100 for the next thousand, ~45 after 2,000 in a micro-benchmark of the control path), and the
 * figure is about the agent as it runs for days. Memory and CPU are medians of rounds too.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAgentProcess, type AgentProcess } from './agent-process';
import { forkChild, type ChildRpc } from './child-rpc';
import { median, sleep } from './stats';
import { startXl2tpd, type Xl2tpdProcess } from './xl2tpd-process';

export interface TunnelSetupOptions {
  /** Tunnels per server per round. */
  readonly tunnels: number;
  readonly rounds: number;
  /** Tunnels per server and round before the RSS baseline (not counted). @default 1000 */
  readonly warmup?: number;
  /** Node flags for the agent (e.g. `--cpu-prof`). */
  readonly nodeArgs?: readonly string[];
}

export interface ServerFigures {
  /** Median over rounds. */
  readonly perSec: number;
  readonly perSecByRound: number[];
  readonly bytesPerTunnel: number;
  readonly cpuMsPerTunnel: number;
  readonly failed: number;
  /** Tunnels whose SCCCN the server did not acknowledge within the wait. */
  readonly unconfirmed: number;
}

export interface TunnelSetupFigures {
  readonly tunnels: number;
  readonly rounds: number;
  readonly agent: ServerFigures;
  readonly xl2tpd: ServerFigures;
}

interface RunResult {
  seconds: number;
  ok: number;
  failed: number;
}

const SLICE = 100;

interface Server {
  readonly name: 'agent' | 'xl2tpd';
  readonly port: number;
  rss(): number;
  cpuSeconds(): number;
}

/** Second octet of the client's source addresses (127.121.x.y): apart from the simulator's 127.0/16. */
const SOURCE_BASE = 121;

export async function benchTunnelSetup(broker: ChildRpc, options: TunnelSetupOptions, log: (line: string) => void): Promise<TunnelSetupFigures> {
  const info = await broker.call<{ url: string }>('info');
  const { agentId, token } = await broker.call<{ agentId: string; token: string }>('enrol', { name: 'bench-tunnels' });
  const warmup = options.warmup ?? 1000;
  const logDir = mkdtempSync(join(tmpdir(), 'bench-tunnels-'));
  let agent: AgentProcess | undefined;
  let xl2tpd: Xl2tpdProcess | undefined;
  let client: ChildRpc | undefined;
  const stats = { agent: newStats(), xl2tpd: newStats() };
  try {
    client = await forkChild(new URL('./tunnel-client.ts', import.meta.url).pathname);
    const sources = await client.call<number>('bind', { base: SOURCE_BASE, count: warmup + options.tunnels });
    log(`tunnels: ${sources} client sockets bound`);
    for (let round = 0; round < options.rounds; round++) {
      // Fresh servers each round: every round sets up `tunnels` tunnels from none (xl2tpd, for one,
      // gets slower the more tunnels it holds: it walks its tunnel list on every pass of its select loop).
      [agent, xl2tpd] = await Promise.all([
        startAgentProcess({
          brokerUrl: info.url,
          agentId,
          token,
          tunName: `tbtu${process.pid % 10000}`,
          ...(options.nodeArgs ? { nodeArgs: options.nodeArgs } : {}),
          // As deployed: the default log level (info), its lines written like a service's stdout.
          env: { LOG_LEVEL: 'info' },
          logFile: join(logDir, `agent-${round}.log`),
        }),
        startXl2tpd(),
      ]);
      const servers: Server[] = [
        { name: 'agent', port: agent.port, rss: agent.rss, cpuSeconds: agent.cpuSeconds },
        { name: 'xl2tpd', port: xl2tpd.port, rss: xl2tpd.rss, cpuSeconds: xl2tpd.cpuSeconds },
      ];
      // Our Assigned Tunnel IDs differ per round, so a server port seen again is no old tunnel.
      const run = (server: Server, first: number, count: number, ourTunnelId: number) =>
        client!.call<RunResult>('run', { server: { address: '127.0.0.1', port: server.port }, first, count, ourTunnelId });
      for (const server of servers) {
        const w = await run(server, 0, warmup, 1 + 2 * round);
        if (w.failed > 0) throw new Error(`tunnels: warm-up against ${server.name} failed ${w.failed} of ${warmup} setups`);
      }
      await sleep(1000);
      const rssBefore = servers.map((s) => s.rss());
      // CPU over the whole round, not per slice: each server's delayed work (acks, timers) counts too.
      const cpuBefore = servers.map((s) => s.cpuSeconds());
      const spent = servers.map(() => ({ seconds: 0, ok: 0, failed: 0 }));
      for (let first = 0, k = 0; first < options.tunnels; first += SLICE, k++) {
        const count = Math.min(SLICE, options.tunnels - first);
        for (const i of (round + k) % 2 === 0 ? [0, 1] : [1, 0]) {
          const r = await run(servers[i]!, warmup + first, count, 2 + 2 * round);
          spent[i]!.seconds += r.seconds;
          spent[i]!.ok += r.ok;
          spent[i]!.failed += r.failed;
        }
      }
      // Every SCCCN acknowledged (the agent's ZLB waits up to 100 ms for a piggy-back, §5.8), then settle.
      const confirmed: number[] = [];
      for (const [i, server] of servers.entries()) confirmed.push(await client.call<number>('confirmed', { port: server.port, ourTunnelIds: [1 + 2 * round, 2 + 2 * round], atLeast: warmup + spent[i]!.ok, timeoutMs: 5000 }));
      const cpu = servers.map((s, i) => s.cpuSeconds() - cpuBefore[i]!);
      await sleep(2000);
      for (const [i, server] of servers.entries()) {
        const sp = spent[i]!;
        const st = stats[server.name];
        st.rates.push(sp.ok / sp.seconds);
        st.bytes.push((server.rss() - rssBefore[i]!) / Math.max(1, sp.ok));
        st.cpuMs.push((cpu[i]! * 1000) / Math.max(1, sp.ok));
        st.failed += sp.failed;
        st.unconfirmed += warmup + sp.ok - confirmed[i]!;
        log(`tunnels: round ${round + 1} ${server.name}: ${sp.ok} up in ${sp.seconds.toFixed(2)} s = ${(sp.ok / sp.seconds).toFixed(0)}/s, ${st.bytes.at(-1)!.toFixed(0)} bytes and ${st.cpuMs.at(-1)!.toFixed(3)} CPU ms per tunnel, ${sp.failed} failed, ${warmup + sp.ok - confirmed[i]!} unconfirmed`);
      }
      // Servers before the client: their StopCCNs are acknowledged while it still listens.
      await Promise.all([xl2tpd.stop(), agent.stop()]);
      agent = xl2tpd = undefined;
    }
    const figures = (st: ReturnType<typeof newStats>): ServerFigures => ({
      perSec: median(st.rates),
      perSecByRound: st.rates,
      bytesPerTunnel: median(st.bytes),
      cpuMsPerTunnel: median(st.cpuMs),
      failed: st.failed,
      unconfirmed: st.unconfirmed,
    });
    return { tunnels: options.tunnels, rounds: options.rounds, agent: figures(stats.agent), xl2tpd: figures(stats.xl2tpd) };
  } finally {
    await xl2tpd?.stop();
    await agent?.stop();
    await client?.close();
    rmSync(logDir, { recursive: true, force: true });
  }
}

function newStats() {
  return { rates: [] as number[], bytes: [] as number[], cpuMs: [] as number[], failed: 0, unconfirmed: 0 };
}
