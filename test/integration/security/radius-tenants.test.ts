/**
 * Security of RADIUS tenants (issue 20):
 * - a tenant key cannot read or set another tenant's authentication source (404, nothing changes);
 * - RADIUS shared secrets never appear in API answers, the audit log, the logs (at trace level), or
 *   in clear in the table, and a sealed secret moved onto another tenant does not open;
 * - a forged or unsigned answer (no Message-Authenticator, wrong secret, wrong Response
 *   Authenticator, wrong Identifier) never logs anyone in.
 */
import assert from 'node:assert/strict';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { Attr, RadiusCode, encodeResponse } from '../../../functions/src/radius';
import { createHarness, seedAgent, seedTenant, type Harness } from '../../support/api-harness';
import { startFakeRadiusServer, type FakeRadiusServer } from '../../support/radius/fake-radius-server';

const SECRET = 'tenant-a-radius-secret';
let h: Harness;
let logs = '';
let agent: { agentId: string; token: string };
let keyA = '';
let keyB = '';

before(async () => {
  const sink = new Writable({ write: (chunk, _enc, done) => void ((logs += chunk.toString()), done()) });
  h = await createHarness({}, { logger: pino({ level: 'trace' }, sink) });
  await seedTenant(h, 'ten-a');
  await seedTenant(h, 'ten-b');
  agent = await seedAgent(h);
  keyA = (await h.admin('POST', '/v1/api-keys', { scope: 'tenant', tenantId: 'ten-a', name: 'a' })).body.token;
  keyB = (await h.admin('POST', '/v1/api-keys', { scope: 'tenant', tenantId: 'ten-b', name: 'b' })).body.token;
});
after(() => h?.close());

const radiusBody = (port: number, secret = SECRET) => ({ kind: 'radius', servers: [{ host: '127.0.0.1', port, secret, timeoutMs: 300, retries: 0 }] });

describe('RADIUS tenants: isolation and secrets', () => {
  test('tenant B cannot read or set tenant A\'s auth source', async () => {
    assert.equal((await h.call('PUT', '/v1/tenants/ten-a/auth', { token: keyA, body: radiusBody(1812) })).status, 200);
    const read = await h.call('GET', '/v1/tenants/ten-a/auth', { token: keyB });
    assert.equal(read.status, 404);
    const write = await h.call('PUT', '/v1/tenants/ten-a/auth', { token: keyB, body: radiusBody(1999, 'attacker-secret-x') });
    assert.equal(write.status, 404);
    const own = await h.call('GET', '/v1/tenants/ten-a/auth', { token: keyA });
    assert.equal(own.body.servers[0].port, 1812, 'unchanged');
    assert.equal((await h.call('GET', '/v1/tenants/ten-b/auth', { token: keyB })).body.kind, 'local');
  });

  test('the secret appears in no answer, audit entry or log line, and not in clear in the table', async () => {
    await h.admin('PUT', '/v1/tenants/ten-a/auth', radiusBody(1812));
    const answers = [
      await h.admin('GET', '/v1/tenants/ten-a/auth'),
      await h.admin('GET', '/v1/tenants/ten-a'),
      await h.admin('GET', '/v1/tenants'),
      await h.admin('GET', '/v1/audit'),
      await h.admin('GET', '/v1/tenants/ten-a/audit'),
      await h.admin('GET', '/openapi.json'),
    ];
    for (const a of answers) assert.ok(!JSON.stringify(a.body).includes(SECRET), JSON.stringify(a.body).slice(0, 200));
    assert.ok(logs.length > 0 && !logs.includes(SECRET), 'not in the logs');
    const scan = await h.testStore.client.send(new ScanCommand({ TableName: h.testStore.tableName }));
    const table = JSON.stringify((scan.Items ?? []).map((i) => unmarshall(i)));
    assert.ok(table.includes('radius') && !table.includes(SECRET), 'sealed at rest');
  });

  test('a tenant key cannot aim the broker at the metadata service, multicast or broadcast (400 on auth and accounting, nothing changes)', async () => {
    await h.admin('PUT', '/v1/tenants/ten-a/auth', radiusBody(1812));
    const before = (await h.call('GET', '/v1/tenants/ten-a/auth', { token: keyA })).body;
    for (const host of ['169.254.169.254', '224.0.0.1', '255.255.255.255', '0.0.0.0']) {
      const auth = await h.call('PUT', '/v1/tenants/ten-a/auth', { token: keyA, body: { kind: 'radius', servers: [{ host, port: 80, secret: SECRET }] } });
      assert.equal(auth.status, 400, host);
      assert.match(auth.body.error.message, /never a RADIUS server/);
      const acct = await h.call('PUT', '/v1/tenants/ten-a/accounting', { token: keyA, body: { servers: [{ host, port: 80, secret: SECRET }] } });
      assert.equal(acct.status, 400, `${host} (accounting)`);
    }
    assert.deepEqual((await h.call('GET', '/v1/tenants/ten-a/auth', { token: keyA })).body, before, 'unchanged');
    const accounting = await h.call('GET', '/v1/tenants/ten-a/accounting', { token: keyA });
    assert.equal(accounting.status, 200);
    assert.ok(!/169\.254|224\.0|255\.255|0\.0\.0\.0/.test(JSON.stringify(accounting.body)), JSON.stringify(accounting.body));
  });

  test('a sealed secret copied onto another tenant does not open there', async () => {
    await h.admin('PUT', '/v1/tenants/ten-a/auth', radiusBody(1812));
    const a = await h.testStore.store.getTenant('ten-a');
    await h.testStore.store.updateTenant('ten-b', { authSource: a!.authSource!, updatedAt: h.clock.now() });
    h.clock.advance(10_000);
    const res = await h.call('POST', '/v1/agent/authenticate', {
      token: agent.token,
      body: { method: 'pap', username: 'alice@ten-b', password: 'x', agentSessionRef: 'copy-1', peerAddress: '198.51.100.9' },
    });
    assert.equal(res.status, 500, 'the secret box refuses: a store fault, never a login');
    await h.admin('PUT', '/v1/tenants/ten-b/auth', { kind: 'local' });
  });
});

describe('RADIUS tenants: forged answers never log in', () => {
  const forgeries: [string, Parameters<typeof startFakeRadiusServer>[1], string][] = [
    ['no Message-Authenticator', () => ({ code: RadiusCode.AccessAccept, messageAuthenticator: false }), 'radius-refused'],
    ['signed with a guessed secret', () => ({ code: RadiusCode.AccessAccept, secret: Buffer.from('guess-guess') }), 'radius-refused'],
    ['another Identifier', (req) => ({ code: RadiusCode.AccessAccept, identifier: (req.identifier + 1) & 0xff }), 'radius-unavailable'],
    [
      'a wrong Response Authenticator (valid Message-Authenticator)',
      (req) => {
        const bytes = encodeResponse({ code: RadiusCode.AccessAccept, identifier: req.identifier, requestAuthenticator: req.authenticator, secret: Buffer.from(SECRET), attributes: [] }) as Buffer;
        bytes[4]! ^= 0xff;
        return bytes;
      },
      'radius-refused',
    ],
    [
      'an Access-Accept carrying a Framed-IP-Address but no signature',
      () => ({ code: RadiusCode.AccessAccept, messageAuthenticator: false, attributes: [{ type: Attr.FramedIpAddress, value: Buffer.from([10, 8, 0, 9]) }] }),
      'radius-refused',
    ],
  ];
  let n = 0;
  for (const [name, answer, reason] of forgeries) {
    test(`${name}: refused (${reason})`, async () => {
      let server: FakeRadiusServer | undefined;
      try {
        server = await startFakeRadiusServer(Buffer.from(SECRET), answer);
        await h.admin('PUT', '/v1/tenants/ten-a/auth', radiusBody(server.port));
        h.clock.advance(10_000);
        const res = await h.call('POST', '/v1/agent/authenticate', {
          token: agent.token,
          body: { method: 'pap', username: 'alice@ten-a', password: 'correct horse', agentSessionRef: `forge-${++n}`, peerAddress: '198.51.100.9' },
        });
        assert.equal(res.body.ok, false);
        assert.equal(res.body.reason, reason);
        assert.equal(server.received.length, 1, 'the server was asked');
      } finally {
        await server?.close();
      }
    });
  }
  test('a disabled local user is refused before any Access-Request', async () => {
    const server = await startFakeRadiusServer(Buffer.from(SECRET), () => ({ code: RadiusCode.AccessAccept }));
    try {
      await h.admin('PUT', '/v1/tenants/ten-a/auth', radiusBody(server.port));
      assert.equal((await h.admin('PATCH', '/v1/tenants/ten-a/users/alice', { disabled: true })).status, 200);
      h.clock.advance(10_000);
      const res = await h.call('POST', '/v1/agent/authenticate', {
        token: agent.token,
        body: { method: 'pap', username: 'alice@ten-a', password: 'correct horse', agentSessionRef: 'disabled-1', peerAddress: '198.51.100.9' },
      });
      assert.equal(res.body.reason, 'user-disabled');
      assert.equal(server.received.length, 0, 'the server was not asked');
      await h.admin('PATCH', '/v1/tenants/ten-a/users/alice', { disabled: false });
    } finally {
      await server.close();
    }
  });

  test('a method the tenant does not allow is refused before any Access-Request, for a user only the server knows', async () => {
    const server = await startFakeRadiusServer(Buffer.from(SECRET), () => ({ code: RadiusCode.AccessAccept }));
    try {
      await h.admin('PUT', '/v1/tenants/ten-a/auth', radiusBody(server.port));
      assert.equal((await h.admin('PATCH', '/v1/tenants/ten-a', { authMethods: ['mschapv2'] })).status, 200);
      h.clock.advance(10_000);
      const res = await h.call('POST', '/v1/agent/authenticate', {
        token: agent.token,
        body: { method: 'pap', username: 'only-on-server@ten-a', password: 'pw', agentSessionRef: 'method-1', peerAddress: '198.51.100.9' },
      });
      assert.equal(res.body.reason, 'method-not-allowed');
      assert.equal(server.received.length, 0);
      await h.admin('PATCH', '/v1/tenants/ten-a', { authMethods: ['mschapv2', 'chap-md5', 'pap'] });
      h.clock.advance(10_000);
    } finally {
      await server.close();
    }
  });

  test('a server list whose worst-case wait exceeds 8 s is refused (400, field servers), nothing changes', async () => {
    const before = (await h.admin('GET', '/v1/tenants/ten-a/auth')).body;
    const slow = { host: '127.0.0.1', secret: SECRET, timeoutMs: 3000, retries: 1 };
    const res = await h.admin('PUT', '/v1/tenants/ten-a/auth', { kind: 'radius', servers: [slow, slow] });
    assert.equal(res.status, 400);
    assert.equal(res.body.error.field, 'servers');
    assert.deepEqual((await h.admin('GET', '/v1/tenants/ten-a/auth')).body, before);
  });

  test('negative control: the same server signing properly logs in', async () => {
    const server = await startFakeRadiusServer(Buffer.from(SECRET), () => ({ code: RadiusCode.AccessAccept }));
    try {
      await h.admin('PUT', '/v1/tenants/ten-a/auth', radiusBody(server.port));
      h.clock.advance(10_000);
      const res = await h.call('POST', '/v1/agent/authenticate', {
        token: agent.token,
        body: { method: 'pap', username: 'alice@ten-a', password: 'correct horse', agentSessionRef: 'forge-ok', peerAddress: '198.51.100.9' },
      });
      assert.equal(res.body.ok, true, JSON.stringify(res.body));
    } finally {
      await server.close();
    }
  });
});
