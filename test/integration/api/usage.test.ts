/**
 * Issue 18: per-tenant usage through the API on DynamoDB Local: sessions, session-hours and bytes
 * per day and per user, from the session records; a tenant key reads only its own.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness, seedAgent, seedTenant, startBody, startGranted, type Harness } from '../../support/api-harness';

let h: Harness;
let acmeKey: string;
before(async () => {
  h = await createHarness();
  await seedTenant(h, 'acme');
  await seedTenant(h, 'globex');
  await h.admin('POST', '/v1/tenants/acme/users', { username: 'bob', password: 'correct horse' });
  acmeKey = (await h.admin('POST', '/v1/api-keys', { scope: 'tenant', tenantId: 'acme', name: 'acme' })).body.token;
  const agent = await seedAgent(h);
  // The clock starts at 2024-05-01T12:00Z. alice: 12:00 -> next day 12:00 (24 h, across midnight).
  const alice = (await startGranted(h, agent.token, startBody('u1', 'acme', 'alice'))).body.sessionId;
  h.clock.advance(6 * 3_600_000);
  // bob: 18:00 -> 20:00 the first day.
  const bob = (await startGranted(h, agent.token, startBody('u2', 'acme', 'bob'))).body.sessionId;
  await startGranted(h, agent.token, startBody('g1', 'globex', 'alice'));
  h.clock.advance(2 * 3_600_000);
  await h.call('POST', `/v1/agent/sessions/${bob}/stop`, { token: agent.token, body: { reason: 'user-request', counters: { bytesIn: 2000, bytesOut: 200, packetsIn: 1, packetsOut: 1 } } });
  h.clock.advance(16 * 3_600_000);
  await h.call('POST', `/v1/agent/sessions/${alice}/stop`, { token: agent.token, body: { reason: 'user-request', counters: { bytesIn: 48_000, bytesOut: 4_800, packetsIn: 1, packetsOut: 1 } } });
});
after(async () => {
  await h?.close();
});

test('per day and per user, a session across midnight split by time', async () => {
  const res = await h.admin('GET', '/v1/tenants/acme/usage?from=2024-05-01T00:00:00Z&to=2024-05-03T00:00:00Z');
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.deepEqual(res.body.days, [
    { day: '2024-05-01', sessions: 2, sessionHours: 14, bytesIn: 24_000 + 2000, bytesOut: 2400 + 200 },
    { day: '2024-05-02', sessions: 1, sessionHours: 12, bytesIn: 24_000, bytesOut: 2400 },
  ]);
  assert.deepEqual(res.body.users, [
    { username: 'alice', sessions: 1, sessionHours: 24, bytesIn: 48_000, bytesOut: 4800 },
    { username: 'bob', sessions: 1, sessionHours: 2, bytesIn: 2000, bytesOut: 200 },
  ]);
  assert.deepEqual(res.body.totals, { sessions: 2, sessionHours: 26, bytesIn: 50_000, bytesOut: 5000 });
  // A range starting after bob's session sees only alice's second half.
  const later = await h.admin('GET', `/v1/tenants/acme/usage?from=${Date.parse('2024-05-02T00:00:00Z')}&to=${Date.parse('2024-05-03T00:00:00Z')}`);
  assert.deepEqual(later.body.totals, { sessions: 1, sessionHours: 12, bytesIn: 24_000, bytesOut: 2400 });
});

test('bad ranges are 400; a tenant key reads its own usage, never another tenant\'s', async () => {
  assert.equal((await h.admin('GET', '/v1/tenants/acme/usage?from=2024-05-02T00:00:00Z&to=2024-05-01T00:00:00Z')).body.error.field, 'to');
  assert.equal((await h.admin('GET', '/v1/tenants/acme/usage?from=2024-01-01T00:00:00Z&to=2024-06-01T00:00:00Z')).body.error.field, 'to');
  assert.equal((await h.admin('GET', '/v1/tenants/acme/usage?to=2024-06-01T00:00:00Z')).body.error.field, 'from');
  const q = '?from=2024-05-01T00:00:00Z&to=2024-05-03T00:00:00Z';
  assert.equal((await h.call('GET', `/v1/tenants/acme/usage${q}`, { token: acmeKey })).status, 200);
  const other = await h.call('GET', `/v1/tenants/globex/usage${q}`, { token: acmeKey });
  assert.equal(other.status, 404);
  assert.ok(!JSON.stringify(other.body).includes('sessionHours'));
});
