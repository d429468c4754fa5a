import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Pool, Tenant } from '../../../../functions/src/domain/types';
import { withSettingsCache } from '../../../../functions/src/store/settings-cache';
import type { Store } from '../../../../functions/src/domain/store';

const tenant = { tenantId: 't1', name: 't1', authMethods: ['pap'], createdAt: 0 } as unknown as Tenant;
const pool = (poolId: string) => ({ tenantId: 't1', poolId, cidr: '10.0.0.0/24', dns: [], createdAt: 0 }) as unknown as Pool;

/** A store that records its calls; only the methods the cache touches exist. */
function recordingStore() {
  const calls: string[] = [];
  const state = { tenants: new Map<string, Tenant>(), pools: [] as Pool[], failNext: false };
  const store = {
    async getTenant(id: string) {
      calls.push(`getTenant ${id}`);
      if (state.failNext) {
        state.failNext = false;
        throw new Error('throttled');
      }
      return state.tenants.get(id);
    },
    async listPools(id: string) {
      calls.push(`listPools ${id}`);
      return state.pools.filter((p) => p.tenantId === id);
    },
    async createTenant(t: Tenant) {
      calls.push(`createTenant ${t.tenantId}`);
      state.tenants.set(t.tenantId, t);
    },
    async createPool(p: Pool) {
      calls.push(`createPool ${p.poolId}`);
      state.pools.push(p);
    },
    async getUser(tenantId: string, username: string) {
      calls.push(`getUser ${tenantId}/${username}`);
      return undefined;
    },
  };
  return { store: store as unknown as Store, calls, state };
}

describe('settings cache', () => {
  test('a tenant and its pools are read once within the TTL, again after it', async () => {
    const { store, calls, state } = recordingStore();
    state.tenants.set('t1', tenant);
    state.pools.push(pool('main'));
    let now = 1_000;
    const cached = withSettingsCache(store, { ttlMs: 5_000, now: () => now });

    assert.equal(await cached.getTenant('t1'), tenant);
    assert.equal(await cached.getTenant('t1'), tenant);
    assert.deepEqual(await cached.listPools('t1'), [pool('main')]);
    assert.deepEqual(await cached.listPools('t1'), [pool('main')]);
    assert.deepEqual(calls, ['getTenant t1', 'listPools t1']);

    now += 5_000;
    await cached.getTenant('t1');
    await cached.listPools('t1');
    assert.deepEqual(calls, ['getTenant t1', 'listPools t1', 'getTenant t1', 'listPools t1']);
  });

  test('concurrent readers share one store read', async () => {
    const { store, calls, state } = recordingStore();
    state.tenants.set('t1', tenant);
    const cached = withSettingsCache(store, { ttlMs: 5_000, now: () => 0 });
    const results = await Promise.all([cached.getTenant('t1'), cached.getTenant('t1'), cached.getTenant('t1')]);
    assert.deepEqual(results, [tenant, tenant, tenant]);
    assert.deepEqual(calls, ['getTenant t1']);
  });

  test('a missing tenant, an empty pool list and a failed read are not remembered', async () => {
    const { store, calls, state } = recordingStore();
    const cached = withSettingsCache(store, { ttlMs: 5_000, now: () => 0 });
    assert.equal(await cached.getTenant('t1'), undefined);
    assert.deepEqual(await cached.listPools('t1'), []);
    state.tenants.set('t1', tenant);
    state.pools.push(pool('main'));
    assert.equal(await cached.getTenant('t1'), tenant, 'a tenant created elsewhere is seen at once');
    assert.deepEqual(await cached.listPools('t1'), [pool('main')]);

    state.failNext = true;
    await assert.rejects(cached.getTenant('t2'), /throttled/);
    state.tenants.set('t2', { ...tenant, tenantId: 't2' });
    assert.equal((await cached.getTenant('t2'))?.tenantId, 't2');
    assert.equal(calls.filter((c) => c === 'getTenant t2').length, 2);
  });

  test('pools created through this instance are seen at once', async () => {
    const { store, state } = recordingStore();
    state.tenants.set('t1', tenant);
    state.pools.push(pool('main'));
    const cached = withSettingsCache(store, { ttlMs: 60_000, now: () => 0 });
    await cached.listPools('t1');
    await cached.createPool(pool('second'));
    assert.deepEqual((await cached.listPools('t1')).map((p) => p.poolId), ['main', 'second']);
  });

  test('callers get copies of the pool list, and other calls pass straight through', async () => {
    const { store, calls, state } = recordingStore();
    state.pools.push(pool('a'), pool('b'));
    const cached = withSettingsCache(store, { ttlMs: 60_000, now: () => 0 });
    (await cached.listPools('t1')).reverse();
    assert.deepEqual((await cached.listPools('t1')).map((p) => p.poolId), ['a', 'b']);
    await cached.getUser('t1', 'alice');
    await cached.getUser('t1', 'alice');
    assert.equal(calls.filter((c) => c.startsWith('getUser')).length, 2, 'users are never cached (lockout, password changes)');
  });

  test('memory stays bounded with many tenants', async () => {
    const { store, calls, state } = recordingStore();
    for (let i = 0; i < 5; i++) state.tenants.set(`t${i}`, { ...tenant, tenantId: `t${i}` });
    const cached = withSettingsCache(store, { ttlMs: 60_000, now: () => 0, maxEntries: 3 });
    for (let i = 0; i < 5; i++) await cached.getTenant(`t${i}`);
    await cached.getTenant('t0'); // evicted as the oldest: read again
    await cached.getTenant('t4'); // still cached
    assert.equal(calls.filter((c) => c === 'getTenant t0').length, 2);
    assert.equal(calls.filter((c) => c === 'getTenant t4').length, 1);
  });

  test('a method the store replaces later is the one called (fault-injecting test stores)', async () => {
    const { store } = recordingStore();
    const cached = withSettingsCache(store, { ttlMs: 60_000, now: () => 0 });
    assert.equal(await cached.getUser('t1', 'alice'), undefined);
    (store as unknown as { getUser: () => Promise<never> }).getUser = async () => {
      throw new Error('disk on fire');
    };
    await assert.rejects(cached.getUser('t1', 'alice'), /disk on fire/);
  });
});
