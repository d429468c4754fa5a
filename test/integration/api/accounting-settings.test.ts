/**
 * Issue 20 (accounting): a tenant's RADIUS accounting settings through the operator API, on
 * DynamoDB Local. Secrets are stored sealed and never answered; a tenant key reaches its own
 * tenant only; bad input is a 400 naming the field and changes nothing; the audit log keeps the
 * field names, never the secret.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness, seedTenant, type Harness } from '../../support/api-harness';

let h: Harness;
let acmeKey: string;
let globexKey: string;
const SECRET = 'acct-shared-secret-acme';
const body = { servers: [{ host: '192.0.2.10', secret: SECRET }, { host: 'radius.example.net', port: 1646, secret: 'second-secret-xyz' }], interimIntervalSeconds: 120 };

before(async () => {
  h = await createHarness();
  await seedTenant(h, 'acme');
  await seedTenant(h, 'globex');
  acmeKey = (await h.admin('POST', '/v1/api-keys', { scope: 'tenant', tenantId: 'acme', name: 'acme' })).body.token;
  globexKey = (await h.admin('POST', '/v1/api-keys', { scope: 'tenant', tenantId: 'globex', name: 'globex' })).body.token;
});
after(() => h.close());

test('off until set; PUT turns it on and answers without any secret; GET shows the same', async () => {
  assert.deepEqual((await h.admin('GET', '/v1/tenants/acme/accounting')).body, { tenantId: 'acme', enabled: false });
  const put = await h.call('PUT', '/v1/tenants/acme/accounting', { token: acmeKey, body });
  assert.equal(put.status, 200);
  assert.deepEqual(put.body.servers, [
    { host: '192.0.2.10', port: 1813, secretSet: true },
    { host: 'radius.example.net', port: 1646, secretSet: true },
  ]);
  assert.equal(put.body.interimIntervalSeconds, 120);
  assert.doesNotMatch(JSON.stringify(put.body), /acct-shared|second-secret/);
  const got = await h.call('GET', '/v1/tenants/acme/accounting', { token: acmeKey });
  assert.deepEqual(got.body, put.body);
  // Stored sealed: the tenant item holds no clear secret, and the tenant's own rendering shows no accounting.
  const stored = JSON.stringify(await h.testStore.store.getTenant('acme'));
  assert.doesNotMatch(stored, /acct-shared|second-secret/);
  assert.match(stored, /"ciphertext"/);
  assert.equal((await h.admin('GET', '/v1/tenants/acme')).body.accounting, undefined);
});

test("a tenant key can neither read nor set nor remove another tenant's accounting (404, nothing changed)", async () => {
  await h.admin('PUT', '/v1/tenants/acme/accounting', body);
  const before = await h.testStore.store.getTenant('acme');
  assert.equal((await h.call('GET', '/v1/tenants/acme/accounting', { token: globexKey })).status, 404);
  assert.equal((await h.call('PUT', '/v1/tenants/acme/accounting', { token: globexKey, body: { servers: [{ host: '203.0.113.66', secret: 'attacker-secret' }] } })).status, 404);
  assert.equal((await h.call('DELETE', '/v1/tenants/acme/accounting', { token: globexKey })).status, 404);
  assert.deepEqual(await h.testStore.store.getTenant('acme'), before);
  // Negative control: the same calls with acme's own key do reach it.
  assert.equal((await h.call('GET', '/v1/tenants/acme/accounting', { token: acmeKey })).status, 200);
});

test('bad input is a 400 naming the field, and changes nothing', async () => {
  await h.admin('PUT', '/v1/tenants/acme/accounting', body);
  const before = await h.testStore.store.getTenant('acme');
  const cases: [unknown, string][] = [
    [{ servers: [] }, 'servers'],
    [{ servers: [{ host: '192.0.2.1', secret: 'short' }] }, 'servers.0.secret'],
    [{ servers: [{ host: 'not a host!', secret: 'long-enough-secret' }] }, 'servers.0.host'],
    [{ servers: [{ host: '192.0.2.1', port: 70000, secret: 'long-enough-secret' }] }, 'servers.0.port'],
    [{ servers: [{ host: '192.0.2.1', secret: 'long-enough-secret' }], interimIntervalSeconds: 59 }, 'interimIntervalSeconds'],
    [{ servers: [{ host: '192.0.2.1', secret: 'long-enough-secret' }], extra: 1 }, ''],
  ];
  for (const [bad, field] of cases) {
    const res = await h.admin('PUT', '/v1/tenants/acme/accounting', bad);
    assert.equal(res.status, 400, JSON.stringify(bad));
    if (field) assert.equal(res.body.error.field, field, JSON.stringify(res.body));
  }
  assert.deepEqual(await h.testStore.store.getTenant('acme'), before);
  assert.equal((await h.admin('PUT', '/v1/tenants/nobody/accounting', body)).status, 404);
});

test('DELETE turns it off', async () => {
  await h.admin('PUT', '/v1/tenants/globex/accounting', body);
  const res = await h.call('DELETE', '/v1/tenants/globex/accounting', { token: globexKey });
  assert.deepEqual([res.status, res.body], [200, { tenantId: 'globex', enabled: false }]);
  assert.equal((await h.testStore.store.getTenant('globex'))?.accounting, undefined);
});

test('the audit log records the change with field names only, never the secret', async () => {
  await h.call('PUT', '/v1/tenants/acme/accounting', { token: acmeKey, body });
  const log = await h.admin('GET', '/v1/tenants/acme/audit?limit=100');
  const event = log.body.items.find((e: { action: string }) => e.action === 'PUT /v1/tenants/{tenantId}/accounting');
  assert.ok(event, JSON.stringify(log.body.items.map((e: { action: string }) => e.action)));
  assert.deepEqual([...event.fields].sort(), ['interimIntervalSeconds', 'servers']);
  assert.doesNotMatch(JSON.stringify(log.body), /acct-shared|second-secret/);
});
