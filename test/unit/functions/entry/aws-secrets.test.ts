/** The Lambda entry's bridge from the stack's secret ARNs to the variables parseBrokerConfig reads. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBrokerConfig } from '../../../../functions/src/config';
import { dataKeysValue, resolveSecretEnv } from '../../../../functions/src/entry/aws-secrets';

test('secret ARNs become BROKER_ADMIN_TOKEN and DATA_KEYS that parseBrokerConfig accepts', async () => {
  // What the stack generates: 48 alphanumerics, and {"keyId":"k1","key":<43 alphanumerics>}.
  const secrets: Record<string, string> = {
    'arn:admin': 'A'.repeat(48),
    'arn:keys': JSON.stringify({ keyId: 'k1', key: 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456' }),
  };
  const asked: string[] = [];
  const env = await resolveSecretEnv(
    { BROKER_ADMIN_TOKEN_SECRET_ARN: 'arn:admin', DATA_KEYS_SECRET_ARN: 'arn:keys', TABLE_NAME: 'tunnel-broker-x' },
    async (id) => {
      asked.push(id);
      return secrets[id]!;
    },
  );
  assert.deepEqual(asked.sort(), ['arn:admin', 'arn:keys']);
  const config = parseBrokerConfig(env);
  assert.equal(config.adminToken, 'A'.repeat(48));
  assert.deepEqual(config.dataKeys.map((k) => k.keyId), ['k1']);
});

test('plain variables win and nothing is fetched (local stack)', async () => {
  const env = await resolveSecretEnv({ BROKER_ADMIN_TOKEN: 'x'.repeat(20), DATA_KEYS: 'k:abc' }, async () => assert.fail('no fetch'));
  assert.equal(env.BROKER_ADMIN_TOKEN, 'x'.repeat(20));
});

test('dataKeysValue accepts operator-written DATA_KEYS text and rejects malformed JSON', () => {
  assert.equal(dataKeysValue(' k2:abc,k1:def '), 'k2:abc,k1:def');
  assert.throws(() => dataKeysValue('{"keyId":1}'), /keyId and key/);
});
