/**
 * Issue 18: a disconnect reached the agent only at its next heartbeat (30 s). The agent now fetches
 * its commands as soon as a genuine command nudge arrives. In-process on fakes, with a heartbeat of
 * 300 s, so nothing here can pass by heartbeat: forged, misdirected, stale and replayed nudges do
 * nothing, and a flood of genuine ones is coalesced into a bounded number of fetches.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { encodeNudge, type Nudge } from '../../../../contract/src/command-nudge';
import { NUDGE_PORT, SERVER, startHarness, type Harness } from '../../../support/agent/agent-harness';
import { waitFor } from '../../../support/agent/lac';

const BROKER = { address: '203.0.113.9', port: 40_999 };

async function up(h: Harness) {
  h.broker.heartbeatIntervalSeconds = 300;
  const { call } = await h.connect(h.client('198.51.100.7'), 100);
  h.timers.advance(1); // the first heartbeat; its reply sets the interval to 300 s
  await waitFor(() => h.broker.heartbeats.length >= 1, 'first heartbeat');
  await h.tick(10);
  return call;
}

function nudgeFrom(h: Harness, fields: Partial<Nudge> = {}, key: Uint8Array = h.broker.nudgeKey): Uint8Array {
  return encodeNudge({ agentId: 'agent-test', sentAt: h.timers.now(), nonce: randomBytes(16), ...fields }, key);
}

function sender(h: Harness) {
  const socket = h.net.bind(BROKER.address, BROKER.port);
  return (bytes: Uint8Array) => socket.send(bytes, NUDGE_PORT, SERVER.address);
}

function disconnectCommand(h: Harness) {
  h.broker.commands.push({ commandId: 'disconnect-sess-1', type: 'disconnect-session', sessionId: 'sess-1', createdAt: new Date(h.timers.now()).toISOString() });
}

describe('command nudges (issue 18: disconnect within seconds, not at the next heartbeat)', () => {
  test('the agent reports its nudge port at registration and learns its key', async () => {
    const h = startHarness({}, { nudges: true });
    await waitFor(() => h.broker.registrations.length === 1 && h.agent.brokerLoop.nudgeKeys().length === 1, 'registered');
    assert.equal((h.broker.registrations[0] as { nudgePort?: number }).nudgePort, NUDGE_PORT);
    assert.deepEqual(Buffer.from(h.agent.brokerLoop.nudgeKeys()[0]!), Buffer.from(h.broker.nudgeKey));
    await h.agent.shutdown();
  });

  test('without a nudge socket the agent reports nudgePort 0 (the broker clears a stale one)', async () => {
    const h = startHarness();
    await waitFor(() => h.broker.registrations.length === 1, 'registered');
    assert.equal((h.broker.registrations[0] as { nudgePort?: number }).nudgePort, 0);
    await h.agent.shutdown();
  });

  test('a genuine nudge: commands fetched at once (no reconciliation list), the session torn down, the heartbeat untouched', async () => {
    const h = startHarness({}, { nudges: true });
    const call = await up(h);
    const beats = h.broker.heartbeats.length;
    disconnectCommand(h);
    sender(h)(nudgeFrom(h));
    await waitFor(() => call.down !== undefined, 'PPP link down after the nudge');
    assert.equal(h.broker.heartbeats.length, beats + 1, 'one fetch');
    assert.equal(h.broker.heartbeats.at(-1)?.sessionIds, undefined, 'a nudged fetch sends no held-session list');
    await waitFor(() => h.broker.stops().length === 1, 'stop report');
    assert.equal(h.broker.stops()[0]?.reason, 'admin-disconnect');
    assert.equal(h.agent.nudges?.counts.accepted, 1);
    await h.agent.shutdown();
  });

  test('control: without the nudge the same command waits for the heartbeat (300 s)', async () => {
    const h = startHarness({}, { nudges: true });
    const call = await up(h);
    disconnectCommand(h);
    await h.tick(5_000, 250);
    assert.equal(call.down, undefined, 'still up 5 s later: only a nudge or the heartbeat delivers it');
    await h.agent.shutdown();
  });

  test('forged, misdirected, stale, future and replayed nudges do nothing', async () => {
    const h = startHarness({}, { nudges: true });
    const call = await up(h);
    const beats = h.broker.heartbeats.length;
    disconnectCommand(h);
    const send = sender(h);
    const otherAgentsKey = Buffer.alloc(32, 0x77);
    send(nudgeFrom(h, {}, otherAgentsKey)); // another agent's key, our id
    send(nudgeFrom(h, { agentId: 'agent-other' }, otherAgentsKey)); // another agent's own nudge
    send(nudgeFrom(h, { agentId: 'agent-other' })); // our key, another id
    send(nudgeFrom(h, { sentAt: h.timers.now() - 31_000 }));
    send(nudgeFrom(h, { sentAt: h.timers.now() + 31_000 }));
    send(Buffer.from('not a nudge at all'.padEnd(80, '.')));
    send(nudgeFrom(h).subarray(0, 40));
    await h.tick(5_000, 250);
    assert.equal(call.down, undefined);
    assert.equal(h.broker.heartbeats.length, beats, 'no fetch for any of them');
    assert.deepEqual(h.agent.nudges?.counts.refused, { 'bad-tag': 1, 'wrong-agent': 2, stale: 1, future: 1, 'bad-magic': 1, truncated: 1 });

    // A genuine one works; replayed after that, it does nothing more.
    const genuine = nudgeFrom(h);
    send(genuine);
    await waitFor(() => call.down !== undefined, 'down after the genuine nudge');
    const after = h.broker.heartbeats.length;
    await h.tick(2_000, 250);
    send(genuine);
    send(genuine);
    await h.tick(2_000, 250);
    assert.equal(h.broker.heartbeats.length, after, 'replays fetch nothing');
    assert.equal((h.agent.nudges!.counts.refused as Record<string, number>).replayed, 2);
    await h.agent.shutdown();
  });

  test('a flood of genuine nudges is rate-limited to one fetch per 500 ms, and the last nudge is never lost', async () => {
    const h = startHarness({}, { nudges: true });
    await up(h);
    const send = sender(h);
    const beats = h.broker.heartbeats.length;
    // 1,000 distinct genuine nudges over 2 s (the broker queueing 1,000 disconnects).
    for (let i = 0; i < 1000; i++) {
      send(nudgeFrom(h));
      if (i % 50 === 49) await h.tick(100, 100);
    }
    await h.tick(1_000, 100);
    const fetches = h.broker.heartbeats.length - beats;
    assert.ok(fetches >= 4 && fetches <= 6, `${fetches} fetches for 1,000 nudges over 2 s (at most one per 500 ms)`);
    assert.equal(h.agent.nudges?.counts.accepted, 1000);
    // A command queued with the very last nudge of a burst is still fetched (trailing fetch).
    disconnectCommand(h);
    send(nudgeFrom(h));
    send(nudgeFrom(h));
    await h.tick(1_000, 100);
    assert.equal(h.broker.commands.length, 0, 'delivered, and acked by the trailing fetch of the second nudge');
    assert.ok(h.agent.sessions().length === 0, 'the session is gone');
    await h.agent.shutdown();
  });

  test('a flood of forged datagrams costs at most 2,000 verifications a second and no fetch', async () => {
    const h = startHarness({}, { nudges: true });
    await up(h);
    const send = sender(h);
    const beats = h.broker.heartbeats.length;
    const forged = nudgeFrom(h, {}, Buffer.alloc(32, 0x01));
    for (let i = 0; i < 10_000; i++) send(forged);
    await h.tick(10, 10);
    const counts = h.agent.nudges!.counts;
    assert.equal((counts.refused['bad-tag'] ?? 0) + counts.overRate, 10_000);
    assert.ok((counts.refused['bad-tag'] ?? 0) <= 2020, `${counts.refused['bad-tag']} verified`);
    assert.ok(counts.overRate >= 7980, `${counts.overRate} dropped unverified`);
    assert.equal(h.broker.heartbeats.length, beats);
    await h.agent.shutdown();
  });
});
