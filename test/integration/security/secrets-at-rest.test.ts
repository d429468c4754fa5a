/**
 * Issue 14 #6: the user item held `ntHash` in clear hex, enough to log in with MS-CHAPv2; the
 * sealed CHAP secret's additional data named no user, so a blob copied to another user opened;
 * and the ciphertext length gave away the password's length. Now the NT hash is sealed, every
 * user blob is bound to tenant and user, CHAP secrets and the PSK are padded to one length, and
 * items written before still log in and are re-sealed on the way.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { computeChapMd5, ntPasswordHash } from '../../../contract/src/ppp-auth';
import type { IpsecSettings, User } from '../../../functions/src/domain/types';
import { createHarness, mschapv2Body, seedAgent, seedTenant, type Harness } from '../../support/api-harness';
import { user as userRecord } from '../../support/store-fixtures';

let h: Harness;
let agent: { agentId: string; token: string };
before(async () => {
  h = await createHarness();
  await seedTenant(h, 'acme', { authMethods: ['mschapv2', 'chap-md5', 'pap'] });
  agent = await seedAgent(h);
});
after(async () => {
  await h?.close();
});

async function items(): Promise<Record<string, unknown>[]> {
  const out = await h.testStore.client.send(new ScanCommand({ TableName: h.testStore.tableName }));
  return (out.Items ?? []).map((i) => unmarshall(i));
}
const mschapv2 = async (name: string, password: string) =>
  (await h.call('POST', '/v1/agent/authenticate', { token: agent.token, body: await mschapv2Body(name, password, 'ref-rest') })).body;

describe('issue 14 #6: secrets at rest', () => {
  test('no NT hash or password in clear anywhere in the table', async () => {
    const passwords = ['short-pw', 'a considerably longer pass phrase, 40 ch'];
    for (const [i, password] of passwords.entries()) {
      assert.equal((await h.admin('POST', '/v1/tenants/acme/users', { username: `u${i}`, password, chapMd5: true })).status, 201);
    }
    const text = JSON.stringify(await items());
    for (const password of passwords) {
      const nt = (await ntPasswordHash(password)).toString('hex');
      assert.ok(!text.includes(nt) && !text.toLowerCase().includes(nt), 'NT hash in clear');
      assert.ok(!text.includes(password), 'password in clear');
    }
    const stored = (await h.testStore.store.getUser('acme', 'u0'))!;
    assert.deepEqual(Object.keys(stored.credentials).sort(), ['chapSecret', 'ntHashSealed']);
    const other = (await h.testStore.store.getUser('acme', 'u1'))!;
    assert.equal(stored.credentials.chapSecret!.ciphertext.length, other.credentials.chapSecret!.ciphertext.length, 'one length for a 5 and a 40 character password');
    // And they still log in, with each method.
    assert.equal((await mschapv2('u0@acme', 'short-pw')).ok, true);
    const challenge = randomBytes(16);
    const chap = await h.call('POST', '/v1/agent/authenticate', {
      token: agent.token,
      body: { method: 'chap-md5', username: 'u1@acme', agentSessionRef: 'r', peerAddress: '198.51.100.4', id: 1, challenge: challenge.toString('hex'), response: computeChapMd5({ id: 1, secret: passwords[1]!, challenge }).toString('hex') },
    });
    assert.equal(chap.body.ok, true);
  });

  test("a user's sealed credentials copied onto another user do not log that user in", async () => {
    assert.equal((await h.admin('POST', '/v1/tenants/acme/users', { username: 'mallory', password: 'trudy-said-so' })).status, 201);
    const alice = (await h.testStore.store.getUser('acme', 'alice'))!;
    const mallory = (await h.testStore.store.getUser('acme', 'mallory'))!;
    assert.equal(await h.testStore.store.replaceUserCredentials('acme', 'mallory', alice.credentials, mallory.credentials), true);
    const res = await h.call('POST', '/v1/agent/authenticate', { token: agent.token, body: await mschapv2Body('mallory@acme', 'correct horse', 'ref-swap') });
    assert.notEqual(res.body?.ok, true, 'alice\'s blob does not open as mallory\'s (its additional data names alice)');
  });

  test('the IPsec PSK blob has one length whatever the PSK', async () => {
    const lengths = [];
    for (const psk of ['12345678', 'x'.repeat(200)]) {
      assert.equal((await h.admin('PUT', '/v1/ipsec', { psk })).status, 200);
      lengths.push((await h.testStore.store.getIpsecSettings() as IpsecSettings).psk.ciphertext.length);
      assert.equal((await h.call('GET', '/v1/agent/settings', { token: agent.token })).body.ipsec.psk, psk);
    }
    assert.equal(lengths[0], lengths[1]);
  });

  test('an item written before sealing (clear ntHash) still logs in, and is re-sealed on the way', async () => {
    const clear = (await ntPasswordHash('old-password')).toString('hex');
    await h.testStore.store.createUser(userRecord({ tenantId: 'acme', username: 'old', credentials: { ntHash: clear } }));
    assert.equal((await mschapv2('old@acme', 'wrong')).ok, false, 'a wrong password does not re-seal');
    assert.equal((await h.testStore.store.getUser('acme', 'old'))!.credentials.ntHash, clear);
    assert.equal((await mschapv2('old@acme', 'old-password')).ok, true);
    const after = (await h.testStore.store.getUser('acme', 'old')) as User;
    assert.deepEqual(Object.keys(after.credentials), ['ntHashSealed']);
    assert.ok(!JSON.stringify(await items()).includes(clear), 'the clear hash is gone from the table');
    assert.equal((await mschapv2('old@acme', 'old-password')).ok, true, 'and the re-sealed item logs in');
  });
});
