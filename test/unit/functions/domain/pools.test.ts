/**
 * Pool administration (functions/src/domain/pools.ts) on the in-memory store: validation, address
 * space, fleet-wide overlap through the registry (and its retry when another pool was created
 * meanwhile), agents' networks. Over HTTP on DynamoDB Local: test/integration/security/pool-isolation.test.ts.
 */
import { beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BrokerError, ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../../../functions/src/errors';
import { createPool, listPools, readPoolRegistry, type CreatePoolInput } from '../../../../functions/src/domain/pools';
import type { Store } from '../../../../functions/src/domain/store';
import { PoolRegistryChangedError } from '../../../../functions/src/domain/store-errors';
import { createInMemoryStore } from '../../../../functions/src/store/memory';
import { agent, pool, tenant } from '../../../support/store-fixtures';
import { domainContext, type DomainContext } from '../../../support/domain/domain-context';

let ctx: DomainContext;
beforeEach(async () => {
  ctx = domainContext();
  await ctx.store.createTenant(tenant({ tenantId: 'acme' }));
  await ctx.store.createTenant(tenant({ tenantId: 'other' }));
});

const input = (o: Partial<CreatePoolInput> = {}): CreatePoolInput => ({ poolId: 'main', cidr: '10.8.0.0/24', dns: ['10.8.0.1'], ...o });
const refused = (promise: Promise<unknown>) => promise.then(() => assert.fail('created'), (e: unknown) => e);

describe('createPool', () => {
  test('stores the pool with its gateway defaulting to the first host, and claims it in the registry', async () => {
    const created = await createPool(ctx, 'acme', input());
    assert.deepEqual(created, { tenantId: 'acme', poolId: 'main', cidr: '10.8.0.0/24', exclude: [], dns: ['10.8.0.1'], gateway: '10.8.0.1', createdAt: ctx.clock.now() });
    assert.deepEqual(await listPools(ctx, 'acme'), [created]);
    assert.deepEqual(await ctx.store.getPoolRegistry(), { revision: 1, pools: [{ tenantId: 'acme', poolId: 'main', cidr: '10.8.0.0/24' }] });
  });

  test('a malformed pool is 400 naming the field; an unknown tenant is 404', async () => {
    const bad = await refused(createPool(ctx, 'acme', input({ gateway: '10.9.0.1' })));
    assert.ok(bad instanceof ValidationError);
    assert.equal(bad.field, 'gateway');
    assert.ok((await refused(createPool(ctx, 'nobody', input()))) instanceof NotFoundError);
  });

  test('overlap is a 409 pool-overlap: within the tenant naming the pool, across tenants without', async () => {
    await createPool(ctx, 'acme', input());
    const own = await refused(createPool(ctx, 'acme', input({ poolId: 'inner', cidr: '10.8.0.128/25' })));
    assert.ok(own instanceof ConflictError);
    assert.deepEqual([own.code, own.field], ['pool-overlap', 'cidr']);
    assert.match(own.message, /overlaps pool main/);
    const foreign = await refused(createPool(ctx, 'other', input({ cidr: '10.8.0.0/16' })));
    assert.ok(foreign instanceof ConflictError);
    assert.equal(foreign.code, 'pool-overlap');
    assert.doesNotMatch(foreign.message, /main/, 'another tenant\'s pool is not named');
  });

  test('a duplicate id is 409 pool-exists', async () => {
    await createPool(ctx, 'acme', input());
    const dup = await refused(createPool(ctx, 'acme', input({ cidr: '10.9.0.0/24', dns: [] })));
    assert.ok(dup instanceof ConflictError);
    assert.equal(dup.code, 'pool-exists');
  });

  test('public space needs a fleet operator who allows it; reserved space is never allowed', async () => {
    const publicPool = input({ poolId: 'pub', cidr: '198.51.100.0/24', dns: [] });
    const notAllowed = await refused(createPool(ctx, 'acme', publicPool));
    assert.ok(notAllowed instanceof BrokerError);
    assert.deepEqual([notAllowed.kind, notAllowed.code], ['validation', 'pool-address-not-allowed']);
    const byTenant = await refused(createPool(ctx, 'acme', { ...publicPool, allowPublic: true }));
    assert.ok(byTenant instanceof ForbiddenError);
    assert.equal(byTenant.code, 'public-pool-forbidden');
    assert.equal((await createPool(ctx, 'acme', { ...publicPool, allowPublic: true }, { fleetOperator: true })).allowPublic, true);
    const linkLocal = await refused(createPool(ctx, 'acme', input({ poolId: 'll', cidr: '169.254.1.0/24', dns: [] }), { fleetOperator: true }));
    assert.ok(linkLocal instanceof BrokerError);
    assert.equal(linkLocal.code, 'pool-address-not-allowed');
  });

  test('a block on an agent\'s host network is 409 pool-overlaps-agent-network; a revoked agent\'s networks do not count', async () => {
    await ctx.store.createAgent(agent({ agentId: 'a1', networks: ['10.20.0.0/16'] }));
    await ctx.store.createAgent(agent({ agentId: 'a2', networks: ['10.30.0.0/16'], revoked: true }));
    const onHost = await refused(createPool(ctx, 'acme', input({ cidr: '10.20.5.0/24' })));
    assert.ok(onHost instanceof ConflictError);
    assert.equal(onHost.code, 'pool-overlaps-agent-network');
    assert.equal((await createPool(ctx, 'acme', input({ cidr: '10.30.5.0/24' }))).cidr, '10.30.5.0/24');
  });

  test('a pool created meanwhile elsewhere (registry changed) is re-checked: created when it does not overlap, refused when it does', async () => {
    let racing: (() => Promise<void>) | undefined;
    const inner = createInMemoryStore({ clock: { now: () => 1 } });
    const store: Store = {
      ...inner,
      createPool: async (p, registry) => {
        const race = racing;
        racing = undefined;
        if (race) await race(); // another broker creates a pool between our read and our write
        return inner.createPool(p, registry);
      },
    };
    const raced = domainContext({ store });
    await inner.createTenant(tenant({ tenantId: 'acme' }));
    await inner.createTenant(tenant({ tenantId: 'other' }));
    racing = () => inner.createPool(pool({ tenantId: 'other', poolId: 'x', cidr: '10.50.0.0/24' }), { revision: 0, pools: [] });
    await createPool(raced, 'acme', input({ cidr: '10.60.0.0/24' }));
    assert.deepEqual((await inner.getPoolRegistry())?.pools.map((p) => p.cidr), ['10.50.0.0/24', '10.60.0.0/24']);
    racing = async () => {
      const registry = await readPoolRegistry({ store: inner });
      await inner.createPool(pool({ tenantId: 'other', poolId: 'y', cidr: '10.70.0.0/24' }), registry);
    };
    const overlap = await refused(createPool(raced, 'acme', input({ poolId: 'late', cidr: '10.70.0.0/16' })));
    assert.ok(overlap instanceof ConflictError);
    assert.equal(overlap.code, 'pool-overlap');
  });

  test('the registry keeps changing: the create gives up with PoolRegistryChangedError after a few tries', async () => {
    const inner = createInMemoryStore();
    await inner.createTenant(tenant({ tenantId: 'acme' }));
    let tries = 0;
    const store: Store = { ...inner, createPool: async () => (tries++, Promise.reject(new PoolRegistryChangedError())) };
    assert.ok((await refused(createPool(domainContext({ store }), 'acme', input()))) instanceof PoolRegistryChangedError);
    assert.equal(tries, 8);
  });
});

describe('readPoolRegistry', () => {
  test('before the first registry write it lists every tenant\'s pools, at revision 0', async () => {
    await ctx.store.createPool(pool({ tenantId: 'acme', poolId: 'old', cidr: '10.1.0.0/24' }));
    await ctx.store.createPool(pool({ tenantId: 'other', poolId: 'older', cidr: '10.2.0.0/24' }));
    const registry = await readPoolRegistry(ctx);
    assert.equal(registry.revision, 0);
    assert.deepEqual(registry.pools.map((p) => p.cidr).sort(), ['10.1.0.0/24', '10.2.0.0/24']);
    const overlap = await refused(createPool(ctx, 'other', input({ cidr: '10.1.0.0/16' })));
    assert.ok(overlap instanceof ConflictError);
    assert.equal(overlap.code, 'pool-overlap');
  });
});
