import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../../functions/src/config';
import { ConfigError } from '../../../functions/src/errors';

const KEY = Buffer.alloc(32, 7).toString('base64');
const base = { BROKER_ADMIN_TOKEN: 'a-long-enough-admin-token', DATA_KEYS: `k1:${KEY}` };

test('defaults apply and numbers are coerced', () => {
  const config = parseConfig({ ...base, AUTH_LOCKOUT_THRESHOLD: '7', HEARTBEAT_INTERVAL_SECONDS: '' });
  assert.equal(config.lockout.threshold, 7);
  assert.equal(config.lockout.durationMs, 900_000);
  assert.equal(config.heartbeatIntervalSeconds, 30, 'empty string counts as unset');
  assert.equal(config.tableName, 'tunnel-broker');
  assert.equal(config.maxBodyBytes, 65_536);
  assert.deepEqual(config.dataKeys, [{ keyId: 'k1', keyBase64: KEY }]);
  assert.equal(config.dynamoEndpoint, undefined);
});

test('several data keys keep their order (first encrypts)', () => {
  const other = Buffer.alloc(32, 9).toString('base64');
  const config = parseConfig({ ...base, DATA_KEYS: `new:${other}, old:${KEY}` });
  assert.deepEqual(config.dataKeys.map((k) => k.keyId), ['new', 'old']);
});

test('errors name the offending key and never echo secrets', () => {
  const cases: [Record<string, string>, string][] = [
    [{ DATA_KEYS: base.DATA_KEYS }, 'BROKER_ADMIN_TOKEN'],
    [{ ...base, BROKER_ADMIN_TOKEN: 'short' }, 'BROKER_ADMIN_TOKEN'],
    [{ BROKER_ADMIN_TOKEN: base.BROKER_ADMIN_TOKEN }, 'DATA_KEYS'],
    [{ ...base, DATA_KEYS: 'k1:c2hvcnQ=' }, 'DATA_KEYS'],
    [{ ...base, DATA_KEYS: KEY }, 'DATA_KEYS'],
    [{ ...base, AUTH_LOCKOUT_THRESHOLD: 'five' }, 'AUTH_LOCKOUT_THRESHOLD'],
    [{ ...base, DYNAMODB_ENDPOINT: 'not a url' }, 'DYNAMODB_ENDPOINT'],
    [{ ...base, LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
  ];
  for (const [env, key] of cases) {
    assert.throws(
      () => parseConfig(env),
      (error: unknown) => error instanceof ConfigError && error.key === key && !error.message.includes(KEY),
      key,
    );
  }
});
