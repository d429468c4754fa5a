import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ADMIN_TOKEN, createHarness, seedAgent, seedTenant, type Harness } from '../../support/api-harness';

let h: Harness;
before(async () => {
  h = await createHarness();
});
after(async () => {
  await h?.close();
});

describe('authentication', () => {
  test('missing, malformed and wrong tokens are 401 with a JSON error', async () => {
    const none = await h.call('GET', '/v1/agents');
    assert.equal(none.status, 401);
    assert.equal(none.body.error.code, 'unauthorized');
    assert.equal((await h.call('GET', '/v1/agents', { headers: { authorization: 'Basic abc' } })).status, 401);
    assert.equal((await h.call('GET', '/v1/agents', { token: `${ADMIN_TOKEN}x` })).status, 401);
    assert.equal((await h.call('GET', '/v1/agents', { token: 'tbk_0011223344556677_nope' })).status, 401);
  });

  test('agent credentials are refused on operator routes, operator ones on agent routes', async () => {
    const agent = await seedAgent(h, 'auth-agent');
    const onOperator = await h.call('GET', '/v1/agents', { token: agent.token });
    assert.equal(onOperator.status, 403);
    const onAgent = await h.call('GET', '/v1/agent/settings', { token: ADMIN_TOKEN });
    assert.equal(onAgent.status, 403);
  });
});

describe('tenants, users and pools', () => {
  test('create and read a tenant; duplicates are 409; unknown is 404', async () => {
    const created = await h.admin('POST', '/v1/tenants', { tenantId: 't-one', name: 'One', authMethods: ['pap', 'mschapv2'], maxSessions: 5 });
    assert.equal(created.status, 201);
    assert.deepEqual(created.body.authMethods, ['mschapv2', 'pap'], 'strongest first');
    assert.equal(created.body.createdAt, '2024-05-01T12:00:00.000Z');
    const got = await h.admin('GET', '/v1/tenants/t-one');
    assert.equal(got.status, 200);
    assert.equal(got.body.maxSessions, 5);
    const dup = await h.admin('POST', '/v1/tenants', { tenantId: 't-one', name: 'Again' });
    assert.equal(dup.status, 409);
    assert.equal(dup.body.error.code, 'tenant-exists');
    assert.equal((await h.admin('GET', '/v1/tenants/nobody')).status, 404);
  });

  test('validation failures are 400 naming the field', async () => {
    const bad = await h.admin('POST', '/v1/tenants', { tenantId: 'Bad Id!', name: 'x' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'validation-failed');
    assert.equal(bad.body.error.field, 'tenantId');
    const missing = await h.admin('POST', '/v1/tenants', { tenantId: 'ok-id' });
    assert.equal(missing.body.error.field, 'name');
    const badMethod = await h.admin('POST', '/v1/tenants', { tenantId: 'ok-id', name: 'x', authMethods: ['telnet'] });
    assert.equal(badMethod.body.error.field, 'authMethods.0');
    const notJson = await h.call('POST', '/v1/tenants', { token: ADMIN_TOKEN, rawBody: '{not json', headers: { 'content-type': 'application/json' } });
    assert.equal(notJson.status, 400);
  });

  test('users: created without secrets in the response, listed, deleted', async () => {
    await seedTenant(h, 'users-t');
    const created = await h.admin('POST', '/v1/tenants/users-t/users', { username: 'bob', password: 's3cret-pw', chapMd5: true });
    assert.equal(created.status, 201);
    assert.equal(created.body.chapMd5, true);
    const text = JSON.stringify(created.body);
    assert.ok(!text.includes('s3cret-pw') && !text.includes('ntHash') && !text.includes('ciphertext'), text);
    assert.equal((await h.admin('POST', '/v1/tenants/users-t/users', { username: 'bob', password: 'another password' })).status, 409);
    const list = await h.admin('GET', '/v1/tenants/users-t/users');
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.items.map((u: { username: string }) => u.username).sort(), ['alice', 'bob']);
    assert.equal(list.body.items[0].failedAttempts, 0);
    assert.equal(list.body.items[0].locked, false);
    assert.ok(!JSON.stringify(list.body).includes('ntHash'));
    const events = await h.admin('GET', '/v1/tenants/users-t/users/bob/auth-events');
    assert.equal(events.status, 200);
    assert.deepEqual(events.body.items, []);
    assert.equal((await h.admin('DELETE', '/v1/tenants/users-t/users/bob')).status, 204);
    assert.equal((await h.admin('DELETE', '/v1/tenants/users-t/users/bob')).status, 404);
    assert.equal((await h.admin('GET', '/v1/tenants/users-t/users/bob/auth-events')).status, 404);
    assert.equal((await h.admin('POST', '/v1/tenants/nope/users', { username: 'x', password: 'y' })).status, 404);
  });

  test('a static IP must lie in one of the tenant pools', async () => {
    await seedTenant(h, 'static-t', { cidr: '10.77.0.0/24' });
    const outside = await h.admin('POST', '/v1/tenants/static-t/users', { username: 'carol', password: 'long enough', staticIp: '192.168.1.5' });
    assert.equal(outside.status, 400);
    assert.equal(outside.body.error.field, 'staticIp');
    const inside = await h.admin('POST', '/v1/tenants/static-t/users', { username: 'carol', password: 'long enough', staticIp: '10.77.0.50' });
    assert.equal(inside.status, 201);
    assert.equal(inside.body.staticIp, '10.77.0.50');
  });

  test('pools: CIDR, gateway and overlap are validated', async () => {
    await h.admin('POST', '/v1/tenants', { tenantId: 'pools-t', name: 'P' });
    const ok = await h.admin('POST', '/v1/tenants/pools-t/pools', { poolId: 'a', cidr: '10.9.0.0/24', dns: ['9.9.9.9'] });
    assert.equal(ok.status, 201);
    assert.equal(ok.body.gateway, '10.9.0.1', 'defaults to the first host');
    const badCidr = await h.admin('POST', '/v1/tenants/pools-t/pools', { poolId: 'b', cidr: '10.9.1.7/24', dns: ['9.9.9.9'] });
    assert.equal(badCidr.status, 400);
    assert.equal(badCidr.body.error.field, 'cidr');
    const badGw = await h.admin('POST', '/v1/tenants/pools-t/pools', { poolId: 'b', cidr: '10.9.1.0/24', dns: ['9.9.9.9'], gateway: '10.9.2.1' });
    assert.equal(badGw.status, 400);
    assert.equal(badGw.body.error.field, 'gateway');
    const overlap = await h.admin('POST', '/v1/tenants/pools-t/pools', { poolId: 'c', cidr: '10.9.0.128/25', dns: ['9.9.9.9'] });
    assert.equal(overlap.status, 409);
    assert.equal(overlap.body.error.code, 'pool-overlap');
    const badDns = await h.admin('POST', '/v1/tenants/pools-t/pools', { poolId: 'd', cidr: '10.9.3.0/24', dns: ['nine'] });
    assert.equal(badDns.body.error.field, 'dns.0');
    const dup = await h.admin('POST', '/v1/tenants/pools-t/pools', { poolId: 'a', cidr: '10.9.4.0/24', dns: ['9.9.9.9'] });
    assert.equal(dup.status, 409);
    const list = await h.admin('GET', '/v1/tenants/pools-t/pools');
    assert.deepEqual(list.body.items.map((p: { poolId: string }) => p.poolId), ['a']);
  });
});

describe('fleet administration', () => {
  test('agents: enrol returns a token once; list hides hashes; revoke refuses the agent at once', async () => {
    const enrolled = await h.admin('POST', '/v1/agents', { name: 'edge-x' });
    assert.equal(enrolled.status, 201);
    const { token, agent } = enrolled.body;
    assert.match(token, /^tba_agent-[0-9a-f]+_/);
    assert.equal(enrolled.body.agentId, agent.agentId);
    const list = await h.admin('GET', '/v1/agents');
    assert.ok(list.body.items.some((a: { agentId: string }) => a.agentId === agent.agentId));
    assert.ok(!JSON.stringify(list.body).includes('tokenHash'));
    assert.equal((await h.call('GET', '/v1/agent/settings', { token })).status, 200);
    const revoked = await h.admin('DELETE', `/v1/agents/${agent.agentId}`);
    assert.equal(revoked.status, 200);
    assert.equal(revoked.body.revoked, true);
    const refused = await h.call('GET', '/v1/agent/settings', { token });
    assert.equal(refused.status, 401);
    assert.equal(refused.body.error.code, 'agent-revoked');
    assert.equal((await h.admin('DELETE', '/v1/agents/agent-none')).status, 404);
  });

  test('API keys: tenant keys need a tenant; keys authenticate until revoked; tenant keys cannot do fleet work', async () => {
    await seedTenant(h, 'keys-t');
    const missing = await h.admin('POST', '/v1/api-keys', { scope: 'tenant', name: 'k' });
    assert.equal(missing.status, 400);
    assert.equal(missing.body.error.field, 'tenantId');
    assert.equal((await h.admin('POST', '/v1/api-keys', { scope: 'tenant', tenantId: 'ghost', name: 'k' })).status, 404);
    const fleet = await h.admin('POST', '/v1/api-keys', { scope: 'fleet', name: 'ops' });
    assert.equal(fleet.status, 201);
    assert.match(fleet.body.token, /^tbk_[0-9a-f]+_/);
    assert.equal((await h.call('GET', '/v1/agents', { token: fleet.body.token })).status, 200);
    const tenantKey = await h.admin('POST', '/v1/api-keys', { scope: 'tenant', tenantId: 'keys-t', name: 'acme ops' });
    const tk = tenantKey.body.token;
    assert.equal((await h.call('GET', '/v1/tenants/keys-t', { token: tk })).status, 200);
    for (const [method, path, body] of [
      ['GET', '/v1/agents', undefined],
      ['POST', '/v1/tenants', { tenantId: 'evil', name: 'e' }],
      ['POST', '/v1/api-keys', { scope: 'fleet', name: 'escalate' }],
      ['PUT', '/v1/ipsec', { psk: 'abcdefghijk' }],
    ] as const) {
      const res = await h.call(method, path, { token: tk, ...(body ? { body } : {}) });
      assert.equal(res.status, 403, `${method} ${path}`);
    }
    assert.equal((await h.admin('DELETE', `/v1/api-keys/${fleet.body.apiKey.keyId}`)).status, 204);
    const afterRevoke = await h.call('GET', '/v1/agents', { token: fleet.body.token });
    assert.equal(afterRevoke.status, 401);
    // A forged secret for a real key id is refused.
    const forged = `tbk_${tenantKey.body.apiKey.keyId}_AAAAAAAA`;
    assert.equal((await h.call('GET', '/v1/tenants/keys-t', { token: forged })).status, 401);
  });

  test('IPsec: PSK stored encrypted, revision increments, never returned to operators', async () => {
    const first = await h.admin('PUT', '/v1/ipsec', { psk: 'first-psk-value', allowLegacyProposals: true });
    assert.equal(first.status, 200);
    const second = await h.admin('PUT', '/v1/ipsec', { psk: 'second-psk-value' });
    assert.equal(second.body.revision, first.body.revision + 1);
    assert.equal(second.body.allowLegacyProposals, true, 'kept when not given');
    const status = await h.admin('GET', '/v1/ipsec');
    assert.equal(status.body.configured, true);
    assert.ok(!JSON.stringify(status.body).includes('second-psk-value'));
    assert.equal((await h.admin('PUT', '/v1/ipsec', { psk: 'short' })).body.error.field, 'psk');
  });
});

describe('documents, errors and cross-cutting behaviour', () => {
  test('/openapi.json lists the routes; /docs renders them without external assets', async () => {
    const doc = await h.call('GET', '/openapi.json');
    assert.equal(doc.status, 200);
    const paths = Object.keys(doc.body.paths);
    for (const p of [
      '/v1/tenants',
      '/v1/tenants/{tenantId}/users',
      '/v1/tenants/{tenantId}/pools',
      '/v1/sessions',
      '/v1/sessions/{sessionId}',
      '/v1/agents',
      '/v1/api-keys',
      '/v1/ipsec',
      '/v1/tenants/{tenantId}',
      '/v1/tenants/{tenantId}/users/{username}',
      '/v1/tenants/{tenantId}/users/{username}/unlock',
      '/v1/tenants/{tenantId}/auth',
      '/v1/tenants/{tenantId}/pools/{poolId}',
      '/v1/tenants/{tenantId}/audit',
      '/v1/tenants/{tenantId}/usage',
      '/v1/audit',
      '/v1/agent/register',
      '/v1/agent/heartbeat',
      '/v1/agent/authenticate',
      '/v1/agent/sessions',
      '/v1/agent/sessions/{sessionId}/stop',
      '/healthz',
    ]) {
      assert.ok(paths.includes(p), `missing ${p}`);
    }
    assert.ok(doc.body.paths['/v1/tenants'].post.requestBody);
    for (const [path, methods] of [
      ['/v1/tenants', ['get', 'post']],
      ['/v1/tenants/{tenantId}', ['get', 'patch', 'delete']],
      ['/v1/tenants/{tenantId}/users/{username}', ['get', 'patch', 'delete']],
      ['/v1/tenants/{tenantId}/pools/{poolId}', ['patch', 'delete']],
      ['/v1/api-keys', ['get', 'post']],
    ] as const) {
      for (const m of methods) assert.ok(doc.body.paths[path]?.[m], `missing ${m.toUpperCase()} ${path}`);
    }
    // docs/api.md names every route of the document, as `METHOD /path`.
    const apiDoc = readFileSync(new URL('../../../docs/api.md', import.meta.url), 'utf8');
    const undocumented = Object.entries(doc.body.paths as Record<string, object>)
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
      .filter((route) => !apiDoc.includes(`\`${route}\``) && !apiDoc.includes(`\`${route} `));
    assert.deepEqual(undocumented, [], 'routes missing from docs/api.md');
    const docs = await h.call('GET', '/docs');
    assert.equal(docs.status, 200);
    assert.ok(docs.headers.get('content-type')?.startsWith('text/html'));
    assert.ok(String(docs.body).includes('/v1/agent/authenticate'));
    assert.ok(!/<script[^>]+src=|<link[^>]+href="http/.test(String(docs.body)), 'self-contained');
  });

  test('unknown route is a JSON 404; oversized body is 413; health is 200', async () => {
    const nf = await h.admin('GET', '/v1/nothing-here');
    assert.equal(nf.status, 404);
    assert.equal(nf.body.error.code, 'route-not-found');
    const big = await h.admin('POST', '/v1/tenants', { tenantId: 'big', name: 'x'.repeat(10_000) });
    assert.equal(big.status, 413);
    assert.equal(big.body.error.code, 'payload-too-large');
    const health = await h.call('GET', '/healthz');
    assert.equal(health.status, 200);
    assert.equal(health.body.status, 'ok');
    assert.ok(health.headers.get('x-request-id'));
  });

  test('Idempotency-Key: same key and body replays; different body is 409', async () => {
    const headers = { 'idempotency-key': 'create-idem-1' };
    const body = { tenantId: 'idem-t', name: 'Idem' };
    const first = await h.call('POST', '/v1/tenants', { token: ADMIN_TOKEN, body, headers });
    assert.equal(first.status, 201);
    const again = await h.call('POST', '/v1/tenants', { token: ADMIN_TOKEN, body, headers });
    assert.equal(again.status, 201, 'replayed instead of 409 tenant-exists');
    assert.deepEqual(again.body, first.body);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    const other = await h.call('POST', '/v1/tenants', { token: ADMIN_TOKEN, body: { tenantId: 'idem-t2', name: 'Other' }, headers });
    assert.equal(other.status, 409);
    assert.equal(other.body.error.code, 'idempotency-key-reused');
    assert.equal((await h.admin('GET', '/v1/tenants/idem-t2')).status, 404, 'the conflicting request did nothing');
  });
});
