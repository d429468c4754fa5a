/**
 * The Store contract, session part: start (with the lease rule: domain/ip-allocation/lease-rule.ts),
 * stop, interim counters, disconnect requests, listing. Every Store runs it (store-contract/index.ts).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { SessionFilter } from '../../../functions/src/domain/store';
import { AlreadyExistsError, StoreError } from '../../../functions/src/domain/store-errors';
import type { Session } from '../../../functions/src/domain/types';
import { agent, leaseFor, session } from '../store-fixtures';
import type { OpenStore, StoreUnderTest } from './open-store';

export function sessionCases(open: OpenStore): void {
  let t: StoreUnderTest;
  before(async () => {
    t = await open({ clock: { now: () => 0 } });
    await t.store.createAgent(agent({ agentId: 'agent-1' }));
    await t.store.createAgent(agent({ agentId: 'agent-2' }));
  });
  after(() => t.close());

  const activeCount = async (agentId: string) => (await t.store.getAgent(agentId))?.activeSessions;

  describe('startSession', () => {
    test('creates session and lease; the agent item is left alone (its count comes from heartbeats)', async () => {
      const before = await activeCount('agent-1');
      const s = session({ assignedIp: '10.8.0.2', tenantId: 'st' });
      assert.deepEqual(await t.store.startSession(s, leaseFor(s)), { outcome: 'created' });
      assert.deepEqual(await t.store.getSession(s.sessionId), s);
      assert.deepEqual(await t.store.listLeases('st', 'main'), [leaseFor(s)]);
      assert.equal(await activeCount('agent-1'), before);
    });
    test('a retry with the same agent ref returns the existing session and changes nothing', async () => {
      const s = session({ assignedIp: '10.8.0.3', tenantId: 'st2' });
      await t.store.startSession(s, leaseFor(s));
      const count = await activeCount('agent-1');
      const retry = session({ agentSessionRef: s.agentSessionRef, assignedIp: '10.8.0.4', tenantId: 'st2' });
      assert.equal(retry.sessionId, s.sessionId, 'the id names agent and ref');
      assert.deepEqual(await t.store.startSession(retry, leaseFor(retry)), { outcome: 'exists', session: s });
      assert.deepEqual(await t.store.getSession(s.sessionId), s);
      assert.deepEqual((await t.store.listLeases('st2', 'main')).map((l) => l.ip), ['10.8.0.3']);
      assert.equal(await activeCount('agent-1'), count);
    });
    test('a session id already started by another agent or reference is AlreadyExistsError, and nothing is written', async () => {
      const s = session({ sessionId: 'same-id', assignedIp: '10.8.0.5', tenantId: 'st5' });
      await t.store.startSession(s, leaseFor(s));
      const other = session({ sessionId: 'same-id', agentId: 'agent-2', assignedIp: '10.8.0.6', tenantId: 'st5' });
      await assert.rejects(t.store.startSession(other, leaseFor(other)), AlreadyExistsError);
      assert.deepEqual(await t.store.getSession('same-id'), s);
      assert.deepEqual((await t.store.listLeases('st5', 'main')).map((l) => l.ip), ['10.8.0.5']);
    });
    test('the same ref on another agent is a different session', async () => {
      const s1 = session({ agentSessionRef: 'shared-ref', assignedIp: '10.8.0.10', tenantId: 'st3' });
      const s2 = session({ agentSessionRef: 'shared-ref', assignedIp: '10.8.0.11', tenantId: 'st3', agentId: 'agent-2' });
      assert.equal((await t.store.startSession(s1, leaseFor(s1))).outcome, 'created');
      assert.equal((await t.store.startSession(s2, leaseFor(s2))).outcome, 'created');
    });
    test('a leased address is taken; nothing is written', async () => {
      const s1 = session({ assignedIp: '10.8.0.20', tenantId: 'st4' });
      await t.store.startSession(s1, leaseFor(s1));
      const count = await activeCount('agent-1');
      const s2 = session({ assignedIp: '10.8.0.20', tenantId: 'st4' });
      assert.deepEqual(await t.store.startSession(s2, leaseFor(s2)), { outcome: 'address-taken' });
      assert.equal(await t.store.getSession(s2.sessionId), undefined);
      assert.equal(await activeCount('agent-1'), count);
    });
  });

  describe('stopSession', () => {
    test('stops once: state, reason, counters, lease freed, agent item untouched; second stop unchanged', async () => {
      const s = session({ assignedIp: '10.8.0.40', tenantId: 'sp1', bytesIn: 5 });
      await t.store.startSession(s, leaseFor(s));
      const count = await activeCount('agent-1');
      const counters = { bytesIn: 100, bytesOut: 200, packetsIn: 3, packetsOut: 4 };
      const stopped = await t.store.stopSession(s.sessionId, { reason: 'user-request', at: 99_000, counters });
      const expected: Session = { ...s, ...counters, state: 'stopped', endReason: 'user-request', stoppedAt: 99_000, updatedAt: 99_000 };
      assert.deepEqual(stopped, expected);
      assert.deepEqual(await t.store.getSession(s.sessionId), expected);
      assert.deepEqual(await t.store.listLeases('sp1', 'main'), []);
      assert.equal(await activeCount('agent-1'), count);
      const again = await t.store.stopSession(s.sessionId, { reason: 'error', at: 100_000, counters: { ...counters, bytesIn: 999 } });
      assert.deepEqual(again, expected);
    });
    test('concurrent stops: the first one wins, the others return it', async () => {
      const s = session({ assignedIp: '10.8.0.41', tenantId: 'sp2' });
      await t.store.startSession(s, leaseFor(s));
      const count = await activeCount('agent-1');
      const results = await Promise.all(
        Array.from({ length: 5 }, (_, i) => t.store.stopSession(s.sessionId, { reason: 'idle-timeout', at: 50_000 + i })),
      );
      assert.equal(new Set(results.map((r) => r?.stoppedAt)).size, 1);
      assert.equal((await t.store.getSession(s.sessionId))?.stoppedAt, results[0]?.stoppedAt);
      assert.equal(await activeCount('agent-1'), count);
    });
    test('final counters never lower reported ones', async () => {
      const s = session({ assignedIp: '10.8.0.42', tenantId: 'sp3' });
      await t.store.startSession(s, leaseFor(s));
      await t.store.updateSessionCounters(s.sessionId, { bytesIn: 50, bytesOut: 50, packetsIn: 5, packetsOut: 5 }, s.startedAt + 1);
      const stopped = await t.store.stopSession(s.sessionId, {
        reason: 'user-request',
        at: s.startedAt + 2,
        counters: { bytesIn: 10, bytesOut: 60, packetsIn: 1, packetsOut: 9 },
      });
      assert.deepEqual(
        [stopped?.bytesIn, stopped?.bytesOut, stopped?.packetsIn, stopped?.packetsOut],
        [50, 60, 5, 9],
      );
    });
    test('a lease now held by another session is left alone', async () => {
      const s1 = session({ assignedIp: '10.8.0.43', tenantId: 'sp4' });
      await t.store.startSession(s1, leaseFor(s1));
      await t.store.stopSession(s1.sessionId, { reason: 'agent-lost', at: s1.startedAt + 1, leaseGraceUntil: s1.startedAt + 10 });
      const s2 = session({ assignedIp: '10.8.0.43', tenantId: 'sp4', startedAt: s1.startedAt + 20 });
      assert.equal((await t.store.startSession(s2, leaseFor(s2))).outcome, 'created');
      // A late second stop of s1 must not delete s2's lease.
      await t.store.stopSession(s1.sessionId, { reason: 'error', at: s1.startedAt + 30 });
      assert.deepEqual((await t.store.listLeases('sp4', 'main')).map((l) => l.sessionId), [s2.sessionId]);
    });
    test('leaseGraceUntil keeps the address reserved until then (inclusive), reusable after: the lease rule', async () => {
      const s1 = session({ assignedIp: '10.8.0.44', tenantId: 'sp5', startedAt: 1_000, updatedAt: 1_000 });
      await t.store.startSession(s1, leaseFor(s1));
      await t.store.stopSession(s1.sessionId, { reason: 'agent-lost', at: 2_000, leaseGraceUntil: 5_000 });
      assert.deepEqual(await t.store.listLeases('sp5', 'main'), [{ ...leaseFor(s1), releaseAfter: 5_000 }]);
      const early = session({ assignedIp: '10.8.0.44', tenantId: 'sp5', startedAt: 4_000 });
      assert.equal((await t.store.startSession(early, leaseFor(early))).outcome, 'address-taken');
      const atGraceEnd = session({ assignedIp: '10.8.0.44', tenantId: 'sp5', startedAt: 5_000 });
      assert.equal((await t.store.startSession(atGraceEnd, leaseFor(atGraceEnd))).outcome, 'address-taken', 'still held at releaseAfter itself');
      assert.equal(await t.store.getSession(atGraceEnd.sessionId), undefined);
      const late = session({ assignedIp: '10.8.0.44', tenantId: 'sp5', startedAt: 5_001 });
      assert.equal((await t.store.startSession(late, leaseFor(late))).outcome, 'created');
      assert.deepEqual(await t.store.listLeases('sp5', 'main'), [leaseFor(late)]);
    });
    test('unknown session: undefined', async () => {
      assert.equal(await t.store.stopSession('nope', { reason: 'error', at: 1 }), undefined);
    });
  });

  describe('updateSessionCounters and markDisconnectRequested', () => {
    test('counters only grow, per field; late reports do not lower them', async () => {
      const s = session({ assignedIp: '10.8.0.50', tenantId: 'uc' });
      await t.store.startSession(s, leaseFor(s));
      const a = await t.store.updateSessionCounters(s.sessionId, { bytesIn: 10, bytesOut: 20, packetsIn: 1, packetsOut: 2 }, s.startedAt + 10);
      assert.deepEqual([a?.bytesIn, a?.bytesOut, a?.packetsIn, a?.packetsOut, a?.updatedAt], [10, 20, 1, 2, s.startedAt + 10]);
      const b = await t.store.updateSessionCounters(s.sessionId, { bytesIn: 5, bytesOut: 30, packetsIn: 0, packetsOut: 3 }, s.startedAt + 5);
      assert.deepEqual([b?.bytesIn, b?.bytesOut, b?.packetsIn, b?.packetsOut, b?.updatedAt], [10, 30, 1, 3, s.startedAt + 10]);
      const same = await t.store.updateSessionCounters(s.sessionId, { bytesIn: 1, bytesOut: 1, packetsIn: 1, packetsOut: 1 }, s.startedAt);
      assert.deepEqual(same, b);
    });
    test('concurrent reports end at the per-field maximum', async () => {
      const s = session({ assignedIp: '10.8.0.51', tenantId: 'uc2' });
      await t.store.startSession(s, leaseFor(s));
      await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          t.store.updateSessionCounters(s.sessionId, { bytesIn: i * 10, bytesOut: 100 - i, packetsIn: i, packetsOut: 1 }, s.startedAt + i),
        ),
      );
      const final = await t.store.getSession(s.sessionId);
      assert.deepEqual([final?.bytesIn, final?.bytesOut, final?.packetsIn, final?.packetsOut], [90, 100, 9, 1]);
    });
    test('a stopped session is never changed; unknown is undefined', async () => {
      const s = session({ assignedIp: '10.8.0.52', tenantId: 'uc3' });
      await t.store.startSession(s, leaseFor(s));
      const stopped = await t.store.stopSession(s.sessionId, { reason: 'user-request', at: s.startedAt + 1 });
      const after = await t.store.updateSessionCounters(s.sessionId, { bytesIn: 1e9, bytesOut: 1, packetsIn: 1, packetsOut: 1 }, s.startedAt + 2);
      assert.deepEqual(after, stopped);
      assert.deepEqual(await t.store.markDisconnectRequested(s.sessionId, s.startedAt + 3), stopped);
      assert.equal(await t.store.updateSessionCounters('nope', { bytesIn: 1, bytesOut: 1, packetsIn: 1, packetsOut: 1 }, 1), undefined);
      assert.equal(await t.store.markDisconnectRequested('nope', 1), undefined);
    });
    test('markDisconnectRequested keeps the first request time', async () => {
      const s = session({ assignedIp: '10.8.0.53', tenantId: 'uc4' });
      await t.store.startSession(s, leaseFor(s));
      assert.equal((await t.store.markDisconnectRequested(s.sessionId, 777))?.disconnectRequestedAt, 777);
      assert.equal((await t.store.markDisconnectRequested(s.sessionId, 888))?.disconnectRequestedAt, 777);
      assert.equal((await t.store.getSession(s.sessionId))?.disconnectReason, undefined, 'a plain disconnect names no reason');
    });
    test('markDisconnectRequested keeps the first reason it is given', async () => {
      const s = session({ assignedIp: '10.8.0.54', tenantId: 'uc5' });
      await t.store.startSession(s, leaseFor(s));
      const marked = await t.store.markDisconnectRequested(s.sessionId, 900, 'user-disabled');
      assert.deepEqual([marked?.disconnectRequestedAt, marked?.disconnectReason], [900, 'user-disabled']);
      const again = await t.store.markDisconnectRequested(s.sessionId, 950, 'user-deleted');
      assert.deepEqual([again?.disconnectRequestedAt, again?.disconnectReason], [900, 'user-disabled']);
    });
  });

  describe('listSessions', () => {
    const ids: Record<string, Session> = {};
    before(async () => {
      // Tenant "lt": alice on agent-1 and agent-2, bob on agent-1, times 1000..1005; one stopped.
      const specs = [
        ['a1', 'alice', 'agent-1', 1_000],
        ['a2', 'alice', 'agent-2', 1_001],
        ['b1', 'bob', 'agent-1', 1_002],
        ['a3', 'alice', 'agent-1', 1_003],
        ['b2', 'bob', 'agent-2', 1_004],
        ['a4', 'alice', 'agent-1', 1_005],
      ] as const;
      let ip = 100;
      for (const [name, username, agentId, at] of specs) {
        const s = session({ agentSessionRef: `lt-${name}`, tenantId: 'lt', username, agentId, startedAt: at, updatedAt: at, assignedIp: `10.8.0.${ip++}` });
        await t.store.startSession(s, leaseFor(s));
        ids[name] = s;
      }
      await t.store.stopSession(ids.a3!.sessionId, { reason: 'user-request', at: 2_000 });
      // Another tenant with an identical username must never appear.
      const other = session({ agentSessionRef: 'other-x', tenantId: 'lt-other', username: 'alice', startedAt: 1_002, assignedIp: '10.8.0.99' });
      await t.store.startSession(other, leaseFor(other));
    });
    const list = async (filter: SessionFilter, limit = 100) => {
      const out: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await t.store.listSessions(filter, { limit, ...(cursor ? { cursor } : {}) });
        assert.ok(page.items.length <= limit, 'limit honoured');
        out.push(...page.items.map((s) => s.agentSessionRef.replace('lt-', '')));
        cursor = page.cursor;
      } while (cursor);
      return out;
    };
    test('by tenant, newest first', async () => {
      assert.deepEqual(await list({ tenantId: 'lt' }), ['a4', 'b2', 'a3', 'b1', 'a2', 'a1']);
    });
    test('by user (needs tenant), by agent, by state, combined', async () => {
      assert.deepEqual(await list({ tenantId: 'lt', username: 'alice' }), ['a4', 'a3', 'a2', 'a1']);
      assert.deepEqual(await list({ tenantId: 'lt', username: 'alice', agentId: 'agent-1', state: 'active' }), ['a4', 'a1']);
      assert.deepEqual(await list({ agentId: 'agent-2', tenantId: 'lt' }), ['b2', 'a2']);
      assert.deepEqual(await list({ tenantId: 'lt', state: 'stopped' }), ['a3']);
      assert.ok((await list({ state: 'stopped' })).includes('a3'));
      assert.equal((await list({ state: 'active' })).includes('a3'), false);
      await assert.rejects(t.store.listSessions({ username: 'alice' }, { limit: 5 }), StoreError);
    });
    test('since (inclusive) and until (exclusive) on start time', async () => {
      assert.deepEqual(await list({ tenantId: 'lt', since: 1_001, until: 1_004 }), ['a3', 'b1', 'a2']);
      assert.deepEqual(await list({ tenantId: 'lt', since: 1_004 }), ['a4', 'b2']);
      assert.deepEqual(await list({ tenantId: 'lt', until: 1_001 }), ['a1']);
      assert.deepEqual(await list({ tenantId: 'lt', since: 1_004, until: 1_004 }), []);
    });
    test('pages of every size give the same sequence (filtered and unfiltered)', async () => {
      for (const limit of [1, 2, 4]) {
        assert.deepEqual(await list({ tenantId: 'lt' }, limit), ['a4', 'b2', 'a3', 'b1', 'a2', 'a1'], `limit ${limit}`);
        assert.deepEqual(await list({ tenantId: 'lt', state: 'active' }, limit), ['a4', 'b2', 'b1', 'a2', 'a1'], `limit ${limit}`);
      }
    });
    test('a filtered page is filled, not cut short by the filter', async () => {
      const page = await t.store.listSessions({ tenantId: 'lt', username: 'alice', agentId: 'agent-1' }, { limit: 2 });
      assert.deepEqual(page.items.map((s) => s.agentSessionRef), ['lt-a4', 'lt-a3']);
      assert.ok(page.cursor);
    });
    test('unfiltered listing covers every session', async () => {
      const all = await list({});
      assert.ok(['a1', 'a2', 'a3', 'a4', 'b1', 'b2', 'other-x'].every((id) => all.includes(id)));
    });
  });
}
