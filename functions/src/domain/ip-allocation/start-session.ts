/**
 * Starting a session means claiming an address: the store's transaction is the arbiter (a
 * conditional put on the lease), this service only chooses which address to try. In pools of 64+
 * addresses a few random ones are tried blind first (no read); then candidates from the lease list
 * are tried in random order so concurrent allocators rarely race for the same address; a lost race
 * (`address-taken`) simply moves on; after a few losses the lease list is read again.
 */
import type { Store } from '../store';
import { sessionIdFor } from '../session-id';
import type { AgentCounters, AuthMethod, Clock, EndReason, Lease, Session, SessionIpsecSa, Tenant, User } from '../types';
import { poolBlockedOnAgent } from '../../../../contract/src/address-policy';
import { PoolExhaustedError, PoolNotAllowedError, StaticAddressUnavailableError } from './errors';
import { formatIpv4, parseIpv4 } from '../../../../contract/src/ipv4';
import type { LeaseHints } from './lease-hints';
import { holdsAddress, leasable } from './lease-rule';
import type { ParsedPool } from './parsed-pool';
import { candidateAddresses, randomCandidate } from './pool-addresses';

export interface StartSessionInput {
  readonly tenant: Tenant;
  readonly user: Pick<User, 'username' | 'staticIp'> & { readonly radiusClass?: readonly string[] };
  /** The tenant's pools, parsed once by the caller (parsePools), tried in this order. */
  readonly pools: readonly ParsedPool[];
  readonly agentId: string;
  readonly agentSessionRef: string;
  readonly tunnelId: number;
  readonly l2tpSessionId: number;
  readonly peerAddress?: string;
  readonly ipsecSa?: SessionIpsecSa;
  readonly authMethod: AuthMethod;
  /** Addresses this process saw leased: skipped by the random probes (lease-hints.ts). */
  readonly hints?: LeaseHints;
  /** Networks of the agent's host: pools overlapping them are not used there (contract/src/address-policy.ts). */
  readonly agentNetworks?: readonly string[];
}

/** Lost races on one lease list before it is read again. */
const STALE_AFTER_LOSSES = 8;
/** Random addresses tried before the lease list is read, in pools at least this large. */
const OPTIMISTIC_PROBES = 3;
const OPTIMISTIC_MIN_POOL = 64;
/** Lease-list reads per pool before giving up (a pool churning this fast is as good as full). */
const MAX_READS_PER_POOL = 32;

/**
 * Creates the session with an address (the user's staticIp, else a free one from the pools).
 * Idempotent on (agentId, agentSessionRef): a retry returns the existing session, created=false.
 * Throws PoolExhaustedError / StaticAddressUnavailableError when no address can be given.
 */
export async function startSessionWithAddress(
  store: Store,
  clock: Clock,
  input: StartSessionInput,
): Promise<{ session: Session; created: boolean }> {
  // No look-up of (agentId, agentSessionRef) first: the id is derived from them, so the start
  // transaction's condition on the session item answers `exists` for a retry.
  const sessionId = sessionIdFor(input.agentId, input.agentSessionRef);

  const attempt = async ({ pool }: ParsedPool, address: number) => {
    const now = clock.now();
    const ip = formatIpv4(address);
    const session = buildSession(input, sessionId, pool.poolId, ip, now);
    const lease: Lease = { tenantId: pool.tenantId, poolId: pool.poolId, ip, sessionId, leasedAt: now };
    const result = await store.startSession(session, lease);
    // Ours now, or someone else's: either way not worth drawing again soon.
    if (result.outcome !== 'exists') input.hints?.taken(pool, address);
    return { session, result };
  };

  // Pools in reserved space or on the agent's own networks are never used (security review, issue 14).
  const blocked = new Map<string, string>();
  for (const { pool, block } of input.pools) {
    const why = poolBlockedOnAgent(block, input.agentNetworks);
    if (why !== undefined) blocked.set(pool.poolId, why);
  }
  const pools = input.pools.filter((p) => !blocked.has(p.pool.poolId));

  if (input.user.staticIp !== undefined) {
    const ip = input.user.staticIp;
    const address = parseIpv4(ip);
    const pool = address === undefined ? undefined : input.pools.find((p) => leasable(p, address));
    if (!pool || address === undefined) throw new StaticAddressUnavailableError(input.tenant.tenantId, input.user.username, ip, 'not-in-pool');
    const why = blocked.get(pool.pool.poolId);
    if (why !== undefined) throw new StaticAddressUnavailableError(input.tenant.tenantId, input.user.username, ip, 'pool-not-allowed', why);
    const { session, result } = await attempt(pool, address);
    if (result.outcome === 'created') return { session, created: true };
    if (result.outcome === 'exists') return { session: result.session, created: false };
    throw new StaticAddressUnavailableError(input.tenant.tenantId, input.user.username, ip, 'in-use');
  }

  if (pools.length === 0 && blocked.size > 0) throw new PoolNotAllowedError(input.tenant.tenantId, [...blocked.values()]);
  for (const pool of pools) {
    // Optimistic first: a few random addresses without reading the lease list. Reading it costs a
    // query that grows with the pool's leases (10,000 leases: several pages per start, measured as
    // the storm's bottleneck); a random pick in a pool that is mostly free wins at once. The
    // transaction stays the arbiter; a full pool just falls through to the read below.
    if (pool.block.size >= OPTIMISTIC_MIN_POOL) {
      for (let probe = 0; probe < OPTIMISTIC_PROBES; probe++) {
        const known = input.hints;
        const address = randomCandidate(pool, Math.random, known ? (a) => known.has(pool.pool, a) : undefined);
        if (address === undefined) break;
        const { session, result } = await attempt(pool, address);
        if (result.outcome === 'created') return { session, created: true };
        if (result.outcome === 'exists') return { session: result.session, created: false };
      }
    }
    const candidates = candidateAddresses(pool);
    if (candidates.length === 0) continue;
    for (let read = 0; read < MAX_READS_PER_POOL; read++) {
      const now = clock.now();
      const taken = new Set<number>();
      for (const lease of await store.listLeases(pool.pool.tenantId, pool.pool.poolId)) {
        const address = parseIpv4(lease.ip);
        if (address !== undefined && holdsAddress(lease, now)) taken.add(address);
      }
      const free = candidates.filter((a) => !taken.has(a));
      if (free.length === 0) break;
      let losses = 0;
      for (let i = 0; i < free.length && losses < STALE_AFTER_LOSSES; i++) {
        // Random order (partial Fisher-Yates): concurrent allocators, which all read nearly the
        // same free list, spread over it instead of walking into each other's addresses.
        const j = i + Math.floor(Math.random() * (free.length - i));
        [free[i], free[j]] = [free[j]!, free[i]!];
        const { session, result } = await attempt(pool, free[i]!);
        if (result.outcome === 'created') return { session, created: true };
        if (result.outcome === 'exists') return { session: result.session, created: false };
        losses++;
      }
      // Every address tried was lost to a concurrent allocator: read again; the next read
      // either shows addresses freed meanwhile or none (exhausted).
    }
  }
  // A retry of a recorded start that finds the pool full now is recognised by the caller
  // (sessions-service.ts), which looks the session up for every refusal.
  throw new PoolExhaustedError(
    input.tenant.tenantId,
    pools.map((p) => p.pool.poolId),
  );
}

function buildSession(input: StartSessionInput, sessionId: string, poolId: string, ip: string, now: number): Session {
  return {
    sessionId,
    tenantId: input.tenant.tenantId,
    username: input.user.username,
    agentId: input.agentId,
    agentSessionRef: input.agentSessionRef,
    tunnelId: input.tunnelId,
    l2tpSessionId: input.l2tpSessionId,
    ...(input.peerAddress !== undefined ? { peerAddress: input.peerAddress } : {}),
    ...(input.ipsecSa !== undefined ? { ipsecSa: { ...input.ipsecSa } } : {}),
    authMethod: input.authMethod,
    ...(input.user.radiusClass !== undefined ? { radiusClass: [...input.user.radiusClass] } : {}),
    poolId,
    assignedIp: ip,
    startedAt: now,
    updatedAt: now,
    state: 'active',
    bytesIn: 0,
    bytesOut: 0,
    packetsIn: 0,
    packetsOut: 0,
    // The tenant's accounting at the start decides the session's records (radius-accounting/outbox-rules.ts).
    ...(input.tenant.accounting ? { accounting: { interimIntervalSeconds: input.tenant.accounting.interimIntervalSeconds } } : {}),
  };
}

/** Stops a session and frees its address (thin wrapper so callers need not build the stop). */
export function releaseSession(
  store: Store,
  clock: Clock,
  sessionId: string,
  reason: EndReason,
  counters?: AgentCounters,
): Promise<Session | undefined> {
  return store.stopSession(sessionId, { reason, at: clock.now(), ...(counters ? { counters } : {}) });
}
