/**
 * The Store contract, RADIUS accounting part: a tenant's settings, and the outbox records the
 * session changes write in their own transactions (domain/radius-accounting/outbox-rules.ts),
 * claimed, deferred and deleted by the sender. Every Store runs it (store-contract/index.ts).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { NotFoundError } from '../../../functions/src/domain/store-errors';
import type { AccountingRecord, Session, TenantAccounting } from '../../../functions/src/domain/types';
import { agent, leaseFor, session, tenant } from '../store-fixtures';
import type { OpenStore, StoreUnderTest } from './open-store';

const FAR = Number.MAX_SAFE_INTEGER;
const blob = { keyId: 'k1', iv: 'aaaaaaaaaaaaaaaa', ciphertext: 'c2VjcmV0', tag: 'aaaaaaaaaaaaaaaaaaaaaa==', v: 2 as const };
const settings: TenantAccounting = { servers: [{ host: '127.0.0.1', port: 18130, secret: blob }], interimIntervalSeconds: 60, updatedAt: 5 };

export function accountingCases(open: OpenStore): void {
  let t: StoreUnderTest;
  before(async () => {
    t = await open({ clock: { now: () => 0 } });
    await t.store.createAgent(agent({ agentId: 'agent-1' }));
  });
  after(() => t.close());

  const recordsOf = async (sessionId: string): Promise<AccountingRecord[]> =>
    (await t.store.listDueAccountingRecords(FAR, 1000)).filter((r) => r.sessionId === sessionId);
  const accounted = (o: Partial<Session> = {}) => session({ tenantId: 'acct', accounting: { interimIntervalSeconds: 60 }, radiusClass: ['Y2xhc3M=', 'c2Vjb25k'], ...o });

  describe('setTenantAccounting', () => {
    test('sets, replaces and removes the settings; other tenant fields are kept', async () => {
      await t.store.createTenant(tenant({ tenantId: 'cfg', maxSessions: 3 }));
      const set = await t.store.setTenantAccounting('cfg', settings, 10);
      assert.deepEqual(set.accounting, settings);
      assert.equal(set.updatedAt, 10);
      assert.deepEqual((await t.store.getTenant('cfg'))?.accounting, settings);
      const changed = { ...settings, interimIntervalSeconds: 300 };
      assert.deepEqual((await t.store.setTenantAccounting('cfg', changed, 11)).accounting, changed);
      const removed = await t.store.setTenantAccounting('cfg', null, 12);
      assert.equal(removed.accounting, undefined);
      assert.equal((await t.store.getTenant('cfg'))?.accounting, undefined);
      assert.equal((await t.store.getTenant('cfg'))?.maxSessions, 3);
    });
    test('an absent tenant is NotFoundError', async () => {
      await assert.rejects(t.store.setTenantAccounting('nobody', settings, 1), NotFoundError);
    });
  });

  describe('records written with the session changes', () => {
    test('a start writes one Start record with the session; its retry and a lost address race write none', async () => {
      const s = accounted({ assignedIp: '10.9.0.2' });
      assert.equal((await t.store.startSession(s, leaseFor(s))).outcome, 'created');
      const [start, ...more] = await recordsOf(s.sessionId);
      assert.deepEqual(more, []);
      assert.equal(start?.status, 'start');
      assert.equal(start?.eventAt, s.startedAt);
      assert.deepEqual(start?.radiusClass, ['Y2xhc3M=', 'c2Vjb25k']);
      assert.equal(start?.attempts, 0);
      assert.equal((await t.store.startSession(s, leaseFor(s))).outcome, 'exists');
      const other = accounted({ assignedIp: '10.9.0.2' });
      assert.equal((await t.store.startSession(other, leaseFor(other))).outcome, 'address-taken');
      assert.equal((await recordsOf(s.sessionId)).length, 1);
      assert.deepEqual(await recordsOf(other.sessionId), []);
    });
    test('a session of a tenant without accounting writes no record', async () => {
      const s = session({ tenantId: 'acct', assignedIp: '10.9.0.3' });
      await t.store.startSession(s, leaseFor(s));
      await t.store.updateSessionCounters(s.sessionId, { bytesIn: 1, bytesOut: 1, packetsIn: 1, packetsOut: 1 }, s.startedAt + 3_600_000);
      await t.store.stopSession(s.sessionId, { reason: 'user-request', at: s.startedAt + 3_600_001 });
      assert.deepEqual(await recordsOf(s.sessionId), []);
    });
    test('an interim report writes an Interim-Update once the interval has passed since the last one', async () => {
      const s = accounted({ assignedIp: '10.9.0.4' });
      await t.store.startSession(s, leaseFor(s));
      const c1 = { bytesIn: 10, bytesOut: 20, packetsIn: 1, packetsOut: 2 };
      await t.store.updateSessionCounters(s.sessionId, c1, s.startedAt + 30_000);
      assert.deepEqual((await recordsOf(s.sessionId)).map((r) => r.status), ['start'], 'not due after 30 s of 60');
      const c2 = { bytesIn: 5_000_000_000, bytesOut: 40, packetsIn: 3, packetsOut: 4 };
      const after = await t.store.updateSessionCounters(s.sessionId, c2, s.startedAt + 60_000);
      assert.equal(after?.accounting?.lastInterimAt, s.startedAt + 60_000);
      assert.equal(after?.bytesIn, 5_000_000_000);
      assert.deepEqual((await t.store.getSession(s.sessionId))?.accounting, { interimIntervalSeconds: 60, lastInterimAt: s.startedAt + 60_000 });
      const interim = (await recordsOf(s.sessionId)).find((r) => r.status === 'interim');
      assert.deepEqual(
        interim && { eventAt: interim.eventAt, bytesIn: interim.bytesIn, bytesOut: interim.bytesOut, packetsIn: interim.packetsIn, packetsOut: interim.packetsOut },
        { eventAt: s.startedAt + 60_000, ...c2 },
      );
      await t.store.updateSessionCounters(s.sessionId, { ...c2, bytesOut: 50 }, s.startedAt + 100_000);
      assert.equal((await recordsOf(s.sessionId)).length, 2, 'the next one only 60 s after the last');
      await t.store.updateSessionCounters(s.sessionId, { ...c2, bytesOut: 60 }, s.startedAt + 120_000);
      assert.deepEqual((await recordsOf(s.sessionId)).map((r) => r.status), ['start', 'interim', 'interim']);
    });
    test('a stop writes one Stop record with the final counters and the end reason; a second stop none', async () => {
      const s = accounted({ assignedIp: '10.9.0.5' });
      await t.store.startSession(s, leaseFor(s));
      const counters = { bytesIn: 7, bytesOut: 8, packetsIn: 9, packetsOut: 10 };
      await t.store.stopSession(s.sessionId, { reason: 'idle-timeout', at: s.startedAt + 5_000, counters });
      await t.store.stopSession(s.sessionId, { reason: 'user-request', at: s.startedAt + 6_000 });
      const records = await recordsOf(s.sessionId);
      assert.deepEqual(records.map((r) => r.status), ['start', 'stop']);
      const stop = records[1]!;
      assert.deepEqual(
        { ...counters, endReason: 'idle-timeout', eventAt: s.startedAt + 5_000, startedAt: s.startedAt },
        { bytesIn: stop.bytesIn, bytesOut: stop.bytesOut, packetsIn: stop.packetsIn, packetsOut: stop.packetsOut, endReason: stop.endReason, eventAt: stop.eventAt, startedAt: stop.startedAt },
      );
      assert.deepEqual(await t.store.listLeases('acct', 'main').then((ls) => ls.filter((l) => l.ip === '10.9.0.5')), []);
    });
    test('a stop that keeps the lease for a grace period (agent lost) writes its Stop record too', async () => {
      const s = accounted({ assignedIp: '10.9.0.6' });
      await t.store.startSession(s, leaseFor(s));
      await t.store.stopSession(s.sessionId, { reason: 'agent-lost', at: s.startedAt + 1, leaseGraceUntil: s.startedAt + 99 });
      assert.deepEqual((await recordsOf(s.sessionId)).map((r) => [r.status, r.endReason]), [['start', undefined], ['stop', 'agent-lost']]);
    });
  });

  describe('the outbox', () => {
    test('due records come oldest event first, at most `limit`; claimed and deferred ones are not due', async () => {
      const a = accounted({ assignedIp: '10.9.0.20', startedAt: 1_000, updatedAt: 1_000 });
      const b = accounted({ assignedIp: '10.9.0.21', startedAt: 900, updatedAt: 900 });
      await t.store.startSession(a, leaseFor(a));
      await t.store.startSession(b, leaseFor(b));
      const ids = (await t.store.listDueAccountingRecords(1_000, 1000)).map((r) => r.sessionId).filter((id) => id === a.sessionId || id === b.sessionId);
      assert.deepEqual(ids, [b.sessionId, a.sessionId]);
      assert.equal((await t.store.listDueAccountingRecords(950, 1000)).some((r) => r.sessionId === a.sessionId), false, 'not due before its event');
      assert.equal((await t.store.listDueAccountingRecords(FAR, 1)).length, 1);
    });
    test("oldestAccountingRecord: a session's earliest waiting record, whether due or backed off", async () => {
      const s = accounted({ assignedIp: '10.9.0.40', startedAt: 3_000, updatedAt: 3_000 });
      await t.store.startSession(s, leaseFor(s));
      await t.store.updateSessionCounters(s.sessionId, { bytesIn: 1, bytesOut: 1, packetsIn: 1, packetsOut: 1 }, 63_000);
      await t.store.stopSession(s.sessionId, { reason: 'error', at: 64_000 });
      const [start, interim, stop] = await recordsOf(s.sessionId);
      assert.deepEqual([start?.status, interim?.status, stop?.status], ['start', 'interim', 'stop']);
      assert.equal((await t.store.oldestAccountingRecord(s.sessionId))?.recordId, start!.recordId);
      await t.store.deferAccountingRecord(start!.recordId, { attempts: 1, nextAttemptAt: FAR - 1, lastError: 'x' });
      assert.equal((await t.store.oldestAccountingRecord(s.sessionId))?.recordId, start!.recordId, 'backed off, still the oldest');
      await t.store.deleteAccountingRecord(start!.recordId);
      assert.equal((await t.store.oldestAccountingRecord(s.sessionId))?.recordId, interim!.recordId);
      assert.equal(await t.store.oldestAccountingRecord('no-such-session'), undefined);
    });
    test('a claim is exclusive until it runs out; defer counts the attempt and releases it; delete removes it for good', async () => {
      const s = accounted({ assignedIp: '10.9.0.30', startedAt: 2_000, updatedAt: 2_000 });
      await t.store.startSession(s, leaseFor(s));
      const [record] = await recordsOf(s.sessionId);
      const id = record!.recordId;
      const claimed = await t.store.claimAccountingRecord(id, 3_000, 8_000);
      assert.equal(claimed?.claimedUntil, 8_000);
      assert.equal(claimed?.sessionId, s.sessionId);
      assert.equal(await t.store.claimAccountingRecord(id, 4_000, 9_000), undefined, 'held by the first sender');
      assert.equal((await t.store.listDueAccountingRecords(4_000, 1000)).some((r) => r.recordId === id), false);
      assert.ok(await t.store.claimAccountingRecord(id, 8_000, 13_000), 'claimable once the claim ran out (a sender that died)');
      await t.store.deferAccountingRecord(id, { attempts: 1, nextAttemptAt: 20_000, lastError: 'no answer' });
      const deferred = (await recordsOf(s.sessionId))[0]!;
      assert.deepEqual([deferred.attempts, deferred.nextAttemptAt, deferred.lastError, deferred.claimedUntil], [1, 20_000, 'no answer', undefined]);
      assert.equal(await t.store.claimAccountingRecord(id, 19_999, 30_000), undefined, 'not before nextAttemptAt');
      assert.ok(await t.store.claimAccountingRecord(id, 20_000, 30_000));
      await t.store.deleteAccountingRecord(id);
      assert.deepEqual(await recordsOf(s.sessionId), []);
      await t.store.deferAccountingRecord(id, { attempts: 2, nextAttemptAt: 1, lastError: 'late' });
      assert.deepEqual(await recordsOf(s.sessionId), [], 'a late defer never brings a delivered record back');
      assert.equal(await t.store.oldestAccountingRecord(s.sessionId), undefined);
      assert.equal(await t.store.claimAccountingRecord(id, FAR, FAR), undefined);
      await t.store.deleteAccountingRecord(id);
    });
  });
}
