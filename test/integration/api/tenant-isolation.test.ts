import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness, seedAgent, seedTenant, startBody, startGranted, type Harness } from '../../support/api-harness';

let h: Harness;
let acmeKey: string;
let globexSessionId: string;
let acmeSessionId: string;
let agentId: string;

before(async () => {
  h = await createHarness();
  await seedTenant(h, 'acme');
  await seedTenant(h, 'globex', { cidr: '10.50.0.0/24' });
  const agent = await seedAgent(h);
  agentId = agent.agentId;
  acmeSessionId = (await startGranted(h, agent.token, startBody('a1', 'acme'))).body.sessionId;
  h.clock.advance(60_000);
  globexSessionId = (await startGranted(h, agent.token, startBody('g1', 'globex'))).body.sessionId;
  acmeKey = (await h.admin('POST', '/v1/api-keys', { scope: 'tenant', tenantId: 'acme', name: 'acme' })).body.token;
});
after(async () => {
  await h?.close();
});

const asAcme = (method: string, path: string, body?: unknown) => h.call(method, path, { token: acmeKey, ...(body ? { body } : {}) });

test('a tenant key manages its own tenant', async () => {
  assert.equal((await asAcme('GET', '/v1/tenants/acme')).status, 200);
  assert.equal((await asAcme('GET', '/v1/tenants/acme/users')).status, 200);
  assert.equal((await asAcme('POST', '/v1/tenants/acme/users', { username: 'zoe', password: 'long enough' })).status, 201);
  assert.equal((await asAcme('GET', '/v1/tenants/acme/pools')).status, 200);
  assert.equal((await asAcme('GET', `/v1/sessions/${acmeSessionId}`)).status, 200);
});

test("another tenant's resources answer 404 and reveal nothing", async () => {
  for (const [method, path, body] of [
    ['GET', '/v1/tenants/globex', undefined],
    ['GET', '/v1/tenants/globex/users', undefined],
    ['POST', '/v1/tenants/globex/users', { username: 'spy', password: 'pw' }],
    ['GET', '/v1/tenants/globex/users/alice/auth-events', undefined],
    ['DELETE', '/v1/tenants/globex/users/alice', undefined],
    ['GET', '/v1/tenants/globex/pools', undefined],
    ['POST', '/v1/tenants/globex/pools', { poolId: 'x', cidr: '10.60.0.0/24', dns: ['1.1.1.1'] }],
    ['GET', `/v1/sessions/${globexSessionId}`, undefined],
    ['DELETE', `/v1/sessions/${globexSessionId}`, undefined],
    ['GET', '/v1/sessions?tenantId=globex', undefined],
  ] as const) {
    const res = await asAcme(method, path, body);
    assert.equal(res.status, 404, `${method} ${path}`);
    assert.ok(!JSON.stringify(res.body).includes('10.50.0'), 'no data leaks');
  }
  // Nothing was changed on the other tenant.
  assert.equal((await h.admin('GET', `/v1/sessions/${globexSessionId}`)).body.disconnectRequestedAt, undefined);
  const users = await h.admin('GET', '/v1/tenants/globex/users');
  assert.deepEqual(users.body.items.map((u: { username: string }) => u.username), ['alice']);
});

test('session listing with a tenant key only returns its own sessions', async () => {
  const mine = await asAcme('GET', '/v1/sessions');
  assert.equal(mine.status, 200);
  assert.ok(mine.body.items.length >= 1);
  assert.ok(mine.body.items.every((s: { tenantId: string }) => s.tenantId === 'acme'));
  const byAgent = await asAcme('GET', `/v1/sessions?agentId=${agentId}`);
  assert.ok(byAgent.body.items.every((s: { tenantId: string }) => s.tenantId === 'acme'));
});

test('fleet listing filters: tenant, username, agent, state, time window, paging', async () => {
  const all = await h.admin('GET', '/v1/sessions');
  assert.deepEqual(all.body.items.map((s: { sessionId: string }) => s.sessionId).sort(), [acmeSessionId, globexSessionId].sort());
  const globex = await h.admin('GET', '/v1/sessions?tenantId=globex&username=alice');
  assert.deepEqual(globex.body.items.map((s: { sessionId: string }) => s.sessionId), [globexSessionId]);
  const since = await h.admin('GET', `/v1/sessions?since=${encodeURIComponent('2024-05-01T12:00:30Z')}`);
  assert.deepEqual(since.body.items.map((s: { sessionId: string }) => s.sessionId), [globexSessionId]);
  const until = await h.admin('GET', `/v1/sessions?until=${Date.parse('2024-05-01T12:00:30Z')}`);
  assert.deepEqual(until.body.items.map((s: { sessionId: string }) => s.sessionId), [acmeSessionId]);
  assert.equal((await h.admin('GET', '/v1/sessions?state=stopped')).body.items.length, 0);
  assert.equal((await h.admin('GET', `/v1/sessions?agentId=${agentId}&state=active`)).body.items.length, 2);
  const page1 = await h.admin('GET', '/v1/sessions?limit=1');
  assert.equal(page1.body.items.length, 1);
  assert.ok(page1.body.cursor);
  const page2 = await h.admin('GET', `/v1/sessions?limit=1&cursor=${encodeURIComponent(page1.body.cursor)}`);
  assert.equal(page2.body.items.length, 1);
  assert.notEqual(page2.body.items[0].sessionId, page1.body.items[0].sessionId);
  const badTime = await h.admin('GET', '/v1/sessions?since=yesterday');
  assert.equal(badTime.status, 400);
  assert.equal(badTime.body.error.field, 'since');
  assert.equal((await h.admin('GET', '/v1/sessions?username=alice')).body.error.field, 'username');
  assert.equal((await h.admin('GET', '/v1/sessions?limit=1000')).body.error.field, 'limit');
  const badCursor = await h.admin('GET', '/v1/sessions?cursor=garbage');
  assert.equal(badCursor.status, 400);
  assert.equal(badCursor.body.error.field, 'cursor');
});
