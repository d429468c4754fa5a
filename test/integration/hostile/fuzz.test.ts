/**
 * Mutation fuzzing of a LIVE agent (real UDP on loopback, the runtime in-process on a fake TUN and
 * a fake broker): 200,000 mutated datagrams of captured real traffic from 8 sockets on 4 loopback
 * addresses, while two established sessions ping through the agent every 20 ms.
 *
 * Stated bounds: 0 handler failures (`datagram handler failed` log lines); every probe answered
 * except at most 1 % per session; event-loop delay at most 1 s (p99 at most 250 ms); heap growth after GC at most
 * 32 MB and RSS growth at most 96 MB between warm-up (5 %) and the end; a fresh client gets a
 * working session afterwards (no hang). The long run (1,000,000+) is `tsx test/fuzz/cli.ts run`,
 * figures in docs/security.md.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runFuzz } from '../../fuzz/run-fuzz';

const PACKETS = 200_000;

test(`live agent survives ${PACKETS} mutated datagrams while established sessions keep forwarding`, { timeout: 120_000 }, async (t) => {
  const r = await runFuzz({ packets: PACKETS, seed: 20_240_601, victims: 2, probeIntervalMs: 20 });
  const { mutations, stats, ...figures } = r;
  t.diagnostic(JSON.stringify({ ...figures, controlDrops: stats.controlDrops, malformed: stats.malformed }));

  assert.equal(r.handlerFailures, 0, `handler failures:\n${r.errorLines.join('\n')}`);
  assert.ok(r.packets >= 100_000);
  // Loopback may drop a few when the receive buffer fills; nearly all must reach the agent.
  assert.ok(r.delivered >= r.packets * 0.95, `only ${r.delivered} of ${r.packets} datagrams reached the agent`);
  // The fuzzer did reach the decoders and the guards, not only the socket.
  assert.ok(stats.malformed > 1000, `malformed ${stats.malformed}`);
  assert.ok(stats.controlDrops['wrong-peer'] > 0, 'hijack attempts at a victim tunnel were not refused');
  assert.ok(r.sacrificialCalls >= 5, `only ${r.sacrificialCalls} sacrificial calls came up to be fuzzed`);
  for (const [i, p] of r.probes.entries()) {
    assert.ok(p.sent >= 50, `victim ${i} sent only ${p.sent} probes`);
    assert.ok(p.answered >= p.sent * 0.99, `victim ${i}: ${p.answered}/${p.sent} echo replies`);
  }
  // The delay includes CPU starvation on a shared runner (load ~10 on 2 cores measured 440 ms max in
  // the long run); a stall of the agent itself would show as seconds.
  assert.ok(r.maxLoopDelayMs <= 1000, `event loop stalled ${r.maxLoopDelayMs} ms`);
  assert.ok(r.p99LoopDelayMs <= 250, `event loop p99 delay ${r.p99LoopDelayMs} ms`);
  assert.ok(r.heapMB.growth <= 32, `heap grew ${r.heapMB.growth} MB`);
  assert.ok(r.rssMB.growth <= 96, `RSS grew ${r.rssMB.growth} MB`);
  assert.ok(r.freshSessionAfterRun, 'no working session for a new client after the run');
  // The victims' sessions survived (plus whatever sacrificial calls happened to be up at the end).
  assert.ok(stats.sessions >= 2);
});
