/**
 * Issue 18: the audit log of operator actions. Who (admin or the key), what, when, on what; per
 * tenant and fleet-wide; a tenant key reads only its own tenant's; and no secret ever reaches it:
 * every password, PSK and token the operations below carried is looked for in the API's answers
 * and in the raw table items.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { createHarness, seedTenant, type Harness } from '../../support/api-harness';

let h: Harness;
const SECRETS = ['first-user-pw-ZX81', 'changed-pw-C64!', 'fleet-psk-Amiga500', 'chap-secret-BBC-B'];
let acmeKey: { token: string; keyId: string };
const tokens: string[] = [];

before(async () => {
  h = await createHarness();
  await seedTenant(h, 'acme', { cidr: '10.70.0.0/24' });
  await seedTenant(h, 'globex', { cidr: '10.71.0.0/24' });
  const key = (await h.admin('POST', '/v1/api-keys', { scope: 'tenant', tenantId: 'acme', name: 'acme ops' })).body;
  acmeKey = { token: key.token, keyId: key.apiKey.keyId };
  tokens.push(key.token);
  h.clock.advance(1_000);
  const as = (method: string, path: string, body?: unknown) => h.call(method, path, { token: acmeKey.token, ...(body !== undefined ? { body } : {}) });
  assert.equal((await as('POST', '/v1/tenants/acme/users', { username: 'bob', password: SECRETS[0], chapMd5: true })).status, 201);
  // Events of the same millisecond sort by their random id: the test clock moves on so the order is known.
  h.clock.advance(1);
  assert.equal((await as('PATCH', '/v1/tenants/acme/users/bob', { password: SECRETS[1] })).status, 200);
  assert.equal((await h.admin('POST', '/v1/tenants/globex/users', { username: 'carol', password: SECRETS[3], chapMd5: true })).status, 201);
  assert.equal((await h.admin('PUT', '/v1/ipsec', { psk: SECRETS[2] })).status, 200);
  const agent = await h.admin('POST', '/v1/agents', { name: 'edge-audit' });
  tokens.push(agent.body.token);
  tokens.push((await h.admin('POST', `/v1/agents/${agent.body.agentId}/rotate-credential`)).body.token);
  tokens.push((await h.admin('POST', '/v1/api-keys', { scope: 'fleet', name: 'ci' })).body.token);
  // Reads and refusals are not actions.
  await as('GET', '/v1/tenants/acme/users');
  await as('POST', '/v1/tenants/acme/users', { username: 'weak', password: 'x' });
});
after(async () => {
  await h?.close();
});

test('who, what, when, on what: per tenant, newest first', async () => {
  const log = await h.admin('GET', '/v1/tenants/acme/audit');
  assert.equal(log.status, 200);
  const actions = log.body.items.map((e: { action: string }) => e.action);
  assert.deepEqual(actions.slice(0, 2), ['PATCH /v1/tenants/{tenantId}/users/{username}', 'POST /v1/tenants/{tenantId}/users']);
  const [patch, create] = log.body.items;
  assert.equal(patch.actor, `apikey:${acmeKey.keyId}`);
  assert.equal(patch.target, '/v1/tenants/acme/users/bob');
  assert.equal(patch.tenantId, 'acme');
  assert.deepEqual(patch.fields, ['password']);
  assert.equal(patch.at, '2024-05-01T12:00:01.001Z');
  assert.deepEqual(create.created, { username: 'bob' });
  assert.deepEqual(create.fields, ['chapMd5', 'password', 'username']);
  assert.ok(!actions.some((a: string) => a.startsWith('GET')), 'reads are not recorded');
  assert.equal(log.body.items.filter((e: { status: number }) => e.status >= 400).length, 0, 'refusals are not recorded');
  // The seeding by the admin, and the key creation, are on acme's log too.
  const byAdmin = log.body.items.filter((e: { actor: string }) => e.actor === 'admin').map((e: { action: string }) => e.action);
  for (const a of ['POST /v1/tenants', 'POST /v1/tenants/{tenantId}/pools', 'POST /v1/api-keys']) assert.ok(byAdmin.includes(a), a);
});

test('fleet-wide log: every tenant and the fleet actions; since/until; fleet scope only', async () => {
  const fleet = await h.admin('GET', '/v1/audit?limit=100');
  assert.equal(fleet.status, 200);
  const events = fleet.body.items as { action: string; tenantId?: string; created?: Record<string, string> }[];
  assert.ok(events.some((e) => e.tenantId === 'globex'));
  assert.ok(events.some((e) => e.action === 'PUT /v1/ipsec' && e.tenantId === undefined));
  const enrol = events.find((e) => e.action === 'POST /v1/agents');
  assert.ok(enrol?.created?.agentId, 'the enrolled agent is named');
  const later = await h.admin('GET', `/v1/audit?since=${encodeURIComponent('2024-05-01T12:00:01Z')}`);
  assert.ok(later.body.items.length > 0 && later.body.items.every((e: { at: string }) => e.at >= '2024-05-01T12:00:01.000Z'));
  assert.ok(later.body.items.length < events.length);
  // The attack: a tenant key reading the fleet's log or another tenant's.
  assert.equal((await h.call('GET', '/v1/audit', { token: acmeKey.token })).status, 403);
  const other = await h.call('GET', '/v1/tenants/globex/audit', { token: acmeKey.token });
  assert.equal(other.status, 404);
  assert.ok(!JSON.stringify(other.body).includes('carol'));
});

test('no password, PSK or token reaches the log, in the API or in the table', async () => {
  const answers = JSON.stringify([
    (await h.admin('GET', '/v1/audit?limit=100')).body,
    (await h.admin('GET', '/v1/tenants/acme/audit?limit=100')).body,
    (await h.admin('GET', '/v1/tenants/globex/audit?limit=100')).body,
  ]);
  const scan = await h.testStore.client.send(new ScanCommand({ TableName: h.testStore.tableName }));
  const auditItems = JSON.stringify((scan.Items ?? []).map((i) => unmarshall(i)).filter((i) => i.itemType === 'audit-event'));
  assert.ok(auditItems.length > 100, 'there are audit items to look at');
  for (const secret of [...SECRETS, ...tokens]) {
    assert.ok(!answers.includes(secret), `the API's log shows ${secret.slice(0, 8)}...`);
    assert.ok(!auditItems.includes(secret), `the table's log holds ${secret.slice(0, 8)}...`);
    // A token is <family>_<id>_<secret>; the secret may itself contain "_".
    if (/^tb[ak]_/.test(secret)) {
      const secretPart = secret.slice(secret.indexOf('_', 4) + 1);
      assert.ok(secretPart.length >= 16 && !auditItems.includes(secretPart), 'nor the secret part of a token');
    }
  }
});
