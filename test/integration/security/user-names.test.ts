/**
 * Issue 14 #11: user names were case-sensitive and not normalised, so `alice`, `ALICE`, Cyrillic
 * `аlice` and `alice\u200b` could be four users of one tenant. Now a name is stored in canonical
 * form (NFKC, case-folded) and names with invisible characters or mixed scripts are refused.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness, mschapv2Body, seedAgent, seedTenant, type Harness } from '../../support/api-harness';
import { user as userRecord } from '../../support/store-fixtures';

let h: Harness;
let agent: { agentId: string; token: string };
before(async () => {
  h = await createHarness();
  await seedTenant(h, 'acme'); // creates alice
  agent = await seedAgent(h);
});
after(async () => {
  await h?.close();
});

const authenticate = async (name: string, password: string) =>
  (await h.call('POST', '/v1/agent/authenticate', { token: agent.token, body: await mschapv2Body(name, password, 'ref-names') })).body;

describe('issue 14 #11: look-alike names cannot coexist in one tenant', () => {
  test('ALICE is alice (409); Cyrillic аlice and alice + zero-width space are refused (400)', async () => {
    const create = (username: string) => h.admin('POST', '/v1/tenants/acme/users', { username, password: 'other password' });
    const upper = await create('ALICE');
    assert.deepEqual([upper.status, upper.body.error.code], [409, 'user-exists']);
    for (const name of ['аlice', 'alice\u200b', 'ａｌｉｃｅ\u200d']) {
      const res = await create(name);
      assert.deepEqual([res.status, res.body.error.field], [400, 'username'], JSON.stringify(name));
    }
    const fullwidth = await create('ａｌｉｃｅ');
    assert.equal(fullwidth.status, 409, 'fullwidth letters are the same name');
    const users = await h.admin('GET', '/v1/tenants/acme/users');
    assert.deepEqual(users.body.items.map((u: { username: string }) => u.username), ['alice']);
  });

  test('a new name is stored in canonical form; the user logs in however the client cases it', async () => {
    const created = await h.admin('POST', '/v1/tenants/acme/users', { username: 'Jürgen', password: 'jays-password' });
    assert.equal(created.body.username, 'jürgen');
    for (const name of ['jürgen@acme', 'JÜRGEN@acme', 'ACME\\Ju\u0308rgen']) {
      const v = await authenticate(name, 'jays-password');
      assert.equal(v.ok, true, `${name}: ${JSON.stringify(v)}`);
      assert.equal(v.username, 'jürgen');
    }
    assert.equal((await h.admin('GET', '/v1/tenants/acme/users/J%C3%9CRGEN/auth-events')).status, 200, 'operator routes take any case too');
    assert.equal((await h.admin('DELETE', '/v1/tenants/acme/users/J%C3%9CRGEN')).status, 204);
    assert.equal((await authenticate('jürgen@acme', 'jays-password')).reason, 'unknown-user');
  });

  test('a user stored before canonical names keeps its name and its login', async () => {
    // As written by an older broker: a name with capitals and the NT hash in clear.
    await h.testStore.store.createUser(userRecord({ tenantId: 'acme', username: 'Legacy', credentials: { ntHash: '8846f7eaee8fb117ad06bdd830b7586c' } })); // "password"
    const v = await authenticate('Legacy@acme', 'password');
    assert.equal(v.ok, true, JSON.stringify(v));
    assert.equal(v.username, 'Legacy');
    // Only as stored: its canonical form `legacy` names no user (docs/security.md: re-create such users).
    assert.equal((await authenticate('legacy@acme', 'password')).reason, 'unknown-user');
    assert.equal((await h.admin('GET', '/v1/tenants/acme/users/Legacy/auth-events')).status, 200);
  });
});
