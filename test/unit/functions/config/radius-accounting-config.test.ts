import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseAccountingFunctionConfig, parseAccountingSenderConfig } from '../../../../functions/src/config';

test('the sender defaults are the ones docs/radius-accounting.md states', () => {
  assert.deepEqual(parseAccountingSenderConfig({}), { timeoutMs: 2_000, retries: 2, batchSize: 100, baseBackoffMs: 5_000, maxBackoffMs: 300_000 });
});

test('bad keys are named, never their values', () => {
  assert.throws(
    () => parseAccountingSenderConfig({ RADIUS_ACCT_RETRIES: '99', RADIUS_ACCT_BACKOFF_MS: '10000', RADIUS_ACCT_MAX_BACKOFF_MS: '5000' }),
    (e: unknown) => e instanceof ConfigError && e.key === 'RADIUS_ACCT_RETRIES',
  );
  assert.throws(() => parseAccountingSenderConfig({ RADIUS_ACCT_BACKOFF_MS: '10000', RADIUS_ACCT_MAX_BACKOFF_MS: '5000' }), /RADIUS_ACCT_MAX_BACKOFF_MS/);
});

test('the scheduled function needs its table and data keys, and no admin token', () => {
  const key = `k1:${Buffer.alloc(32, 1).toString('base64')}`;
  const config = parseAccountingFunctionConfig({ TABLE_NAME: 'broker', DATA_KEYS: key });
  assert.equal(config.table.tableName, 'broker');
  assert.equal(config.dataKeys[0]?.keyId, 'k1');
  assert.equal(parseAccountingFunctionConfig({ TABLE_NAME: 'broker', DATA_KEY_KMS_KEY_ID: 'arn:kms' }).kmsKeyId, 'arn:kms');
  assert.throws(() => parseAccountingFunctionConfig({ TABLE_NAME: 'broker' }), (e: unknown) => e instanceof ConfigError && e.key === 'DATA_KEYS');
  assert.throws(() => parseAccountingFunctionConfig({ DATA_KEYS: key }), (e: unknown) => e instanceof ConfigError && e.key === 'TABLE_NAME');
});
