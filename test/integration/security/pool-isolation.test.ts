/**
 * Issue 14 findings 1 and 2, through app.request() on DynamoDB Local.
 *
 * 1. Pools could overlap across tenants, so a tenant key could give its own user a static address
 *    that another tenant's user already held on a shared agent, and take over that session's
 *    traffic. Pools now never overlap anywhere on the fleet (also under concurrent creation, and
 *    against pools created before the check existed).
 * 2. Pools could cover reserved and host ranges (a static 169.254.169.254 routed the instance
 *    metadata service into the TUN). Now: private and shared space by default, public space only by
 *    a fleet operator's explicit allowPublic, forbidden blocks never, the agents' own networks never;
 *    pools created before these rules that break them are not used where they are dangerous.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness, seedAgent, startBody, startGranted, type ApiResponse, type Harness } from '../../support/api-harness';
import type { Pool } from '../../../functions/src/domain/types';

let h: Harness;
before(async () => {
  h = await createHarness();
});
after(async () => {
  await h?.close();
});

async function expectStatus(res: Promise<ApiResponse>, status: number): Promise<ApiResponse> {
  const r = await res;
  assert.equal(r.status, status, JSON.stringify(r.body));
  return r;
}

/** A tenant and its own tenant-scoped API key. */
async function tenantWithKey(tenantId: string): Promise<string> {
  await expectStatus(h.admin('POST', '/v1/tenants', { tenantId, name: tenantId }), 201);
  return (await expectStatus(h.admin('POST', '/v1/api-keys', { scope: 'tenant', tenantId, name: `${tenantId}-key` }), 201)).body.token;
}

const asKey = (token: string, method: string, path: string, body?: unknown) => h.call(method, path, { token, ...(body !== undefined ? { body } : {}) });
const pool = (poolId: string, cidr: string, extra: Record<string, unknown> = {}) => ({ poolId, cidr, dns: ['192.0.2.53'], ...extra });

/** A pool written as a broker before issue 14 would have: no registry, no address rules. */
async function legacyPool(tenantId: string, poolId: string, cidr: string, gateway: string): Promise<void> {
  const p: Pool = { tenantId, poolId, cidr, gateway, exclude: [], dns: ['192.0.2.53'], createdAt: h.clock.now() };
  await h.testStore.store.createPool(p);
}

describe('finding 1: one address, one pool, fleet-wide', () => {
  let acme = '';
  let globex = '';
  before(async () => {
    acme = await tenantWithKey('acme');
    globex = await tenantWithKey('globex');
    await expectStatus(asKey(globex, 'POST', '/v1/tenants/globex/pools', pool('main', '10.8.0.0/24')), 201);
  });

  test('the attack: acme\'s key cannot create a pool overlapping globex\'s, so it cannot give its user globex\'s address', async () => {
    for (const cidr of ['10.8.0.0/24', '10.8.0.128/25', '10.8.0.0/16']) {
      const res = await expectStatus(asKey(acme, 'POST', '/v1/tenants/acme/pools', pool('steal', cidr)), 409);
      assert.equal(res.body.error.code, 'pool-overlap');
      assert.equal(res.body.error.field, 'cidr');
      assert.doesNotMatch(JSON.stringify(res.body), /globex|main/, 'another tenant\'s pool is not named');
    }
    // Without an overlapping pool, the victim's address is outside every acme pool.
    await expectStatus(asKey(acme, 'POST', '/v1/tenants/acme/pools', pool('own', '10.9.0.0/24')), 201);
    const user = await expectStatus(asKey(acme, 'POST', '/v1/tenants/acme/users', { username: 'mallory', password: 'long enough', staticIp: '10.8.0.245' }), 400);
    assert.equal(user.body.error.field, 'staticIp');
    const listed = await expectStatus(asKey(acme, 'GET', '/v1/tenants/acme/pools'), 200);
    assert.deepEqual(listed.body.items.map((p: { cidr: string }) => p.cidr), ['10.9.0.0/24']);
  });

  test('two tenants racing for overlapping blocks: exactly one pool is created', async () => {
    const keys = await Promise.all(Array.from({ length: 6 }, (_, i) => tenantWithKey(`race-${i}`)));
    // Six tenants, each asking for a block that overlaps every other one (all hold 10.50.0.0/26).
    const prefixes = [16, 17, 18, 20, 24, 26];
    const results = await Promise.all(keys.map((key, i) => asKey(key, 'POST', `/v1/tenants/race-${i}/pools`, pool('p', `10.50.0.0/${prefixes[i]}`))));
    const statuses = results.map((r) => r.status).sort();
    assert.deepEqual(statuses, [201, 409, 409, 409, 409, 409], JSON.stringify(results.map((r) => r.body)));
    for (const r of results.filter((x) => x.status === 409)) assert.equal(r.body.error.code, 'pool-overlap');
    const registry = await h.testStore.store.getPoolRegistry();
    assert.equal(registry?.pools.filter((p) => p.cidr.startsWith('10.50.')).length, 1);
  });

  test('pools created before the fleet-wide check are part of it', async () => {
    await expectStatus(h.admin('POST', '/v1/tenants', { tenantId: 'old-corp', name: 'old' }), 201);
    // A fresh fleet (own table) where the only pools predate the registry.
    const fresh = await createHarness();
    try {
      await expectStatus(fresh.admin('POST', '/v1/tenants', { tenantId: 'old-corp', name: 'old' }), 201);
      await expectStatus(fresh.admin('POST', '/v1/tenants', { tenantId: 'new-corp', name: 'new' }), 201);
      await fresh.testStore.store.createPool({ tenantId: 'old-corp', poolId: 'legacy', cidr: '10.60.0.0/24', gateway: '10.60.0.1', exclude: [], dns: ['192.0.2.53'], createdAt: 0 });
      assert.equal(await fresh.testStore.store.getPoolRegistry(), undefined);
      const clash = await expectStatus(fresh.admin('POST', '/v1/tenants/new-corp/pools', pool('p', '10.60.0.0/25')), 409);
      assert.equal(clash.body.error.code, 'pool-overlap');
      await expectStatus(fresh.admin('POST', '/v1/tenants/new-corp/pools', pool('p', '10.61.0.0/24')), 201);
      const registry = await fresh.testStore.store.getPoolRegistry();
      assert.deepEqual(registry?.pools.map((p) => p.cidr).sort(), ['10.60.0.0/24', '10.61.0.0/24']);
      assert.equal(registry?.revision, 1);
    } finally {
      await fresh.close();
    }
  });

  test('a pool id already taken is still 409 pool-exists', async () => {
    const res = await expectStatus(asKey(globex, 'POST', '/v1/tenants/globex/pools', pool('main', '10.10.0.0/24')), 409);
    assert.equal(res.body.error.code, 'pool-exists');
  });
});

describe('finding 2: no reserved or host space in pools', () => {
  let tenantKey = '';
  before(async () => {
    tenantKey = await tenantWithKey('spaces');
  });

  test('loopback, link-local, multicast, 0/8, reserved and broadcast are refused, even for the fleet operator with allowPublic', async () => {
    const forbidden = ['0.0.0.0/16', '127.0.0.0/16', '169.254.0.0/16', '224.0.0.0/16', '239.255.255.0/24', '240.0.0.0/16', '255.255.255.0/24'];
    for (const [i, cidr] of forbidden.entries()) {
      for (const [who, call] of [
        ['tenant key', () => asKey(tenantKey, 'POST', '/v1/tenants/spaces/pools', pool(`f${i}`, cidr))],
        ['fleet admin + allowPublic', () => h.admin('POST', '/v1/tenants/spaces/pools', pool(`f${i}`, cidr, { allowPublic: true }))],
      ] as const) {
        const res = await call();
        assert.equal(res.status, 400, `${cidr} by ${who}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error.code, 'pool-address-not-allowed');
        assert.equal(res.body.error.field, 'cidr');
      }
    }
    // The static address that diverted the metadata service cannot be given: no pool holds it.
    const user = await expectStatus(asKey(tenantKey, 'POST', '/v1/tenants/spaces/users', { username: 'imds', password: 'long enough', staticIp: '169.254.169.254' }), 400);
    assert.equal(user.body.error.field, 'staticIp');
  });

  test('private (RFC 1918) and shared (RFC 6598) space needs no flag', async () => {
    for (const [i, cidr] of ['10.120.0.0/24', '172.16.5.0/24', '192.168.77.0/24', '100.64.9.0/24'].entries()) {
      await expectStatus(asKey(tenantKey, 'POST', '/v1/tenants/spaces/pools', pool(`ok${i}`, cidr)), 201);
    }
  });

  test('public space: refused by default, 403 when a tenant key asks for it, created when a fleet operator allows it', async () => {
    const plain = await expectStatus(h.admin('POST', '/v1/tenants/spaces/pools', pool('pub', '198.51.100.0/24')), 400);
    assert.equal(plain.body.error.code, 'pool-address-not-allowed');
    assert.match(plain.body.error.message, /allowPublic/);
    const byTenant = await expectStatus(asKey(tenantKey, 'POST', '/v1/tenants/spaces/pools', pool('pub', '198.51.100.0/24', { allowPublic: true })), 403);
    assert.equal(byTenant.body.error.code, 'public-pool-forbidden');
    const fleetKey = (await expectStatus(h.admin('POST', '/v1/api-keys', { scope: 'fleet', name: 'ops' }), 201)).body.token;
    const created = await expectStatus(asKey(fleetKey, 'POST', '/v1/tenants/spaces/pools', pool('pub', '198.51.100.0/24', { allowPublic: true })), 201);
    assert.equal(created.body.allowPublic, true);
  });

  test('a pool over a network an agent reported for its host is refused (the agents\' default VPC 172.31.0.0/16)', async () => {
    const agent = await seedAgent(h, 'vpc-agent');
    const reg = await h.call('POST', '/v1/agent/register', {
      token: agent.token,
      body: { publicAddress: '203.0.113.10', capacity: 50, version: 'test', networks: ['172.31.0.0/16', '192.0.2.0/24'] },
    });
    assert.equal(reg.status, 200, JSON.stringify(reg.body));
    for (const cidr of ['172.31.0.0/16', '172.31.200.0/24']) {
      const res = await expectStatus(asKey(tenantKey, 'POST', '/v1/tenants/spaces/pools', pool('vpc', cidr)), 409);
      assert.equal(res.body.error.code, 'pool-overlaps-agent-network');
      assert.match(res.body.error.message, /172\.31\.0\.0\/16/);
    }
    await expectStatus(asKey(tenantKey, 'POST', '/v1/tenants/spaces/pools', pool('vpc', '172.30.0.0/24')), 201);
    const bad = await h.call('POST', '/v1/agent/register', { token: agent.token, body: { publicAddress: '203.0.113.10', capacity: 50, version: 'test', networks: ['172.31.0.1/16'] } });
    assert.equal(bad.status, 400, 'networks are strict CIDRs');
    await h.admin('DELETE', `/v1/agents/${agent.agentId}`); // out of the other tests' way
  });

  test('pools created before these rules: a forbidden-space pool and a pool over the agent\'s network give no address there', async () => {
    await expectStatus(h.admin('POST', '/v1/tenants', { tenantId: 'legacy', name: 'legacy', authMethods: ['mschapv2'] }), 201);
    await legacyPool('legacy', 'imds', '169.254.0.0/16', '169.254.0.1');
    await expectStatus(h.admin('POST', '/v1/tenants/legacy/users', { username: 'imds', password: 'long enough', staticIp: '169.254.169.254' }), 201);
    const agent = await seedAgent(h, 'legacy-agent');
    await h.call('POST', '/v1/agent/register', { token: agent.token, body: { publicAddress: '203.0.113.10', capacity: 50, version: 'test', networks: ['10.130.0.0/16'] } });
    const start = await startGranted(h, agent.token, startBody('legacy-1', 'legacy', 'imds'), 'long enough');
    assert.equal(start.status, 409, JSON.stringify(start.body));
    assert.equal(start.body.error.code, 'static-address-unavailable');
    assert.match(start.body.error.message, /169\.254\.0\.0\/16/);

    // A dynamic user of a legacy pool that overlaps the agent's network: refused on that agent only.
    await expectStatus(h.admin('POST', '/v1/tenants', { tenantId: 'legacy2', name: 'legacy2', authMethods: ['mschapv2'] }), 201);
    await legacyPool('legacy2', 'onhost', '10.130.5.0/24', '10.130.5.1');
    await expectStatus(h.admin('POST', '/v1/tenants/legacy2/users', { username: 'dyn', password: 'long enough' }), 201);
    const refused = await startGranted(h, agent.token, startBody('legacy-2', 'legacy2', 'dyn'), 'long enough');
    assert.equal(refused.status, 409, JSON.stringify(refused.body));
    assert.equal(refused.body.error.code, 'pool-not-allowed');
    const other = await seedAgent(h, 'elsewhere');
    const served = await startGranted(h, other.token, startBody('legacy-3', 'legacy2', 'dyn'), 'long enough');
    assert.equal(served.status, 201, JSON.stringify(served.body));
    assert.match(served.body.address, /^10\.130\.5\./);
    for (const a of [agent, other]) await h.admin('DELETE', `/v1/agents/${a.agentId}`);
  });
});
