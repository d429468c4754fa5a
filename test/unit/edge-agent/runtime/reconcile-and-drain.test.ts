/**
 * Agent-side reconciliation and drain-deadline enforcement on the in-process agent (fakes): the
 * held session ids travel with register and heartbeat, the broker's tear-down orders end those
 * sessions with the broker's reason, and a drain's deadline ends what is still up with
 * agent-shutdown (not before).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { HeartbeatReply, HeartbeatRequest } from '../../../../edge-agent/src/broker/broker-client';
import { DrainDeadline } from '../../../../edge-agent/src/runtime/drain-deadline';
import { FakeTimers } from '../../../../edge-agent/src/clock';
import { startHarness, waitFor } from '../../../support/agent/agent-harness';

describe('agent reconciliation and drain deadline', () => {
  test('register and heartbeats carry the broker session ids the agent holds', async () => {
    const h = startHarness();
    await waitFor(() => h.broker.registrations.length === 1, 'registration');
    assert.deepEqual((h.broker.registrations[0] as { sessionIds?: string[] }).sessionIds, []);
    await h.connect(h.client('198.51.100.7'), 100);
    const before = h.broker.heartbeats.length;
    await h.tick(1_100);
    await waitFor(() => h.broker.heartbeats.length > before, 'heartbeat');
    assert.deepEqual(h.broker.heartbeats.at(-1)?.sessionIds, ['sess-1']);
    await h.agent.shutdown();
  });

  test('a tear-down order ends that session (with the broker\'s reason) and leaves the others up', async () => {
    const h = startHarness();
    const { lac, call } = await h.connect(h.client('198.51.100.7'), 100);
    const other = await h.call(lac, { user: 'bob@acme' });
    assert.ok(call.up && other.up);
    const original = h.broker.heartbeat.bind(h.broker);
    let orders: HeartbeatReply['tearDown'] = [{ sessionId: 'sess-1', reason: 'agent-lost' }, { sessionId: 'not-here', reason: 'error' }];
    h.broker.heartbeat = async (request: HeartbeatRequest) => {
      const reply = await original(request);
      const once = orders;
      orders = undefined;
      return { ...reply, ...(once ? { tearDown: once } : {}) };
    };
    await h.tick(1_100);
    await waitFor(() => h.broker.delivered.some((r) => r.kind === 'stop'), 'stop report');
    const stop = h.broker.delivered.find((r) => r.kind === 'stop');
    assert.equal(stop?.sessionId, 'sess-1');
    assert.equal(stop?.reason, 'agent-lost');
    assert.deepEqual(h.agent.sessions().map((s) => s.brokerSessionId), ['sess-2']);
    assert.ok(h.logs.some((l) => String(l.msg).startsWith('reconciliation:')));
    await h.agent.shutdown();
  });

  test('drain deadline: sessions kept until the deadline, then ended with agent-shutdown', async () => {
    const h = startHarness();
    await h.connect(h.client('198.51.100.7'), 100);
    const deadline = h.timers.now() + 10_000;
    h.broker.commands.push({ commandId: 'd1', type: 'drain', deadline: new Date(deadline).toISOString(), createdAt: new Date(h.timers.now()).toISOString() });
    await h.tick(1_100);
    await waitFor(() => h.agent.stats().draining, 'draining');
    await h.tick(deadline - h.timers.now() - 500);
    assert.equal(h.agent.sessions().length, 1, 'still up half a second before the deadline');
    assert.ok(!h.broker.delivered.some((r) => r.kind === 'stop'));
    await h.tick(1_000);
    await waitFor(() => h.broker.delivered.some((r) => r.kind === 'stop'), 'stop at the deadline');
    assert.equal(h.broker.delivered.find((r) => r.kind === 'stop')?.reason, 'agent-shutdown');
    assert.equal(h.agent.sessions().length, 0);
    await h.agent.shutdown();
  });

  test('DrainDeadline keeps the earliest deadline, re-arms across long waits, and disarms', () => {
    const timers = new FakeTimers(0);
    let fired = 0;
    const d = new DrainDeadline(timers, () => fired++);
    d.arm(5_000);
    d.arm(9_000); // a later repeat does not move it
    timers.advance(4_999);
    assert.equal(fired, 0);
    timers.advance(1);
    assert.equal(fired, 1);
    const far = new DrainDeadline(timers, () => fired++);
    far.arm(timers.now() + 3_000_000_000); // beyond one setTimeout
    timers.advance(2_999_999_999);
    assert.equal(fired, 1);
    timers.advance(1);
    assert.equal(fired, 2);
    const off = new DrainDeadline(timers, () => fired++);
    off.arm(timers.now() + 10);
    off.arm(Number.NaN);
    off.disarm();
    timers.advance(100);
    assert.equal(fired, 2);
    assert.equal(timers.size, 0);
  });
});
