import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agentHealth, agentLoadPercent, defaultUsageRange, formatAge, formatBytes, formatDuration, formatTime, sessionMatches, sessionStateText } from '../../../console/src/format';

test('formatBytes: binary units, one decimal below 10, "-" for nonsense', () => {
  assert.deepEqual([0, 1023, 1536, 10 * 1024, 5 * 1024 ** 3].map(formatBytes), ['0 B', '1023 B', '1.5 KiB', '10 KiB', '5.0 GiB']);
  assert.equal(formatBytes(-1), '-');
  assert.equal(formatBytes(Number.NaN), '-');
});

test('formatDuration and formatAge', () => {
  assert.deepEqual([999, 59_000, 93_000, 3 * 3600_000 + 60_000, 50 * 3600_000].map(formatDuration), ['0 s', '59 s', '1 min 33 s', '3 h 1 min', '2 d 2 h']);
  const now = Date.parse('2026-12-07T12:00:00Z');
  assert.equal(formatAge('2026-12-07T11:59:48Z', now), '12 s ago');
  assert.equal(formatAge('2026-12-07T12:00:05Z', now), 'just now');
  assert.equal(formatAge(undefined, now), '-');
  assert.equal(formatAge('not a time', now), '-');
  assert.equal(formatTime('2026-12-07T13:05:09.123Z'), '2026-12-07 13:05:09 UTC');
  assert.equal(formatTime('garbage'), '-');
});

test('agent load: a clamped whole percentage; no capacity is 0', () => {
  assert.equal(agentLoadPercent({ capacity: 100, activeSessions: 37 }), 37);
  assert.equal(agentLoadPercent({ capacity: 3, activeSessions: 1 }), 33);
  assert.equal(agentLoadPercent({ capacity: 10, activeSessions: 12 }), 100);
  assert.equal(agentLoadPercent({ capacity: 0, activeSessions: 5 }), 0);
});

test("agent health: the broker's verdict first, then the heartbeat's age", () => {
  const now = Date.parse('2026-12-07T12:00:00Z');
  const base = { state: 'active', revoked: false, capacity: 10, activeSessions: 0, lastHeartbeatAt: '2026-12-07T11:59:30Z' };
  assert.equal(agentHealth(base, now), 'healthy');
  assert.equal(agentHealth({ ...base, lastHeartbeatAt: '2026-12-07T11:57:59Z' }, now), 'late');
  assert.equal(agentHealth({ ...base, lastHeartbeatAt: undefined }, now), 'never seen');
  assert.equal(agentHealth({ ...base, state: 'draining' }, now), 'draining');
  assert.equal(agentHealth({ ...base, state: 'dead' }, now), 'dead');
  assert.equal(agentHealth({ ...base, state: 'dead', revoked: true }, now), 'revoked');
});

test('session search: every word must match user, user@tenant, address, peer, agent or id; case-insensitive', () => {
  const s = { sessionId: 'sess-abc', tenantId: 'acme', username: 'Bob', agentId: 'agent-1', assignedIp: '10.8.0.5', peerAddress: '198.51.100.7:1701', state: 'active' };
  for (const q of ['', '  ', 'bob', 'BOB@ACME', '10.8.0', '198.51', 'agent-1', 'sess-abc', 'bob 10.8']) assert.ok(sessionMatches(s, q), q);
  for (const q of ['alice', 'bob 10.9', 'globex']) assert.ok(!sessionMatches(s, q), q);
});

test('session state text', () => {
  assert.equal(sessionStateText({ state: 'active' }), 'active');
  assert.equal(sessionStateText({ state: 'active', disconnectRequestedAt: '2026-12-07T12:00:00Z' }), 'disconnecting');
  assert.equal(sessionStateText({ state: 'stopped', endReason: 'admin-disconnect' }), 'ended (admin-disconnect)');
  assert.equal(sessionStateText({ state: 'stopped' }), 'ended');
});

test('default usage range: the last 7 UTC days including today, end exclusive', () => {
  assert.deepEqual(defaultUsageRange(Date.parse('2026-12-07T23:59:00Z')), { from: '2026-12-01', to: '2026-12-08' });
  assert.deepEqual(defaultUsageRange(Date.parse('2026-03-01T00:00:00Z'), 1), { from: '2026-03-01', to: '2026-03-02' });
});
