/**
 * Issue 18: a 1-character password was accepted. Every tenant has a password policy (the default
 * unless it sets its own), applied when a user is created (and when the password changes:
 * user-admin.test.ts); a refused password creates nothing.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness, seedTenant, type Harness } from '../../support/api-harness';

let h: Harness;
before(async () => {
  h = await createHarness();
  await seedTenant(h, 'acme');
});
after(async () => {
  await h?.close();
});

test('the default policy refuses a short password and one containing the user name', async () => {
  const tenant = await h.admin('GET', '/v1/tenants/acme');
  assert.deepEqual(tenant.body.passwordPolicy, { minLength: 8, rejectUsername: true });
  const short = await h.admin('POST', '/v1/tenants/acme/users', { username: 'bob', password: 'x' });
  assert.equal(short.status, 400);
  assert.equal(short.body.error.code, 'password-too-weak');
  assert.equal(short.body.error.field, 'password');
  assert.match(short.body.error.message, /at least 8 characters/);
  const named = await h.admin('POST', '/v1/tenants/acme/users', { username: 'Robert', password: 'robert2024!' });
  assert.equal(named.body.error.code, 'password-too-weak');
  assert.match(named.body.error.message, /user name/);
  assert.ok(!JSON.stringify(named.body).includes('robert2024!'), 'the password is not echoed');
  const users = (await h.admin('GET', '/v1/tenants/acme/users')).body.items.map((u: { username: string }) => u.username);
  assert.deepEqual(users, ['alice'], 'nothing was created');
  assert.equal((await h.admin('POST', '/v1/tenants/acme/users', { username: 'bob', password: 'correct horse' })).status, 201);
});

test("a tenant's own policy applies to its users only", async () => {
  const created = await h.admin('POST', '/v1/tenants', { tenantId: 'strict-co', name: 'Strict', passwordPolicy: { minLength: 16 } });
  assert.equal(created.status, 201);
  assert.deepEqual(created.body.passwordPolicy, { minLength: 16, rejectUsername: true }, 'unset fields keep the default');
  await h.admin('POST', '/v1/tenants/strict-co/pools', { poolId: 'main', cidr: '10.91.0.0/24', dns: ['1.1.1.1'] });
  assert.equal((await h.admin('POST', '/v1/tenants/strict-co/users', { username: 'bob', password: 'correct horse' })).body.error.code, 'password-too-weak');
  assert.equal((await h.admin('POST', '/v1/tenants/strict-co/users', { username: 'bob', password: 'correct horse battery' })).status, 201);
  const bad = await h.admin('POST', '/v1/tenants', { tenantId: 'bad-co', name: 'Bad', passwordPolicy: { minLength: 0 } });
  assert.equal(bad.body.error.field, 'passwordPolicy.minLength');
});
