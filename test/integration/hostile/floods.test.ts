/**
 * Floods against a LIVE agent (real UDP on loopback; 127.0.0.x addresses are distinct peers), with
 * short limits so that expiry happens within the test. An established victim session from
 * 127.0.0.1 pings through the agent every 10 ms during each flood; the test states the measured
 * forwarded/expected ratio (diagnostic) and asserts a floor of 0.95. No handler may throw.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DatagramSocket } from '../../../edge-agent/src/io/udp';
import { systemTimers } from '../../../edge-agent/src/clock';
import type { TunnelLimits } from '../../../edge-agent/src/runtime/tunnels';
import { startLiveTarget, type LiveTarget } from '../../fuzz/live-target';
import { openVictim, until, type Victim } from '../../fuzz/victim';
import { LacHost } from '../../support/agent/lac';
import { randomBytes } from 'node:crypto';
import { control, openSockets, pause, ratio, sampleMax, sccrq } from './flood-tools';

const LIMITS: TunnelLimits = {
  maxTunnelsPerPeer: 8,
  maxHalfOpen: 24,
  halfOpenTimeoutMs: 1000,
  sccrqBurst: 10,
  sccrqPerSecond: 5,
  controlBurst: 40,
  controlPerSecond: 20,
  lingerMs: 1000,
};
const FLOOR = 0.95;

async function withVictimProbe<T>(victim: Victim, work: () => Promise<T>): Promise<{ result: T; forwarded: number; expected: number; ratio: number }> {
  const before = victim.counts();
  victim.startProbe(10);
  const result = await work();
  const after = await victim.stopProbe(1000);
  const probe = { sent: after.sent - before.sent, answered: after.answered - before.answered };
  return { result, forwarded: probe.answered, expected: probe.sent, ratio: ratio(probe) };
}

describe('floods against a live agent', () => {
  let target: LiveTarget;
  let victim: Victim;
  const sockets: DatagramSocket[] = [];

  before(async () => {
    target = await startLiveTarget({ tunnelLimits: LIMITS, capacity: 12, extra: { callSetupTimeoutMs: 1500 } });
    victim = await openVictim(target, { address: '127.0.0.1', localTunnelId: 1 });
  });
  after(async () => {
    await victim.close();
    await Promise.all(sockets.map((s) => s.close()));
    await target.close();
  });

  test('SCCRQ flood from 4 addresses x 25 ports: half-open tunnels stay under the limit, per-address rate applies, they expire, the victim keeps forwarding', async (t) => {
    const flooders = await openSockets(['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'], 25);
    sockets.push(...flooders);
    const before = target.agent.stats().controlDrops;
    const probe = await withVictimProbe(victim, () =>
      sampleMax(
        () => target.agent.stats().tunnels,
        async () => {
          // 2000 SCCRQs over ~1 s, each with a new Assigned Tunnel ID (so none is a retransmission).
          for (let round = 0; round < 20; round++) {
            for (const [i, s] of flooders.entries()) s.send(sccrq(1 + round * 100 + i), target.port, target.address);
            await pause(50);
          }
        },
      ),
    );
    const drops = target.agent.stats().controlDrops;
    t.diagnostic(`victim forwarded/expected during the SCCRQ flood: ${probe.forwarded}/${probe.expected} = ${probe.ratio.toFixed(3)}; max tunnels ${probe.result.max}; drops ${JSON.stringify(drops)}`);
    assert.ok(probe.ratio >= FLOOR, `victim ratio ${probe.ratio}`);
    assert.ok(probe.expected >= 50);
    // The victim's tunnel plus at most maxHalfOpen half-open ones.
    assert.ok(probe.result.max <= LIMITS.maxHalfOpen + 1, `tunnels peaked at ${probe.result.max}`);
    assert.ok(drops.rate - before.rate > 1000, `rate drops ${drops.rate - before.rate}`);
    // 4 addresses x (10 burst + ~5/s) admitted: more than the half-open limit, refused as such.
    assert.ok(drops['half-open'] + drops['per-peer'] - before['half-open'] - before['per-peer'] > 0);
    // Half-open tunnels expire (no SCCCN within 1 s): only the victim's tunnel is left.
    await until(() => target.agent.stats().tunnels === 1, 'half-open tunnels expired', LIMITS.halfOpenTimeoutMs + 3000);
    // A real client at a flooding address gets in once its SCCRQ bucket has refilled.
    await pause(1000);
    const late = await openVictim(target, { address: '127.0.0.2', localTunnelId: 2, user: 'bob@acme' });
    await late.close();
    assert.equal(target.handlerFailures(), 0, target.errorLines.join('\n'));
  });


  /** An established tunnel (no call) from `address`, driven by the test LAC; the flood then bypasses it. */
  async function attackerTunnel(address: string, localTunnelId: number) {
    const [socket] = await openSockets([address], 1);
    sockets.push(socket!);
    const lac = new LacHost(socket!, { address: target.address, port: target.port }, systemTimers()).lac(localTunnelId, (n) => randomBytes(n));
    lac.open();
    await until(() => lac.established, 'attacker tunnel established');
    const { ns, nr } = lac.state.channel;
    return { socket: socket!, lac, peerTunnelId: lac.state.peerTunnelId, ns, nr };
  }

  test('ICRQ flood inside an established tunnel: per-tunnel control rate applies, sessions stay within capacity, the victim keeps forwarding, capacity comes back', async (t) => {
    const attacker = await attackerTunnel('127.0.0.9', 9);
    const before = target.agent.stats();
    const probe = await withVictimProbe(victim, () =>
      sampleMax(
        () => target.agent.stats().sessions,
        async () => {
          // 600 new calls in sequence (Ns in order), 60 every 50 ms: far above 40 burst + 20/s.
          for (let i = 0; i < 600; i++) {
            attacker.socket.send(control({ type: 'ICRQ', assignedSessionId: 1000 + i, callSerialNumber: i }, attacker.peerTunnelId, 0, attacker.ns + i, attacker.nr), target.port, target.address);
            if (i % 60 === 59) await pause(50);
          }
        },
      ),
    );
    const stats = target.agent.stats();
    t.diagnostic(`victim forwarded/expected during the ICRQ flood: ${probe.forwarded}/${probe.expected} = ${probe.ratio.toFixed(3)}; max sessions ${probe.result.max}; rate drops ${stats.controlDrops.rate - before.controlDrops.rate}`);
    assert.ok(probe.ratio >= FLOOR, `victim ratio ${probe.ratio}`);
    assert.ok(stats.controlDrops.rate - before.controlDrops.rate > 400, 'per-tunnel control rate not applied');
    assert.ok(probe.result.max <= 12, `sessions peaked at ${probe.result.max} (capacity 12)`);
    // Calls the attacker never completes (no ICCN) expire (callSetupTimeoutMs 1.5 s here) and give the
    // capacity back: a real client gets a session afterwards (before the fix it was refused "at capacity").
    attacker.lac.dispose();
    await pause(2000);
    const late = await openVictim(target, { address: '127.0.0.10', localTunnelId: 10, user: 'dave@acme' });
    await late.close();
    assert.equal(target.handlerFailures(), 0, target.errorLines.join('\n'));
  });

  test('HELLO storm in an established tunnel (1000 in sequence + 1000 replays): rate drops, the victim keeps forwarding and its tunnel stays', async (t) => {
    const attacker = await attackerTunnel('127.0.0.11', 11);
    const before = target.agent.stats();
    const hello = control({ type: 'HELLO' }, attacker.peerTunnelId, 0, attacker.ns, attacker.nr);
    const probe = await withVictimProbe(victim, async () => {
      for (let i = 0; i < 1000; i++) {
        attacker.socket.send(control({ type: 'HELLO' }, attacker.peerTunnelId, 0, attacker.ns + i, attacker.nr), target.port, target.address);
        attacker.socket.send(hello, target.port, target.address);
        if (i % 50 === 49) await pause(20);
      }
    });
    const stats = target.agent.stats();
    t.diagnostic(`victim forwarded/expected during the HELLO storm: ${probe.forwarded}/${probe.expected} = ${probe.ratio.toFixed(3)}; rate drops ${stats.controlDrops.rate - before.controlDrops.rate}`);
    assert.ok(probe.ratio >= FLOOR, `victim ratio ${probe.ratio}`);
    assert.ok(stats.controlDrops.rate - before.controlDrops.rate > 1500);
    assert.ok(victim.call.cleared === undefined && victim.lac.established, 'the victim lost its call or tunnel');
    attacker.lac.dispose();
    assert.equal(target.handlerFailures(), 0, target.errorLines.join('\n'));
  });

  test('control-message replays (own source and 4 foreign sources): no new session, foreign ones refused as wrong-peer, the replayed call keeps forwarding', async (t) => {
    const recorded: Uint8Array[] = [];
    let recording = true;
    const replayed = await openVictim(target, { address: '127.0.0.12', localTunnelId: 12, user: 'erin@acme', record: (b) => recording && (b[0]! & 0x80) !== 0 && void recorded.push(b) });
    recording = false;
    sockets.push(...(await openSockets(['127.0.0.13', '127.0.0.14', '127.0.0.15', '127.0.0.16'], 1)));
    const foreign = sockets.slice(-4);
    const before = target.agent.stats();
    assert.ok(recorded.length >= 4, `recorded ${recorded.length} control messages`);
    const probe = await withVictimProbe(replayed, async () => {
      for (let round = 0; round < 20; round++) {
        for (const bytes of recorded) {
          replayed.socket.send(bytes, target.port, target.address);
          for (const s of foreign) s.send(bytes, target.port, target.address);
        }
        await pause(20);
      }
    });
    const stats = target.agent.stats();
    t.diagnostic(`replayed call forwarded/expected during the replays: ${probe.forwarded}/${probe.expected} = ${probe.ratio.toFixed(3)}; ${recorded.length} messages x 20 rounds x 5 sources; drops ${JSON.stringify(stats.controlDrops)}`);
    assert.ok(probe.ratio >= FLOOR, `ratio ${probe.ratio}`);
    assert.equal(stats.sessions, before.sessions, 'a replay created or ended a session');
    assert.ok(stats.controlDrops['wrong-peer'] - before.controlDrops['wrong-peer'] > 0);
    assert.ok(replayed.call.cleared === undefined, 'the replayed call was cleared');
    // Foreign replays of the SCCRQ are new half-open tunnels: bounded, and gone after the timeout.
    await until(() => target.agent.stats().tunnels <= before.tunnels, 'half-open tunnels from replayed SCCRQs expired', LIMITS.halfOpenTimeoutMs + 3000);
    await replayed.close();
    assert.equal(target.handlerFailures(), 0, target.errorLines.join('\n'));
  });
});

test('per-peer limit: 40 SCCRQs from one address (40 ports): exactly maxTunnelsPerPeer tunnels, the rest refused as per-peer, another address unaffected', async () => {
  // A generous SCCRQ rate and a long half-open time, so that only the per-peer limit is in play.
  const target = await startLiveTarget({ tunnelLimits: { ...LIMITS, sccrqBurst: 1000, sccrqPerSecond: 1000, halfOpenTimeoutMs: 30_000 } });
  const flooders = await openSockets(['127.0.0.7'], 40);
  try {
    for (const [i, s] of flooders.entries()) s.send(sccrq(500 + i), target.port, target.address);
    await until(() => target.received() >= 40, 'SCCRQs delivered');
    const stats = target.agent.stats();
    assert.equal(stats.tunnels, LIMITS.maxTunnelsPerPeer);
    assert.equal(stats.controlDrops['per-peer'], 40 - LIMITS.maxTunnelsPerPeer);
    assert.equal(stats.controlDrops.rate, 0);
    const other = await openVictim(target, { address: '127.0.0.8', localTunnelId: 3, user: 'carol@acme' });
    assert.equal(target.agent.stats().tunnels, LIMITS.maxTunnelsPerPeer + 1);
    await other.close();
    assert.equal(target.handlerFailures(), 0, target.errorLines.join('\n'));
  } finally {
    await Promise.all(flooders.map((s) => s.close()));
    await target.close();
  }
});
