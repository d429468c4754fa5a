/**
 * Issue 18, the operator routes that were missing: list/update/delete tenants, update/delete
 * pools, list API keys and key expiry, each with the attack a tenant key could try.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness, heartbeatBody, seedAgent, seedTenant, startBody, startGranted, type Harness } from '../../support/api-harness';

let h: Harness;
let agent: { agentId: string; token: string };
let ref = 0;
let acmeKey: string;
let globexKey: { token: string; keyId: string };
before(async () => {
  h = await createHarness();
  await seedTenant(h, 'acme', { cidr: '10.60.0.0/24', maxSessions: 5 });
  await seedTenant(h, 'globex', { cidr: '10.61.0.0/24' });
  agent = await seedAgent(h);
  acmeKey = (await h.admin('POST', '/v1/api-keys', { scope: 'tenant', tenantId: 'acme', name: 'acme ops' })).body.token;
  const g = (await h.admin('POST', '/v1/api-keys', { scope: 'tenant', tenantId: 'globex', name: 'globex ops' })).body;
  globexKey = { token: g.token, keyId: g.apiKey.keyId };
});
after(async () => {
  await h?.close();
});

const as = (token: string, method: string, path: string, body?: unknown) => h.call(method, path, { token, ...(body !== undefined ? { body } : {}) });
const start = async (tenantId: string) => startGranted(h, agent.token, startBody(`r-${++ref}`, tenantId, 'alice'));
const stopAll = async (tenantId: string) => {
  const beat = await h.call('POST', '/v1/agent/heartbeat', { token: agent.token, body: heartbeatBody() });
  for (const c of beat.body.commands as { type: string; sessionId: string }[]) {
    if (c.type !== 'disconnect-session') continue;
    const s = await h.admin('GET', `/v1/sessions/${c.sessionId}`);
    if (s.body.tenantId === tenantId) await h.call('POST', `/v1/agent/sessions/${c.sessionId}/stop`, { token: agent.token, body: { reason: 'admin-disconnect' } });
  }
};

describe('tenants', () => {
  test('listed by id in pages; a tenant key sees only its own tenant', async () => {
    for (const id of ['list-a', 'list-b', 'list-c']) await h.admin('POST', '/v1/tenants', { tenantId: id, name: id });
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await h.admin('GET', `/v1/tenants?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      assert.equal(page.status, 200);
      assert.ok(page.body.items.length <= 2);
      seen.push(...page.body.items.map((t: { tenantId: string }) => t.tenantId));
      cursor = page.body.cursor;
    } while (cursor);
    assert.deepEqual(seen, [...seen].sort());
    for (const id of ['acme', 'globex', 'list-a', 'list-b', 'list-c']) assert.ok(seen.includes(id), id);
    const mine = await as(acmeKey, 'GET', '/v1/tenants');
    assert.deepEqual(mine.body.items.map((t: { tenantId: string }) => t.tenantId), ['acme']);
  });

  test('PATCH changes name, methods and limits (null removes one); fleet scope only', async () => {
    const changed = await h.admin('PATCH', '/v1/tenants/acme', { name: 'Acme Inc', authMethods: ['pap', 'mschapv2'], maxSessions: 1, maxSessionsPerUser: 1 });
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
    assert.deepEqual([changed.body.name, changed.body.authMethods, changed.body.maxSessions], ['Acme Inc', ['mschapv2', 'pap'], 1]);
    assert.ok(changed.body.updatedAt);
    const first = await start('acme');
    assert.equal(first.status, 201);
    const second = await start('acme');
    assert.deepEqual([second.status, second.body.error.code], [409, 'quota-exceeded'], 'the new limit applies to the next start');
    const unlimited = await h.admin('PATCH', '/v1/tenants/acme', { maxSessions: null, maxSessionsPerUser: null });
    assert.equal(unlimited.body.maxSessions, undefined);
    assert.equal((await start('acme')).status, 201);
    // The attack: a tenant key raising its own limits, or changing another tenant.
    assert.equal((await as(acmeKey, 'PATCH', '/v1/tenants/acme', { maxSessions: 100000 })).status, 403);
    assert.equal((await as(acmeKey, 'PATCH', '/v1/tenants/globex', { name: 'pwned' })).status, 403);
    assert.equal((await h.admin('GET', '/v1/tenants/globex')).body.name, 'Tenant globex');
    assert.equal((await h.admin('PATCH', '/v1/tenants/acme', {})).body.error.code, 'validation-failed');
    assert.equal((await h.admin('PATCH', '/v1/tenants/nobody', { name: 'x' })).status, 404);
  });

  test('DELETE: refused while it has pools or sessions; cascade ends sessions, then deletes everything', async () => {
    await seedTenant(h, 'doomed', { cidr: '10.62.0.0/24' });
    const key = (await h.admin('POST', '/v1/api-keys', { scope: 'tenant', tenantId: 'doomed', name: 'k' })).body.token;
    const session = (await start('doomed')).body.sessionId as string;
    const refused = await h.admin('DELETE', '/v1/tenants/doomed');
    assert.deepEqual([refused.status, refused.body.error.code], [409, 'tenant-not-empty']);
    assert.equal((await as(acmeKey, 'DELETE', '/v1/tenants/doomed?cascade=true')).status, 403, 'tenant keys cannot delete tenants');
    const pending = await h.admin('DELETE', '/v1/tenants/doomed?cascade=true');
    assert.equal(pending.status, 202, JSON.stringify(pending.body));
    assert.deepEqual(pending.body, { deleting: true, activeSessions: 1, pools: 1 });
    assert.equal((await as(key, 'GET', '/v1/tenants/doomed')).body.error.code, 'api-key-revoked', "the tenant's keys are revoked at once");
    assert.equal((await h.admin('GET', `/v1/sessions/${session}`)).body.disconnectReason, 'tenant-deleted');
    await stopAll('doomed');
    assert.equal((await h.admin('DELETE', '/v1/tenants/doomed?cascade=true')).status, 204);
    assert.equal((await h.admin('GET', '/v1/tenants/doomed')).status, 404);
    assert.equal((await h.admin('GET', `/v1/sessions/${session}`)).body.endReason, 'tenant-deleted', 'stopped sessions are kept');
    // Its block is free for another pool now.
    assert.equal((await h.admin('POST', '/v1/tenants/globex/pools', { poolId: 'reuse', cidr: '10.62.0.0/24', dns: ['1.1.1.1'] })).status, 201);
    await h.admin('POST', '/v1/tenants', { tenantId: 'empty-co', name: 'Empty' });
    assert.equal((await h.admin('DELETE', '/v1/tenants/empty-co')).status, 204);
  });
});

describe('pools', () => {
  test('DNS and exclusions change at any time; a tenant key cannot touch another tenant\'s pool', async () => {
    const changed = await as(acmeKey, 'PATCH', '/v1/tenants/acme/pools/main', { dns: ['9.9.9.9'], exclude: [{ first: '10.60.0.200', last: '10.60.0.250' }] });
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
    assert.deepEqual([changed.body.dns, changed.body.exclude, changed.body.cidr], [['9.9.9.9'], [{ first: '10.60.0.200', last: '10.60.0.250' }], '10.60.0.0/24']);
    const attack = await as(acmeKey, 'PATCH', '/v1/tenants/globex/pools/main', { cidr: '10.60.128.0/24' });
    assert.equal(attack.status, 404);
    assert.equal((await as(acmeKey, 'DELETE', '/v1/tenants/globex/pools/reuse')).status, 404);
    const globexPools = (await h.admin('GET', '/v1/tenants/globex/pools')).body.items.map((p: { poolId: string; cidr: string }) => `${p.poolId} ${p.cidr}`);
    assert.deepEqual(globexPools.filter((p: string) => !p.startsWith('near') && !p.startsWith('clash')), ['main 10.61.0.0/24', 'reuse 10.62.0.0/24']);
  });

  test('the block changes only when every lease stays inside, and never onto another pool', async () => {
    await h.admin('POST', '/v1/tenants', { tenantId: 'mover', name: 'Mover' });
    await h.admin('POST', '/v1/tenants/mover/pools', { poolId: 'main', cidr: '10.63.0.0/24', dns: ['1.1.1.1'] });
    await h.admin('POST', '/v1/tenants/mover/users', { username: 'alice', password: 'correct horse' });
    await h.admin('PATCH', '/v1/tenants/mover/users/alice', { staticIp: '10.63.0.200' });
    const session = (await start('mover')).body;
    assert.equal(session.address, '10.63.0.200');
    const shrink = await h.admin('PATCH', '/v1/tenants/mover/pools/main', { cidr: '10.63.0.0/25' });
    assert.deepEqual([shrink.status, shrink.body.error.code], [409, 'pool-range-has-leases']);
    assert.match(shrink.body.error.message, /10\.63\.0\.200/);
    assert.equal((await h.admin('POST', '/v1/tenants/globex/pools', { poolId: 'near', cidr: '10.63.2.0/24', dns: ['1.1.1.1'] })).status, 201);
    const overlap = await h.admin('PATCH', '/v1/tenants/mover/pools/main', { cidr: '10.63.0.0/22' });
    assert.deepEqual([overlap.status, overlap.body.error.code], [409, 'pool-overlap']);
    assert.match(overlap.body.error.message, /another tenant/, 'the other pool is not named');
    const grow = await h.admin('PATCH', '/v1/tenants/mover/pools/main', { cidr: '10.63.0.0/23' });
    assert.deepEqual([grow.status, grow.body.cidr, grow.body.gateway], [200, '10.63.0.0/23', '10.63.0.1']);
    // The registry follows: 10.63.1.0/24 is now taken fleet-wide.
    assert.equal((await h.admin('POST', '/v1/tenants/globex/pools', { poolId: 'clash', cidr: '10.63.1.0/24', dns: ['1.1.1.1'] })).body.error.code, 'pool-overlap');
    // Delete: refused while leased, allowed once the session ended; the block is free again.
    const inUse = await h.admin('DELETE', '/v1/tenants/mover/pools/main');
    assert.deepEqual([inUse.status, inUse.body.error.code], [409, 'pool-in-use']);
    await h.call('POST', `/v1/agent/sessions/${session.sessionId}/stop`, { token: agent.token, body: { reason: 'user-request' } });
    assert.equal((await h.admin('DELETE', '/v1/tenants/mover/pools/main')).status, 204);
    assert.equal((await h.admin('GET', '/v1/tenants/mover/pools')).body.items.length, 0);
    assert.equal((await h.admin('POST', '/v1/tenants/globex/pools', { poolId: 'clash', cidr: '10.63.1.0/24', dns: ['1.1.1.1'] })).status, 201);
    assert.equal((await h.admin('DELETE', '/v1/tenants/mover/pools/main')).status, 404);
  });
});

describe('API keys', () => {
  test('listed without secrets; a tenant key lists only its tenant\'s keys', async () => {
    const all = await h.admin('GET', '/v1/api-keys');
    assert.equal(all.status, 200);
    const text = JSON.stringify(all.body);
    assert.ok(!/secretHash|token|tbk_/.test(text), text);
    assert.ok(all.body.items.some((k: { keyId: string }) => k.keyId === globexKey.keyId));
    const filtered = await h.admin('GET', '/v1/api-keys?tenantId=globex');
    assert.ok(filtered.body.items.every((k: { tenantId?: string }) => k.tenantId === 'globex'));
    const mine = await as(acmeKey, 'GET', '/v1/api-keys');
    assert.ok(mine.body.items.length >= 1 && mine.body.items.every((k: { tenantId?: string }) => k.tenantId === 'acme'), JSON.stringify(mine.body));
    assert.equal((await as(acmeKey, 'GET', '/v1/api-keys?tenantId=globex')).status, 404);
  });

  test('an expired key is refused everywhere: a stolen key stops working at its expiry', async () => {
    const past = await h.admin('POST', '/v1/api-keys', { scope: 'tenant', tenantId: 'globex', name: 'late', expiresAt: '2020-01-01T00:00:00Z' });
    assert.deepEqual([past.status, past.body.error.field], [400, 'expiresAt']);
    const expiresAt = new Date(h.clock.now() + 3_600_000).toISOString();
    const created = await h.admin('POST', '/v1/api-keys', { scope: 'tenant', tenantId: 'globex', name: 'contractor', expiresAt });
    assert.equal(created.status, 201);
    assert.deepEqual([created.body.apiKey.expiresAt, created.body.apiKey.expired], [expiresAt, false]);
    const stolen = created.body.token as string;
    assert.equal((await as(stolen, 'GET', '/v1/tenants/globex')).status, 200);
    h.clock.advance(3_600_000);
    for (const [method, path, body] of [
      ['GET', '/v1/tenants/globex', undefined],
      ['GET', '/v1/tenants/globex/users', undefined],
      ['POST', '/v1/tenants/globex/users', { username: 'backdoor', password: 'correct horse' }],
      ['GET', '/v1/sessions', undefined],
    ] as const) {
      const res = await as(stolen, method, path, body);
      assert.deepEqual([res.status, res.body.error.code], [401, 'api-key-expired'], `${method} ${path}`);
    }
    assert.equal((await h.admin('GET', '/v1/tenants/globex/users/backdoor')).status, 404);
    const listed = (await h.admin('GET', '/v1/api-keys?tenantId=globex')).body.items.find((k: { keyId: string }) => k.keyId === created.body.apiKey.keyId);
    assert.equal(listed.expired, true);
  });
});
