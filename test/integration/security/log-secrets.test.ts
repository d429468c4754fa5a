/**
 * Secrets never reach the logs: ALL pino output (level trace) of a full broker flow is captured in memory and
 * searched for every secret the flow handled — passwords, the IPsec PSK, NT hashes, bearer tokens, the admin token
 * and the data key — including requests that fail (bad body, wrong token, oversized body, store fault).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import pino from 'pino';
import { createApp } from '../../../functions/src/app';
import { parseBrokerConfig } from '../../../functions/src/config';
import { computeChapMd5, computeMsChapV2Response, ntPasswordHash } from '../../../contract/src/ppp-auth';
import { createTestStore, type TestStore } from '../../support/test-store';

/** The secret of a `tbk_<keyId>_<secret>` / `tba_<agentId>_<secret>` token (base64url: may itself contain `_`). */
const secretPart = (token: string): string => token.split('_').slice(2).join('_');

const ADMIN = `admin-${randomBytes(12).toString('hex')}`;
const DATA_KEY = randomBytes(32).toString('base64');
const PASSWORD = 'Tr0ub4dor&3-user-password';
const CHAP_PASSWORD = 'chap-only-secret-pw-77';
const PSK = 'fleet-psk-very-secret-991';

let testStore: TestStore;
let lines: string[] = [];
let app: ReturnType<typeof createApp>;
let storeFault = false;

before(async () => {
  testStore = await createTestStore();
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const config = parseBrokerConfig({
    BROKER_ADMIN_TOKEN: ADMIN,
    DATA_KEYS: `k1:${DATA_KEY}`,
    TABLE_NAME: testStore.tableName,
    MAX_BODY_BYTES: '4096',
    LOG_LEVEL: 'trace',
  });
  // A store whose getIpsecSettings can be made to fail, to exercise the 500 path (error + stack are logged).
  const store = new Proxy(testStore.store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (prop === 'getIpsecSettings' && storeFault) {
        return async () => {
          throw new Error('disk on fire');
        };
      }
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  app = createApp({ store, clock: { now: () => Date.now() }, logger: pino({ level: 'trace' }, sink), config });
});
after(async () => {
  await testStore?.close();
});

async function call(method: string, path: string, token?: string, body?: unknown, raw?: string) {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined || raw !== undefined) headers['content-type'] = 'application/json';
  const res = await app.request(path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : raw !== undefined ? { body: raw } : {}) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

test('a full broker flow logs no secret', async () => {
  lines = [];
  const secrets: Record<string, string> = { password: PASSWORD, chapPassword: CHAP_PASSWORD, psk: PSK, admin: ADMIN, dataKey: DATA_KEY };
  secrets.dataKeyHex = Buffer.from(DATA_KEY, 'base64').toString('hex');
  secrets.ntHash = (await ntPasswordHash(PASSWORD)).toString('hex');
  secrets.ntHashUpper = secrets.ntHash.toUpperCase();
  secrets.chapNtHash = (await ntPasswordHash(CHAP_PASSWORD)).toString('hex');
  // The grant is a bearer proof for one session start: never logged either.

  assert.equal((await call('POST', '/v1/tenants', ADMIN, { tenantId: 'logco', name: 'Log Co', authMethods: ['pap', 'chap-md5', 'mschapv2'] })).status, 201);
  assert.equal((await call('POST', '/v1/tenants/logco/pools', ADMIN, { poolId: 'main', cidr: '10.9.0.0/24', dns: ['1.1.1.1'] })).status, 201);
  assert.equal((await call('POST', '/v1/tenants/logco/users', ADMIN, { username: 'alice', password: PASSWORD })).status, 201);
  assert.equal((await call('POST', '/v1/tenants/logco/users', ADMIN, { username: 'carol', password: CHAP_PASSWORD, chapMd5: true })).status, 201);
  assert.equal((await call('PUT', '/v1/ipsec', ADMIN, { psk: PSK, allowLegacyProposals: false })).status, 200);
  const key = await call('POST', '/v1/api-keys', ADMIN, { scope: 'tenant', tenantId: 'logco', name: 'k' });
  secrets.apiKey = key.body.token;
  secrets.apiKeySecret = secretPart(key.body.token);
  const enrolled = await call('POST', '/v1/agents', ADMIN, { name: 'edge' });
  const agentToken: string = enrolled.body.token;
  secrets.agentToken = agentToken;
  secrets.agentSecret = secretPart(agentToken);
  assert.equal((await call('POST', '/v1/agent/register', agentToken, { publicAddress: '203.0.113.9', capacity: 10, version: '1' })).status, 200);
  const settings = await call('GET', '/v1/agent/settings', agentToken);
  assert.equal(settings.body.ipsec.psk, PSK, 'the agent does get the PSK (in the body, not the log)');

  // PAP carries the password in the request body.
  const pap = await call('POST', '/v1/agent/authenticate', agentToken, { method: 'pap', username: 'alice@logco', password: PASSWORD, agentSessionRef: 'log-0', peerAddress: '198.51.100.7' });
  assert.equal(pap.body.ok, true);
  assert.equal((await call('POST', '/v1/agent/authenticate', agentToken, { method: 'pap', username: 'alice@logco', password: `${PASSWORD}x`, agentSessionRef: 'log-0', peerAddress: '198.51.100.7' })).body.ok, false);
  const challenge = randomBytes(16);
  const chapResponse = computeChapMd5({ id: 7, secret: CHAP_PASSWORD, challenge });
  const chap = await call('POST', '/v1/agent/authenticate', agentToken, {
    method: 'chap-md5',
    username: 'carol@logco',
    agentSessionRef: 'log-0',
    peerAddress: '198.51.100.7',
    id: 7,
    challenge: challenge.toString('hex'),
    response: chapResponse.toString('hex'),
  });
  assert.equal(chap.body.ok, true, JSON.stringify(chap.body));
  const authenticatorChallenge = randomBytes(16);
  const ms = await computeMsChapV2Response({ password: PASSWORD, authenticatorChallenge, username: 'alice@logco' });
  const mschap = await call('POST', '/v1/agent/authenticate', agentToken, {
    method: 'mschapv2',
    username: 'alice@logco',
    agentSessionRef: 'log-1',
    peerAddress: '198.51.100.7',
    authenticatorChallenge: authenticatorChallenge.toString('hex'),
    peerChallenge: ms.peerChallenge.toString('hex'),
    ntResponse: ms.ntResponse.toString('hex'),
  });
  assert.equal(mschap.body.ok, true);
  secrets.grant = mschap.body.grant;

  const started = await call('POST', '/v1/agent/sessions', agentToken, {
    agentSessionRef: 'log-1',
    tunnelId: 1,
    l2tpSessionId: 2,
    peerAddress: '198.51.100.7:1701',
    tenantId: 'logco',
    username: 'alice',
    authMethod: 'mschapv2',
    grant: mschap.body.grant,
  });
  assert.equal(started.status, 201);
  assert.equal((await call('POST', `/v1/agent/sessions/${started.body.sessionId}/stop`, agentToken, { reason: 'user-request' })).status, 200);

  // Failing requests: a secret in a rejected body, a wrong token, an oversized body, a store fault.
  assert.equal((await call('POST', '/v1/tenants/logco/users', ADMIN, { username: 'dave', password: PASSWORD, staticIp: 'not-an-ip' })).status, 400);
  assert.equal((await call('PUT', '/v1/ipsec', ADMIN, { psk: PSK, allowLegacyProposals: 'yes' })).status, 400);
  assert.equal((await call('POST', '/v1/agent/authenticate', agentToken, undefined, `{"method":"pap","password":"${PASSWORD}"`)).status, 400);
  assert.equal((await call('GET', '/v1/agents', `${ADMIN}-wrong`)).status, 401);
  assert.equal((await call('GET', '/v1/agents', `${agentToken}x`)).status, 403);
  assert.equal((await call('GET', '/v1/agent/settings', `${agentToken}x`)).status, 401);
  assert.equal((await call('PUT', '/v1/ipsec', ADMIN, { psk: `${PSK}${'x'.repeat(5000)}` })).status, 413);
  storeFault = true;
  try {
    assert.equal((await call('GET', '/v1/agent/settings', agentToken)).status, 500);
  } finally {
    storeFault = false;
  }

  const log = lines.join('');
  // The capture is real: one line per request, the fault with its stack.
  assert.ok(lines.length >= 25, `captured ${lines.length} log lines`);
  assert.match(log, /"msg":"request failed"/);
  assert.match(log, /disk on fire/);
  for (const [name, secret] of Object.entries(secrets)) {
    assert.ok(secret.length >= 8, name);
    assert.ok(!log.includes(secret), `the log contains the ${name}`);
  }
});
