/**
 * Duplicated, late and reordered agent reports, and session reconciliation, through the agent API on
 * DynamoDB Local (app.request, movable clock): none of them may corrupt a session, resurrect it, or
 * free an address that another session holds.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { reap } from '../../../functions/src/domain/reaper';
import { createHarness, heartbeatBody, seedAgent, startBody, startGranted, type Harness } from '../../support/api-harness';

const counters = (n: number) => ({ bytesIn: n * 100, bytesOut: n * 50, packetsIn: n, packetsOut: n });

describe('late, duplicated and reordered reports; reconciliation', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness();
    // A /29 pool: .1 is the gateway, so .2-.6 are the only five addresses (re-lease is forced).
    for (const [path, body] of [
      ['/v1/tenants', { tenantId: 'acme', name: 'Acme' }],
      ['/v1/tenants/acme/pools', { poolId: 'main', cidr: '10.9.0.0/29', dns: ['1.1.1.1'] }],
      ['/v1/tenants/acme/users', { username: 'alice', password: 'correct horse' }],
    ] as const) {
      const res = await h.admin('POST', path, body);
      assert.equal(res.status, 201, JSON.stringify(res.body));
    }
  });
  after(async () => {
    await h?.close();
  });

  const start = async (token: string, ref: string) => {
    const res = await startGranted(h, token, startBody(ref));
    assert.ok(res.status === 201 || res.status === 200, `${res.status} ${JSON.stringify(res.body)}`);
    return res.body as { sessionId: string; address: string };
  };
  const agentRecord = async (agentId: string) => (await h.testStore.store.getAgent(agentId))!;
  const leases = () => h.testStore.store.listLeases('acme', 'main');
  const stopAll = async (token: string, ids: string[]) => {
    for (const id of ids) await h.call('POST', `/v1/agent/sessions/${id}/stop`, { token, body: { reason: 'user-request' } });
  };

  test('duplicated stop: same answer, counters and reason of the first, lease gone', async () => {
    const { token } = await seedAgent(h, 'dup');
    const s = await start(token, 'dup-1');
    const keep = await start(token, 'dup-2');
    const first = await h.call('POST', `/v1/agent/sessions/${s.sessionId}/stop`, { token, body: { reason: 'user-request', counters: counters(5) } });
    const again = await h.call('POST', `/v1/agent/sessions/${s.sessionId}/stop`, { token, body: { reason: 'error', counters: counters(9) } });
    assert.equal(first.status, 200);
    assert.equal(again.status, 200);
    assert.deepEqual(again.body, first.body);
    assert.equal(again.body.endReason, 'user-request');
    assert.deepEqual(again.body.counters, counters(5));
    assert.ok(!(await leases()).some((l) => l.sessionId === s.sessionId));
    await stopAll(token, [keep.sessionId]);
  });

  test('reordered interims never lower counters; an interim after the stop changes nothing', async () => {
    const { token } = await seedAgent(h, 'order');
    const s = await start(token, 'order-1');
    const interim = (n: number) => h.call('POST', `/v1/agent/sessions/${s.sessionId}/interim`, { token, body: { counters: counters(n) } });
    assert.deepEqual((await interim(20)).body.counters, counters(20));
    assert.deepEqual((await interim(10)).body.counters, counters(20), 'an older interim arriving late');
    assert.deepEqual((await interim(20)).body.counters, counters(20), 'a duplicate');
    assert.deepEqual((await interim(30)).body.counters, counters(30));
    // A stop carrying older final counters (sent before the last interim landed) keeps the larger ones.
    const stopped = await h.call('POST', `/v1/agent/sessions/${s.sessionId}/stop`, { token, body: { reason: 'user-request', counters: counters(25) } });
    assert.deepEqual(stopped.body.counters, counters(30));
    const late = await interim(99);
    assert.equal(late.status, 200);
    assert.equal(late.body.state, 'stopped');
    assert.deepEqual(late.body.counters, counters(30));
    const stored = await h.testStore.store.getSession(s.sessionId);
    assert.equal(stored?.state, 'stopped');
    assert.equal(stored?.bytesIn, 3000);
  });

  test('after a reap and the grace period, a late stop, interim or start retry of the old session never frees or takes the new holder\'s address', async () => {
    const lost = await seedAgent(h, 'lost');
    const other = await seedAgent(h, 'other');
    const sessions = [];
    for (let i = 0; i < 5; i++) sessions.push(await start(lost.token, `lost-${i}`));
    const interim = await h.call('POST', `/v1/agent/sessions/${sessions[0]!.sessionId}/interim`, { token: lost.token, body: { counters: counters(7) } });
    assert.equal(interim.status, 200);
    const full = await startGranted(h, other.token, startBody('other-full'));
    assert.equal(full.status, 503, 'the five addresses are taken');

    // `other` keeps heartbeating; `lost` goes silent and is reaped.
    h.clock.advance(120_000);
    assert.equal((await h.call('POST', '/v1/agent/heartbeat', { token: other.token, body: heartbeatBody() })).status, 200);
    const summary = await reap(h.testStore.store, h.clock, { heartbeatTimeoutMs: 90_000, leaseGraceMs: 30_000 });
    assert.ok(summary.agentsMarkedDead.includes(lost.agentId));
    const reaped = await h.testStore.store.getSession(sessions[0]!.sessionId);
    assert.equal(reaped?.state, 'stopped');
    assert.equal(reaped?.endReason, 'agent-lost');
    assert.equal(reaped?.bytesIn, 700, 'counters reported so far are kept');
    const refused = await startGranted(h, other.token, startBody('other-grace'));
    assert.equal(refused.status, 503, 'addresses stay reserved during the grace period');

    h.clock.advance(31_000);
    const fresh = await start(other.token, 'other-after-grace');
    const victim = sessions.find((s) => s.address === fresh.address)!;
    assert.ok(victim, 'the new session re-used one of the reaped addresses');

    const lateStop = await h.call('POST', `/v1/agent/sessions/${victim.sessionId}/stop`, { token: lost.token, body: { reason: 'user-request', counters: counters(50) } });
    assert.equal(lateStop.status, 200);
    assert.equal(lateStop.body.endReason, 'agent-lost', 'the first stop stands');
    const lateInterim = await h.call('POST', `/v1/agent/sessions/${victim.sessionId}/interim`, { token: lost.token, body: { counters: counters(60) } });
    assert.equal(lateInterim.body.state, 'stopped');
    const retry = await startGranted(h, lost.token, startBody(`lost-${sessions.indexOf(victim)}`));
    assert.equal(retry.status, 409, `a late start retry of an ended session is refused: ${JSON.stringify(retry.body)}`);
    assert.equal(retry.body.error.code, 'session-stopped');

    const holder = (await leases()).find((l) => l.ip === fresh.address);
    assert.equal(holder?.sessionId, fresh.sessionId, 'the new holder keeps its lease');
    assert.equal(holder?.releaseAfter, undefined);
    assert.equal((await h.testStore.store.getSession(fresh.sessionId))?.state, 'active');
    await stopAll(other.token, [fresh.sessionId]);
  });

  test('reconciliation: the broker stops what the agent no longer holds (not young sessions) and names what the agent must tear down', async () => {
    const { agentId, token } = await seedAgent(h, 'reconcile');
    const kept = await start(token, 'rec-kept');
    const forgotten = await start(token, 'rec-forgotten');
    const endedHere = await start(token, 'rec-ended');
    await h.call('POST', `/v1/agent/sessions/${endedHere.sessionId}/stop`, { token, body: { reason: 'admin-disconnect' } });
    h.clock.advance(20_000);
    const young = await start(token, 'rec-young');

    const beat = await h.call('POST', '/v1/agent/heartbeat', {
      token,
      body: { ...heartbeatBody(), activeSessions: 2, sessionIds: [kept.sessionId, endedHere.sessionId, 'no-such-session'] },
    });
    assert.equal(beat.status, 200, JSON.stringify(beat.body));
    assert.equal((await agentRecord(agentId)).activeSessions, 2, 'the count is what the agent reports');
    assert.equal(beat.body.sessionsStopped, 1);
    assert.deepEqual(
      [...beat.body.tearDown].sort((a: { sessionId: string }, b: { sessionId: string }) => a.sessionId.localeCompare(b.sessionId)),
      [
        { sessionId: endedHere.sessionId, reason: 'admin-disconnect' },
        { sessionId: 'no-such-session', reason: 'error' },
      ].sort((a, b) => a.sessionId.localeCompare(b.sessionId)),
    );
    const f = await h.testStore.store.getSession(forgotten.sessionId);
    assert.equal(f?.state, 'stopped');
    assert.equal(f?.endReason, 'agent-lost');
    assert.ok(!(await leases()).some((l) => l.sessionId === forgotten.sessionId), 'released at once: the agent says nothing forwards for it');
    assert.equal((await h.testStore.store.getSession(young.sessionId))?.state, 'active', 'a start possibly in flight is left alone');
    assert.equal((await h.testStore.store.getSession(kept.sessionId))?.state, 'active');

    // The agent restarts (holds nothing) and registers again, a while later.
    h.clock.advance(20_000);
    const reg = await h.call('POST', '/v1/agent/register', { token, body: { publicAddress: '203.0.113.10', capacity: 50, version: '0.1.0', sessionIds: [] } });
    assert.equal(reg.status, 200, JSON.stringify(reg.body));
    assert.equal(reg.body.sessionsStopped, 2);
    assert.deepEqual(reg.body.tearDown, []);
    for (const s of [kept, young]) assert.equal((await h.testStore.store.getSession(s.sessionId))?.endReason, 'agent-lost');
    assert.equal((await agentRecord(agentId)).activeSessions, 0);
    // Without sessionIds (an older agent) nothing is reconciled and the reply has no tearDown.
    const plain = await h.call('POST', '/v1/agent/heartbeat', { token, body: heartbeatBody() });
    assert.equal(plain.body.tearDown, undefined);
  });
});
