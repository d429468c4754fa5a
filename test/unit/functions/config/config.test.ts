import { test } from 'node:test';
import assert from 'node:assert/strict';
/**
 * The broker's one config module (functions/src/config): each entry point's part parsed with the
 * same scheme, every bad or missing key named at once, never a value echoed.
 */
import { ConfigError, parseAutoscalerConfig, parseBrokerConfig, parseReaperConfig, parseScalingPolicy } from '../../../../functions/src/config';

const KEY = Buffer.alloc(32, 7).toString('base64');
const base = { BROKER_ADMIN_TOKEN: 'a-long-enough-admin-token', DATA_KEYS: `k1:${KEY}` };

test('defaults apply and numbers are coerced', () => {
  const config = parseBrokerConfig({ ...base, AUTH_LOCKOUT_THRESHOLD: '7', HEARTBEAT_INTERVAL_SECONDS: '' });
  assert.equal(config.lockout.threshold, 7);
  assert.equal(config.lockout.durationMs, 900_000);
  assert.equal(config.heartbeatIntervalSeconds, 30, 'empty string counts as unset');
  assert.equal(config.table.tableName, 'tunnel-broker');
  assert.equal(config.maxBodyBytes, 65_536);
  assert.deepEqual(config.dataKeys, [{ keyId: 'k1', keyBase64: KEY }]);
  assert.equal(config.table.endpoint, undefined);
});

test('several data keys keep their order (first encrypts)', () => {
  const other = Buffer.alloc(32, 9).toString('base64');
  const config = parseBrokerConfig({ ...base, DATA_KEYS: `new:${other}, old:${KEY}` });
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
      () => parseBrokerConfig(env),
      (error: unknown) => error instanceof ConfigError && error.key === key && !error.message.includes(KEY),
      key,
    );
  }
});

test('every bad key is named at once, in every part', () => {
  const names = (f: () => unknown) => {
    try {
      f();
    } catch (error) {
      assert.ok(error instanceof ConfigError, String(error));
      return error.problems.map((p) => p.key).sort();
    }
    return assert.fail('parsed');
  };
  assert.deepEqual(names(() => parseBrokerConfig({ BROKER_ADMIN_TOKEN: 'short', LOG_LEVEL: 'loud', DATA_KEYS: base.DATA_KEYS })), ['BROKER_ADMIN_TOKEN', 'LOG_LEVEL']);
  assert.deepEqual(names(() => parseReaperConfig({ HEARTBEAT_TIMEOUT_MS: 'soon', LEASE_GRACE_MS: '-5' })), ['HEARTBEAT_TIMEOUT_MS', 'LEASE_GRACE_MS', 'TABLE_NAME']);
  assert.deepEqual(
    names(() => parseAutoscalerConfig({ TABLE_NAME: 'tb-test', AGENT_TOKEN_PARAMETER_PREFIX: 'no-slash', MIN_AGENTS: 'many' })),
    ['AGENT_TOKEN_PARAMETER_PREFIX', 'AUTOSCALING_GROUP_NAME', 'DRAIN_LIFECYCLE_HOOK_NAME', 'MIN_AGENTS'],
  );
  const autoscaler = { TABLE_NAME: 'tb-test', AUTOSCALING_GROUP_NAME: 'g', DRAIN_LIFECYCLE_HOOK_NAME: 'h', AGENT_TOKEN_PARAMETER_PREFIX: '/tb/agents/' };
  assert.deepEqual(names(() => parseAutoscalerConfig({ ...autoscaler, MIN_AGENTS: '5', MAX_AGENTS: '2', VPN_DNS_DOMAIN: 'vpn.example.com' })), ['VPN_HOSTED_ZONE_ID', 'policy']);
});

test('the parts share the keys they have in common, with the same rules and defaults', () => {
  const table = { TABLE_NAME: 'tb-test', DYNAMODB_ENDPOINT: 'http://127.0.0.1:8000', AWS_REGION: 'eu-west-1' };
  const location = { tableName: 'tb-test', endpoint: 'http://127.0.0.1:8000', region: 'eu-west-1' };
  assert.deepEqual(parseBrokerConfig({ ...base, ...table }).table, location);
  assert.deepEqual(parseReaperConfig(table).table, location);
  const autoscaler = parseAutoscalerConfig({ ...table, AUTOSCALING_GROUP_NAME: 'g', DRAIN_LIFECYCLE_HOOK_NAME: 'h', AGENT_TOKEN_PARAMETER_PREFIX: '/tb/agents/' });
  assert.deepEqual(autoscaler.table, location);
  assert.equal(autoscaler.agentRegion, 'eu-west-1');
  // HEARTBEAT_TIMEOUT_MS: the reaper's lost agents and the autoscaler's fresh ones are one setting.
  assert.equal(parseReaperConfig({ ...table, HEARTBEAT_TIMEOUT_MS: '45000' }).heartbeatTimeoutMs, 45_000);
  assert.equal(parseScalingPolicy({ HEARTBEAT_TIMEOUT_MS: '45000' }).freshnessMs, 45_000);
  assert.equal(parseScalingPolicy({}).freshnessMs, parseReaperConfig(table).heartbeatTimeoutMs);
  for (const parse of [() => parseBrokerConfig({ ...base, DYNAMODB_ENDPOINT: 'not a url' }), () => parseReaperConfig({ TABLE_NAME: 'tb-test', DYNAMODB_ENDPOINT: 'not a url' })]) {
    assert.throws(parse, (e: unknown) => e instanceof ConfigError && e.key === 'DYNAMODB_ENDPOINT');
  }
  // TABLE_NAME follows DynamoDB's naming rule in every part (the API function defaults it, the others need it).
  for (const bad of ['t', 'has space', 'x'.repeat(256)]) {
    for (const parse of [() => parseBrokerConfig({ ...base, TABLE_NAME: bad }), () => parseReaperConfig({ TABLE_NAME: bad })]) {
      assert.throws(parse, (e: unknown) => e instanceof ConfigError && e.key === 'TABLE_NAME', bad);
    }
  }
});
