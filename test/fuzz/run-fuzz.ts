/**
 * The mutation fuzz run: mutated datagrams from a seeded `MutationStream`, sent over real UDP from
 * several loopback addresses and ports at a live agent, while victim sessions keep pinging through
 * it. Each sender also keeps a "sacrificial" tunnel + call of its own up, and half of its datagrams
 * are re-addressed to that tunnel/session, so mutations reach the tunnel engine, the reliable
 * transport, the AVP decoder and the PPP session instead of stopping at the tunnel lookup.
 * Measured: handler failures (log lines), event-loop delay, heap/RSS after GC, probe replies.
 */
import { randomBytes } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { openUdp, type DatagramSocket } from '../../edge-agent/src/io/udp';
import { createPppClientCrypto, type PppClientConfig } from '../../edge-agent/src/ppp';
import type { AgentStats } from '../../edge-agent/src/runtime/agent';
import { systemTimers } from '../../edge-agent/src/clock';
import type { TunnelLimits } from '../../edge-agent/src/runtime/tunnels';
import { LacHost, type TestCall, type TestLac } from '../support/agent/lac';
import { loadCorpus, type CorpusPacket } from './corpus';
import { startLiveTarget } from './live-target';
import { MutationStream, retarget, type MutationName, type StreamOp } from './mutate';
import { Prng } from './prng';
import { openVictim, type ProbeCounts } from './victim';

/**
 * Limits for the fuzz agent: the per-tunnel and per-address rates are raised so that mutations
 * reach the decoders instead of the token buckets (the flood tests cover the default limits);
 * half-open tunnels expire after 5 s so that expiry happens many times during a run.
 */
export const FUZZ_TUNNEL_LIMITS: Partial<TunnelLimits> = {
  sccrqBurst: 2000,
  sccrqPerSecond: 2000,
  controlBurst: 5000,
  controlPerSecond: 5000,
  halfOpenTimeoutMs: 5000,
  lingerMs: 5000,
};

export interface FuzzOptions {
  readonly packets: number;
  readonly seed: number;
  readonly corpus?: readonly CorpusPacket[];
  /** Source addresses of the senders (127.0.0.x are all on loopback). */
  readonly addresses?: readonly string[];
  readonly sendersPerAddress?: number;
  /** Established sessions that must keep forwarding. */
  readonly victims?: number;
  readonly probeIntervalMs?: number;
  /** Datagrams sent but not yet handed to the agent before the sender yields. */
  readonly window?: number;
  /** Share of datagrams re-addressed to the sender's own tunnel/session. */
  readonly retargetShare?: number;
  readonly onProgress?: (p: FuzzProgress) => void;
  readonly progressEvery?: number;
}

export interface FuzzProgress {
  readonly packets: number;
  readonly elapsedMs: number;
  readonly heapMB: number;
  readonly rssMB: number;
  readonly tunnels: number;
  readonly sessions: number;
  readonly handlerFailures: number;
}

export interface FuzzReport {
  readonly seed: number;
  readonly packets: number;
  /** Datagrams the agent's socket handed to the agent (fuzz + probes + handshakes). */
  readonly delivered: number;
  readonly durationMs: number;
  readonly handlerFailures: number;
  readonly errorLines: readonly string[];
  readonly maxLoopDelayMs: number;
  readonly p99LoopDelayMs: number;
  /** After GC, once warmed up (first 5 % of the packets) and at the end. */
  readonly heapMB: { readonly warm: number; readonly end: number; readonly growth: number };
  readonly rssMB: { readonly warm: number; readonly end: number; readonly growth: number };
  readonly probes: readonly ProbeCounts[];
  /** Sacrificial tunnels + calls brought up by the senders (each later broken by mutations). */
  readonly sacrificialCalls: number;
  /** A new client could still bring a session up and ping after the run. */
  readonly freshSessionAfterRun: boolean;
  readonly stats: AgentStats;
  readonly mutations: Record<MutationName | StreamOp, number>;
}

const mb = (n: number) => Math.round((n / (1 << 20)) * 10) / 10;

function collectGarbage(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

interface Sender {
  readonly socket: DatagramSocket;
  lac: TestLac | undefined;
  call: TestCall | undefined;
  openedAt: number;
}

/** Run the fuzzer against a fresh live agent; resolves with the figures (it asserts nothing). */
export async function runFuzz(o: FuzzOptions): Promise<FuzzReport> {
  const gc = collectGarbage();
  const corpus = o.corpus ?? loadCorpus();
  const rng = new Prng(o.seed);
  const stream = new MutationStream(corpus, rng);
  const target = await startLiveTarget({ tunnelLimits: FUZZ_TUNNEL_LIMITS });
  const timers = systemTimers();
  const server = { address: target.address, port: target.port };
  const victims = await Promise.all(Array.from({ length: o.victims ?? 2 }, (_, i) => openVictim(target, { localTunnelId: 100 + i })));
  const senders: Sender[] = [];
  for (const address of o.addresses ?? ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5']) {
    for (let i = 0; i < (o.sendersPerAddress ?? 2); i++) senders.push({ socket: await openUdp({ address, port: 0 }), lac: undefined, call: undefined, openedAt: 0 });
  }
  const ppp: PppClientConfig = { username: 'mallory@acme', password: 'pw-mallory', crypto: await createPppClientCrypto('pw-mallory'), random: (n) => randomBytes(n) };
  let sacrificialCalls = 0;

  // Keep each sender's own tunnel + call up: open, place the call, start over once it is broken.
  const maintain = () => {
    const now = Date.now();
    for (const s of senders) {
      const broken = s.lac !== undefined && (s.lac.closed || s.call?.cleared !== undefined || s.call?.down !== undefined);
      const stuck = s.lac !== undefined && s.call?.up === undefined && now - s.openedAt > 3000;
      if (s.lac && (broken || stuck)) {
        s.lac.dispose();
        s.lac = undefined;
        s.call = undefined;
      }
      if (!s.lac) {
        // A fresh LacHost each time: it replaces the socket's handler and drops the old LAC for GC.
        s.lac = new LacHost(s.socket, server, timers).lac(1 + rng.int(0xfffe), (n) => randomBytes(n));
        s.openedAt = now;
        s.lac.open();
      } else if (s.lac.established && !s.call) {
        s.call = s.lac.placeCall(ppp);
      }
      if (s.call?.up && !(s.call as { counted?: boolean }).counted) {
        (s.call as { counted?: boolean }).counted = true;
        sacrificialCalls++;
      }
    }
  };
  maintain();
  const maintenance = setInterval(maintain, 100);

  for (const v of victims) v.startProbe(o.probeIntervalMs ?? 20);
  const loop = monitorEventLoopDelay({ resolution: 10 });
  const window = o.window ?? 256;
  const retargetShare = o.retargetShare ?? 0.5;
  const progressEvery = o.progressEvery ?? 100_000;
  const warmAt = Math.max(1000, Math.floor(o.packets * 0.05));
  let warm = { heap: 0, rss: 0 };
  const start = Date.now();
  const receivedAtStart = target.received();
  let sent = 0;
  let next = 0;
  let nextProgress = progressEvery;
  loop.enable();
  try {
    while (sent < o.packets) {
      for (const d of stream.next()) {
        const s = senders[next++ % senders.length]!;
        let bytes = d.bytes;
        // Aim at the sender's own call once it is up (earlier, garbage would only stop the handshake),
        // and now and then at a victim's tunnel from the wrong address (a hijack attempt).
        if (s.call?.up && rng.chance(retargetShare)) bytes = retarget(bytes, s.call.peerTunnelId, s.call.peerSessionId);
        else if (rng.chance(0.05)) {
          const v = rng.pick(victims);
          bytes = retarget(bytes, v.call.peerTunnelId, v.call.peerSessionId);
        }
        s.socket.send(bytes, server.port, server.address);
        sent++;
      }
      if (sent % 32 === 0 || sent >= o.packets) {
        // Let the agent read: yield until few datagrams are in flight (bounded, the kernel may drop some).
        const deadline = Date.now() + 20;
        do await new Promise((resolve) => setImmediate(resolve));
        while (sent - (target.received() - receivedAtStart) > window && Date.now() < deadline);
      }
      if (warm.heap === 0 && sent >= warmAt) {
        gc();
        warm = { heap: process.memoryUsage().heapUsed, rss: process.memoryUsage().rss };
      }
      if (o.onProgress && sent >= nextProgress) {
        nextProgress += progressEvery;
        const stats = target.agent.stats();
        const m = process.memoryUsage();
        o.onProgress({ packets: sent, elapsedMs: Date.now() - start, heapMB: mb(m.heapUsed), rssMB: mb(m.rss), tunnels: stats.tunnels, sessions: stats.sessions, handlerFailures: target.handlerFailures() });
      }
    }
    const durationMs = Date.now() - start;
    loop.disable();
    const probes = await Promise.all(victims.map((v) => v.stopProbe(1000)));
    clearInterval(maintenance);
    gc();
    const end = { heap: process.memoryUsage().heapUsed, rss: process.memoryUsage().rss };
    const fresh = await openVictim(target, { address: '127.0.0.6', localTunnelId: 9999 }).then(
      async (v) => {
        v.startProbe(10);
        await new Promise((resolve) => setTimeout(resolve, 200));
        const counts = await v.stopProbe(1000);
        await v.close();
        return counts.answered > 0;
      },
      () => false,
    );
    return {
      seed: o.seed,
      packets: sent,
      delivered: target.received() - receivedAtStart,
      durationMs,
      handlerFailures: target.handlerFailures(),
      errorLines: [...target.errorLines],
      maxLoopDelayMs: Math.round(loop.max / 1e5) / 10,
      p99LoopDelayMs: Math.round(loop.percentile(99) / 1e5) / 10,
      heapMB: { warm: mb(warm.heap), end: mb(end.heap), growth: mb(end.heap - warm.heap) },
      rssMB: { warm: mb(warm.rss), end: mb(end.rss), growth: mb(end.rss - warm.rss) },
      probes,
      sacrificialCalls,
      freshSessionAfterRun: fresh,
      stats: target.agent.stats(),
      mutations: { ...stream.counts },
    };
  } finally {
    clearInterval(maintenance);
    for (const s of senders) s.lac?.dispose();
    await Promise.all(victims.map((v) => v.close()));
    await Promise.all(senders.map((s) => s.socket.close()));
    await target.close();
  }
}
