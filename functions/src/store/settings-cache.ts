/**
 * A short-lived in-process cache of tenant settings and pool lists in front of the store.
 *
 * Every session setup reads its tenant twice (authenticate, then start) and the tenant's pools once:
 * three of the eight store calls a setup used to make (measured in the control-plane benchmark).
 * Tenants and pools change rarely (an operator's create, PATCH or DELETE), so a few seconds of
 * caching costs little: a change made on another broker instance is seen after at most `ttlMs`;
 * on this instance at once (its writes here invalidate). What a stale read may do meanwhile is
 * documented with each change (docs/api.md: pool updates and deletes). Misses are not
 * cached, so a tenant created elsewhere is visible on its first use.
 */
import type { Pool, Tenant } from '../domain/types';
import type { Store } from '../domain/store';

export interface SettingsCacheOptions {
  readonly ttlMs: number;
  /** Milliseconds clock (injectable for tests). */
  readonly now: () => number;
  /** Entries kept at most; the oldest is dropped past it (bounds memory with many tenants). */
  readonly maxEntries?: number;
}

interface Entry<T> {
  readonly value: Promise<T>;
  readonly expiresAt: number;
}

/** Returns a Store that answers getTenant/listPools from the cache; every other call goes straight through. */
export function withSettingsCache(store: Store, options: SettingsCacheOptions): Store {
  const maxEntries = options.maxEntries ?? 10_000;
  const tenants = new Map<string, Entry<Tenant | undefined>>();
  const pools = new Map<string, Entry<Pool[]>>();

  // Concurrent callers share one in-flight read; a failed or empty answer is dropped so the next
  // caller reads again.
  function cached<T>(map: Map<string, Entry<T>>, key: string, load: () => Promise<T>, keep: (value: T) => boolean): Promise<T> {
    const now = options.now();
    const hit = map.get(key);
    if (hit && hit.expiresAt > now) return hit.value;
    if (map.size >= maxEntries) map.delete(map.keys().next().value!);
    const value = load();
    map.set(key, { value, expiresAt: now + options.ttlMs });
    value.then(
      (v) => {
        if (!keep(v) && map.get(key)?.value === value) map.delete(key);
      },
      () => {
        if (map.get(key)?.value === value) map.delete(key);
      },
    );
    return value;
  }

  const overrides: Partial<Store> = {
    getTenant: (tenantId) => cached(tenants, tenantId, () => store.getTenant(tenantId), (t) => t !== undefined),
    // Copies, so a caller that sorts or filters its list cannot change the cached one.
    listPools: async (tenantId) => [...(await cached(pools, tenantId, () => store.listPools(tenantId), (p) => p.length > 0))],
    createTenant: async (tenant) => {
      tenants.delete(tenant.tenantId);
      await store.createTenant(tenant);
    },
    createPool: async (pool, registry) => {
      await store.createPool(pool, registry);
      pools.delete(pool.tenantId);
    },
    // Changes made through this instance are seen by it at once; other instances see them within ttlMs.
    updateTenant: async (tenantId, changes) => {
      try {
        return await store.updateTenant(tenantId, changes);
      } finally {
        tenants.delete(tenantId);
      }
    },
    setTenantAccounting: async (tenantId, accounting, updatedAt) => {
      try {
        return await store.setTenantAccounting(tenantId, accounting, updatedAt);
      } finally {
        tenants.delete(tenantId);
      }
    },
    deleteTenant: async (tenantId) => {
      try {
        return await store.deleteTenant(tenantId);
      } finally {
        tenants.delete(tenantId);
        pools.delete(tenantId);
      }
    },
    updatePool: async (pool, registry) => {
      try {
        await store.updatePool(pool, registry);
      } finally {
        pools.delete(pool.tenantId);
      }
    },
    deletePool: async (tenantId, poolId, registry) => {
      try {
        return await store.deletePool(tenantId, poolId, registry);
      } finally {
        pools.delete(tenantId);
      }
    },
  };

  // Bound once per method function (not per name: a store may hand out a different function later).
  const bound = new WeakMap<object, unknown>();
  return new Proxy(store, {
    get(target, property) {
      if (Object.hasOwn(overrides, property)) return overrides[property as keyof Store];
      const value: unknown = Reflect.get(target, property);
      if (typeof value !== 'function') return value;
      let method = bound.get(value);
      if (method === undefined) bound.set(value, (method = value.bind(target)));
      return method;
    },
  });
}
