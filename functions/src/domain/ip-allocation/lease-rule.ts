/**
 * The IP-lease rule, all of it: which addresses may be leased, when a lease holds its address,
 * what ending a session does to its lease, and the DynamoDB expressions the store's transactions
 * enforce it with. The domain and the in-memory store use the checks; the DynamoDB store
 * (store/dynamo/session-ops.ts) sends the expressions; the store contract suite runs both stores
 * through the same cases, so the two forms cannot drift.
 *
 * 1. Leasable: an address of the pool's block, but not its network or broadcast address (blocks
 *    of /30 and larger; RFC 3021 lets a /31 use both), not the gateway (the agent's end of every
 *    PPP link) and not in an excluded range.
 * 2. One holder: a lease per (tenant, pool, address), written in the same transaction as its
 *    session. It holds the address while it exists, unless its grace (`releaseAfter`) has passed.
 * 3. Release: a stopped session's lease is deleted; when its agent is lost or revoked the lease is
 *    kept until `releaseAfter` (stop time + LEASE_GRACE), because that agent may still forward for
 *    the address. A later start may then take it over.
 * 4. Only the holder releases: a late stop of an earlier session never touches a lease re-taken.
 */
import type { Lease } from '../types';
import type { ParsedPool, PoolShape } from './parsed-pool';

/** Rule 1: whether `address` may be leased from the pool. */
export function leasable(pool: ParsedPool<PoolShape>, address: number): boolean {
  const { block } = pool;
  if (address < block.network || address > block.last) return false;
  if (block.prefix <= 30 && (address === block.network || address === block.last)) return false;
  if (address === pool.gateway) return false;
  return !pool.exclude.some(([first, last]) => address >= first && address <= last);
}

/** Rule 2: whether `lease` holds its address at `now` (it does until its grace has passed). */
export function holdsAddress(lease: Pick<Lease, 'releaseAfter'>, now: number): boolean {
  return lease.releaseAfter === undefined || lease.releaseAfter >= now;
}

/** Rule 3: how long a lease outlives its session when the agent cannot confirm it stopped forwarding. */
export const LEASE_GRACE = {
  /** After the reaper declared the agent lost (its LEASE_GRACE_MS; 300 s by default). */
  agentLostMs: 300_000,
  /** After the agent was revoked: it may forward until its next heartbeat is refused. */
  agentRevokedMs: (heartbeatIntervalSeconds: number): number => 2 * heartbeatIntervalSeconds * 1000,
} as const;

/**
 * Rules 3 and 4: the lease after session `sessionId` stopped, with `graceUntil` when its agent is
 * lost or revoked. Undefined: deleted. The lease itself, unchanged: another session holds it.
 */
export function leaseAfterStop(lease: Lease, sessionId: string, graceUntil: number | undefined): Lease | undefined {
  if (lease.sessionId !== sessionId) return lease;
  return graceUntil === undefined ? undefined : { ...lease, releaseAfter: graceUntil };
}

/** A DynamoDB condition or update expression with the values of its placeholders (plain data, no SDK). */
export interface DynamoExpression {
  readonly expression: string;
  readonly values: Readonly<Record<string, unknown>>;
}

const HOLDER = 'sessionId' satisfies keyof Lease;
const GRACE = 'releaseAfter' satisfies keyof Lease;

/** The rules above as the DynamoDB store writes them, on the lease item. */
export const LEASE_EXPRESSIONS = {
  /** Rule 2 on the Put of a new lease at `now`: no holder, or the holder's grace has passed. */
  free: (now: number): DynamoExpression => ({ expression: `attribute_not_exists(${HOLDER}) OR ${GRACE} < :now`, values: { ':now': now } }),
  /** Rule 4 on the delete or update that releases it: `sessionId` holds it. */
  heldBy: (sessionId: string): DynamoExpression => ({ expression: `${HOLDER} = :sid`, values: { ':sid': sessionId } }),
  /** Rule 3 with a grace: the update that keeps the lease until `until`. */
  keepUntil: (until: number): DynamoExpression => ({ expression: `SET ${GRACE} = :after`, values: { ':after': until } }),
} as const;
