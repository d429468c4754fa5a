/**
 * Issue 14 #6, the AWS side: data keys are made by KMS GenerateDataKey under a customer-managed key
 * and the table keeps them only wrapped. KMS itself is stood in for by a local fake that wraps with
 * its own AES key and enforces the encryption context, as KMS does; the table is DynamoDB Local.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import pino from 'pino';
import { createApp } from '../../../functions/src/app';
import { parseBrokerConfig } from '../../../functions/src/config';
import { dataKeyContext, loadKmsDataKeys, type DataKeyKms } from '../../../functions/src/entry/kms-data-keys';
import { computeMsChapV2Response } from '../../../contract/src/ppp-auth';
import { createTestStore, type TestStore } from '../../support/test-store';

const KMS_KEY = 'arn:aws:kms:eu-west-1:111122223333:key/test';

/** KMS as the broker uses it: wraps with a key only "KMS" holds; the context must match to unwrap. */
function fakeKms() {
  const master = randomBytes(32);
  const calls: string[] = [];
  const kms: DataKeyKms = {
    async generateDataKey({ KeyId, EncryptionContext }) {
      calls.push(`GenerateDataKey ${KeyId} ${JSON.stringify(EncryptionContext)}`);
      const plaintext = randomBytes(32);
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', master, iv).setAAD(Buffer.from(JSON.stringify(EncryptionContext)));
      const blob = Buffer.concat([iv, c.update(plaintext), c.final(), c.getAuthTag()]);
      return { Plaintext: plaintext, CiphertextBlob: blob };
    },
    async decrypt({ KeyId, CiphertextBlob, EncryptionContext }) {
      calls.push(`Decrypt ${KeyId} ${JSON.stringify(EncryptionContext)}`);
      const blob = Buffer.from(CiphertextBlob);
      const d = createDecipheriv('aes-256-gcm', master, blob.subarray(0, 12)).setAAD(Buffer.from(JSON.stringify(EncryptionContext)));
      d.setAuthTag(blob.subarray(blob.length - 16));
      return { Plaintext: Buffer.concat([d.update(blob.subarray(12, blob.length - 16)), d.final()]) }; // throws on a wrong context, like KMS's InvalidCiphertextException
    },
  };
  return { kms, calls };
}

let t: TestStore;
before(async () => {
  t = await createTestStore();
});
after(async () => {
  await t?.close();
});

const clock = { now: () => Date.parse('2024-05-01T12:00:00Z') };

describe('issue 14 #6: data keys from a customer-managed KMS key', () => {
  test('made once by GenerateDataKey, kept only wrapped, unwrapped by every instance; a racing start uses the winner', async () => {
    const { kms, calls } = fakeKms();
    const [first, racer] = await Promise.all([
      loadKmsDataKeys({ kms, store: t.store, kmsKeyId: KMS_KEY, clock }),
      loadKmsDataKeys({ kms, store: t.store, kmsKeyId: KMS_KEY, clock }),
    ]);
    assert.deepEqual(first, racer, 'both instances end with the same key');
    assert.equal(first.length, 1);
    assert.equal(first[0]!.keyId, 'kms1');
    const later = await loadKmsDataKeys({ kms, store: t.store, kmsKeyId: KMS_KEY, clock });
    assert.deepEqual(later, first);
    assert.ok(calls.every((c) => c.includes(JSON.stringify(dataKeyContext('kms1')))), 'every call names the encryption context');
    const table = JSON.stringify((await t.client.send(new ScanCommand({ TableName: t.tableName }))).Items);
    assert.ok(!table.includes(first[0]!.keyBase64), 'the plaintext key is not in the table');
    assert.ok(!table.includes(Buffer.from(first[0]!.keyBase64, 'base64').toString('hex')));

    // A key from before KMS (DATA_KEYS from the Secrets Manager secret) still opens; the KMS key seals.
    const legacy = { keyId: 'k1', keyBase64: randomBytes(32).toString('base64') };
    const ring = await loadKmsDataKeys({ kms, store: t.store, kmsKeyId: KMS_KEY, clock, legacy: [legacy] });
    assert.deepEqual(ring.map((k) => k.keyId), ['kms1', 'k1']);

    // Without KMS's key the wrapped one is useless: another "KMS" cannot unwrap it.
    await assert.rejects(loadKmsDataKeys({ kms: fakeKms().kms, store: t.store, kmsKeyId: KMS_KEY, clock }));
  });

  test('two broker instances on the KMS data key share sealed users', async () => {
    const { kms } = fakeKms();
    const t = await createTestStore(); // its own table: the first test's key was wrapped by another "KMS"
    const config = parseBrokerConfig({ BROKER_ADMIN_TOKEN: 'admin-token-for-kms-tests-0123', TABLE_NAME: t.tableName, DATA_KEY_KMS_KEY_ID: KMS_KEY, SETTINGS_CACHE_SECONDS: '0' });
    assert.deepEqual(config.dataKeys, []);
    const instance = async () => {
      const dataKeys = await loadKmsDataKeys({ kms, store: t.store, kmsKeyId: KMS_KEY, clock });
      return createApp({ store: t.store, clock, logger: pino({ level: 'silent' }), config: { ...config, dataKeys } });
    };
    const a = await instance();
    const b = await instance();
    const admin = { authorization: 'Bearer admin-token-for-kms-tests-0123', 'content-type': 'application/json' };
    const post = (app: typeof a, path: string, body: unknown, headers: Record<string, string> = admin) => app.request(path, { method: 'POST', headers, body: JSON.stringify(body) });
    assert.equal((await post(a, '/v1/tenants', { tenantId: 'kmsco', name: 'k' })).status, 201);
    assert.equal((await post(a, '/v1/tenants/kmsco/users', { username: 'alice', password: 'kms-test-password' })).status, 201);
    const user = await t.store.getUser('kmsco', 'alice');
    assert.equal(user?.credentials.ntHashSealed?.keyId, 'kms1');
    const enrol = await (await post(a, '/v1/agents', { name: 'edge' })).json() as { token: string };
    const authenticatorChallenge = randomBytes(16);
    const r = await computeMsChapV2Response({ password: 'kms-test-password', authenticatorChallenge, username: 'alice@kmsco' });
    const res = await post(b, '/v1/agent/authenticate', {
      method: 'mschapv2', username: 'alice@kmsco', agentSessionRef: 'r1', peerAddress: '198.51.100.4',
      authenticatorChallenge: authenticatorChallenge.toString('hex'), peerChallenge: r.peerChallenge.toString('hex'), ntResponse: r.ntResponse.toString('hex'),
    }, { authorization: `Bearer ${enrol.token}`, 'content-type': 'application/json' });
    assert.equal(((await res.json()) as { ok: boolean }).ok, true, 'instance b opens what instance a sealed');
    await t.close();
  });

  test('the configuration needs DATA_KEYS or a KMS key', () => {
    assert.throws(() => parseBrokerConfig({ BROKER_ADMIN_TOKEN: 'admin-token-for-kms-tests-0123' }), /DATA_KEYS/);
  });
});
