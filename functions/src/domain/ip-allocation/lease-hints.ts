/**
 * Addresses this broker process has recently seen leased: its own starts and the races it lost.
 * The optimistic allocator skips them when it draws a random address, so a busy pool does not
 * cost a failed transaction per collision. With merged transactions (store/dynamo/
 * transact-batcher.ts) one collision cancels the whole request: at 5,000 leases in a /16, a random
 * draw collides 8 % of the time, so nearly every merged request of 30 starts was cancelled once
 * and sent again (measured: 1.8 extra items written per session in a 3,000-session storm).
 *
 * Only a hint: the start transaction stays the arbiter. Entries expire, so an address freed
 * elsewhere (another broker instance, the reaper) is drawn again after a while at most.
 */
export const LEASE_HINT_TTL_MS = 5 * 60_000;
/** Bound on remembered addresses per pool (a /16 has 65,536). */
const MAX_PER_POOL = 1 << 16;

/** Which pool: hints are per tenant and pool. */
export interface PoolRef {
  readonly tenantId: string;
  readonly poolId: string;
}

export class LeaseHints {
  private readonly byPool = new Map<string, Map<number, number>>();

  constructor(private readonly now: () => number = Date.now) {}

  /** True when `address` was seen leased in the pool within the TTL. */
  has(of: PoolRef, address: number): boolean {
    const until = this.byPool.get(keyOf(of))?.get(address);
    return until !== undefined && until > this.now();
  }

  taken(of: PoolRef, address: number): void {
    const key = keyOf(of);
    let pool = this.byPool.get(key);
    if (!pool) this.byPool.set(key, (pool = new Map()));
    if (pool.size >= MAX_PER_POOL) pool.delete(pool.keys().next().value!); // oldest insertion first
    pool.delete(address);
    pool.set(address, this.now() + LEASE_HINT_TTL_MS);
  }

  released(of: PoolRef, address: number): void {
    this.byPool.get(keyOf(of))?.delete(address);
  }
}

const keyOf = (pool: PoolRef): string => `${pool.tenantId}\u0000${pool.poolId}`;
