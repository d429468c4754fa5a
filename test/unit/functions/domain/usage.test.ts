/** The usage rule (domain/usage.ts, docs/api.md "Usage"): sessions spanning days, clipping, bytes pro rata. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { usageOf } from '../../../../functions/src/domain/usage';
import { session } from '../../../support/store-fixtures';

const T = (iso: string) => Date.parse(iso);
const stopped = (start: string, stop: string, o = {}) => session({ startedAt: T(start), updatedAt: T(stop), stoppedAt: T(stop), state: 'stopped', ...o });

test('a session across midnight counts once on each day, its hours and bytes split by time', () => {
  const s = stopped('2024-05-01T23:00:00Z', '2024-05-02T01:00:00Z', { bytesIn: 7200, bytesOut: 72 });
  const u = usageOf([s], T('2024-05-01T00:00:00Z'), T('2024-05-03T00:00:00Z'), T('2024-05-10T00:00:00Z'));
  assert.deepEqual(u.days, [
    { day: '2024-05-01', sessions: 1, sessionHours: 1, bytesIn: 3600, bytesOut: 36 },
    { day: '2024-05-02', sessions: 1, sessionHours: 1, bytesIn: 3600, bytesOut: 36 },
  ]);
  assert.deepEqual(u.totals, { sessions: 1, sessionHours: 2, bytesIn: 7200, bytesOut: 72 }, 'one session in the totals');
  assert.deepEqual(u.users, [{ username: 'alice', sessions: 1, sessionHours: 2, bytesIn: 7200, bytesOut: 72 }]);
});

test('the range clips a session: only its part inside counts', () => {
  const s = stopped('2024-05-01T23:00:00Z', '2024-05-02T01:00:00Z', { bytesIn: 7200 });
  const u = usageOf([s], T('2024-05-02T00:30:00Z'), T('2024-05-03T00:00:00Z'), T('2024-05-10T00:00:00Z'));
  assert.deepEqual(u.days, [{ day: '2024-05-02', sessions: 1, sessionHours: 0.5, bytesIn: 1800, bytesOut: 0 }]);
  assert.equal(usageOf([s], T('2024-05-02T01:00:00Z'), T('2024-05-03T00:00:00Z'), T('2024-05-10T00:00:00Z')).totals.sessions, 0, 'stopped before the range');
});

test('a running session counts until now; its bytes are spread up to its last report', () => {
  const s = session({ username: 'bob', startedAt: T('2024-05-02T10:00:00Z'), updatedAt: T('2024-05-02T11:00:00Z'), bytesIn: 100 });
  const u = usageOf([s], T('2024-05-02T00:00:00Z'), T('2024-05-03T00:00:00Z'), T('2024-05-02T12:00:00Z'));
  assert.deepEqual(u.totals, { sessions: 1, sessionHours: 2, bytesIn: 100, bytesOut: 0 });
});

test('a session without duration counts on its start day with all its bytes; parts always add up', () => {
  const point = stopped('2024-05-02T05:00:00Z', '2024-05-02T05:00:00Z', { username: 'carol', bytesIn: 10 });
  const long = stopped('2024-05-01T00:00:00Z', '2024-05-04T00:00:00Z', { username: 'dave', bytesIn: 10, bytesOut: 1 });
  const u = usageOf([point, long], T('2024-05-01T00:00:00Z'), T('2024-05-04T00:00:00Z'), T('2024-05-10T00:00:00Z'));
  assert.deepEqual(u.users.find((x) => x.username === 'carol'), { username: 'carol', sessions: 1, sessionHours: 0, bytesIn: 10, bytesOut: 0 });
  const dave = u.users.find((x) => x.username === 'dave')!;
  assert.deepEqual([dave.sessions, dave.sessionHours, dave.bytesIn, dave.bytesOut], [1, 72, 10, 1]);
  assert.deepEqual(u.days.map((d) => d.sessions), [1, 2, 1]);
  assert.equal(u.days.reduce((sum, d) => sum + d.bytesIn, 0), 20, 'rounded parts add up to the totals');
});
