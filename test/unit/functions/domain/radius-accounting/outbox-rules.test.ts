import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accountingRecordId, interimChange, startRecord, stopRecord } from '../../../../../functions/src/domain/radius-accounting/outbox-rules';
import { afterInterim, stoppedSession } from '../../../../../functions/src/domain/session-accounting';
import { session } from '../../../../support/store-fixtures';

const accounted = session({ startedAt: 100_000, updatedAt: 100_000, accounting: { interimIntervalSeconds: 60 }, radiusClass: ['QUJD'], peerAddress: '198.51.100.4:1701' });

test('a session without accounting gets no record, whatever happens to it', () => {
  const plain = session();
  assert.equal(startRecord(plain), undefined);
  const after = afterInterim(plain, { bytesIn: 1, bytesOut: 1, packetsIn: 1, packetsOut: 1 }, plain.startedAt + 3_600_000)!;
  assert.deepEqual(interimChange(plain, after, plain.startedAt + 3_600_000), { session: after });
  assert.equal(stopRecord(stoppedSession(plain, { reason: 'error', at: plain.startedAt + 1 })), undefined);
});

test('Start: at the start time, zero counters, the Class, nothing to wait for', () => {
  const r = startRecord(accounted)!;
  assert.deepEqual(
    [r.status, r.eventAt, r.nextAttemptAt, r.attempts, r.bytesIn, r.radiusClass, r.peerAddress, r.endReason],
    ['start', 100_000, 100_000, 0, 0, ['QUJD'], '198.51.100.4:1701', undefined],
  );
  assert.equal(r.recordId, accountingRecordId(accounted.sessionId, 100_000, 'start'));
});

test('Interim-Update: due only once the interval passed since the last one, which then moves', () => {
  const c = { bytesIn: 10, bytesOut: 20, packetsIn: 1, packetsOut: 2 };
  const early = afterInterim(accounted, c, 159_999)!;
  assert.equal(interimChange(accounted, early, 159_999).record, undefined);
  const due = afterInterim(accounted, c, 160_000)!;
  const change = interimChange(accounted, due, 160_000);
  assert.equal(change.record?.status, 'interim');
  assert.equal(change.record?.bytesOut, 20);
  assert.deepEqual(change.session.accounting, { interimIntervalSeconds: 60, lastInterimAt: 160_000 });
  const next = afterInterim(change.session, { ...c, bytesIn: 11 }, 219_999)!;
  assert.equal(interimChange(change.session, next, 219_999).record, undefined, '59.999 s after the last');
  assert.ok(interimChange(change.session, next, 220_000).record);
});

test('Stop: at the stop time with the final counters and the end reason', () => {
  const stopped = stoppedSession(accounted, { reason: 'idle-timeout', at: 200_000, counters: { bytesIn: 5, bytesOut: 6, packetsIn: 7, packetsOut: 8 } });
  const r = stopRecord(stopped)!;
  assert.deepEqual([r.status, r.eventAt, r.startedAt, r.endReason, r.bytesIn, r.packetsOut], ['stop', 200_000, 100_000, 'idle-timeout', 5, 8]);
});

test('record ids order a session\'s records by time, then start < interim < stop', () => {
  const ids = [accountingRecordId('s', 5, 'stop'), accountingRecordId('s', 5, 'start'), accountingRecordId('s', 4, 'stop'), accountingRecordId('s', 5, 'interim')];
  assert.deepEqual([...ids].sort(), [accountingRecordId('s', 4, 'stop'), accountingRecordId('s', 5, 'start'), accountingRecordId('s', 5, 'interim'), accountingRecordId('s', 5, 'stop')]);
});
