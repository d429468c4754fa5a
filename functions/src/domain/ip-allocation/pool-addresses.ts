/**
 * Which addresses of a pool may be tried (candidates drawn at random or enumerated, by the lease
 * rule's `leasable`: lease-rule.ts), and whether a pool definition makes sense.
 */
import type { AddressRange, Pool } from '../types';
import { cidrContains, isCidrError, parseCidr, parseIpv4, rangesOverlap } from '../../../../contract/src/ipv4';
import { leasable } from './lease-rule';
import { parsePool, type ParsedPool, type PoolShape } from './parsed-pool';

/** Largest pool accepted: a /16 (65,536 addresses) keeps enumeration and lease reads bounded. */
export const MIN_POOL_PREFIX = 16;

/** True when `ip` may be leased from `pool` (inside the block and not reserved or excluded). */
export function isInPool(pool: PoolShape, ip: string): boolean {
  const parsed = parsePool(pool);
  const address = parseIpv4(ip);
  return parsed !== undefined && address !== undefined && leasable(parsed, address);
}

/**
 * A uniformly random leasable address of `pool` without enumerating it (a /16 has 65,534), or
 * undefined after a few unlucky draws (tiny or heavily excluded pools: enumerate those instead).
 */
export function randomCandidate(pool: ParsedPool<PoolShape>, random: () => number = Math.random, avoid?: (address: number) => boolean): number | undefined {
  if (pool.block.prefix < MIN_POOL_PREFIX) return undefined;
  for (let draw = 0; draw < 8; draw++) {
    const address = pool.block.network + Math.floor(random() * pool.block.size);
    if (leasable(pool, address) && !avoid?.(address)) return address;
  }
  return undefined;
}

/** Every address that may be leased from `pool`, ascending. */
export function candidateAddresses(pool: ParsedPool<PoolShape>): number[] {
  if (pool.block.prefix < MIN_POOL_PREFIX) return [];
  const out: number[] = [];
  for (let a = pool.block.network; a <= pool.block.last; a++) if (leasable(pool, a)) out.push(a);
  return out;
}

export interface PoolProblem {
  /** `overlap`: the block shares addresses with another pool (a conflict, not a malformed pool). */
  readonly kind: 'invalid' | 'overlap';
  /** The offending field, e.g. `cidr`, `gateway`, `exclude[1].last`, `dns[0]`. */
  readonly field: string;
  readonly message: string;
}

/**
 * Checks a pool definition and collects every problem (empty when valid): parseable addresses,
 * gateway and exclusions inside the block, at least one usable address, no overlap with the
 * tenant's other pools (an address must identify one pool).
 */
export function validatePool(
  pool: PoolShape & { readonly dns?: readonly string[]; readonly poolId?: string },
  otherPools: readonly Pick<Pool, 'poolId' | 'cidr'>[] = [],
): PoolProblem[] {
  const problems: PoolProblem[] = [];
  const cidr = parseCidr(pool.cidr);
  if (isCidrError(cidr)) {
    problems.push({ kind: 'invalid', field: 'cidr', message: cidr.error });
  } else if (cidr.prefix < MIN_POOL_PREFIX) {
    problems.push({ kind: 'invalid', field: 'cidr', message: `pool ${pool.cidr} is too large: the largest allowed is a /${MIN_POOL_PREFIX}` });
  }
  const block = isCidrError(cidr) ? undefined : cidr;
  const inside = (field: string, text: string): number | undefined => {
    const address = parseIpv4(text);
    if (address === undefined) {
      problems.push({ kind: 'invalid', field, message: `"${text}" is not a valid IPv4 address` });
    } else if (block && !cidrContains(block, address)) {
      problems.push({ kind: 'invalid', field, message: `${text} is outside the pool ${pool.cidr}` });
    }
    return address;
  };
  const gateway = inside('gateway', pool.gateway);
  if (block && gateway !== undefined && block.prefix <= 30 && (gateway === block.network || gateway === block.last)) {
    problems.push({
      kind: 'invalid',
      field: 'gateway',
      message: `${pool.gateway} is the ${gateway === block.network ? 'network' : 'broadcast'} address of ${pool.cidr}`,
    });
  }
  pool.exclude.forEach((range: AddressRange, i) => {
    const first = inside(`exclude[${i}].first`, range.first);
    const last = inside(`exclude[${i}].last`, range.last);
    if (first !== undefined && last !== undefined && first > last) {
      problems.push({ kind: 'invalid', field: `exclude[${i}]`, message: `range ${range.first}-${range.last} ends before it starts` });
    }
  });
  (pool.dns ?? []).forEach((server, i) => {
    if (parseIpv4(server) === undefined) problems.push({ kind: 'invalid', field: `dns[${i}]`, message: `"${server}" is not a valid IPv4 address` });
  });
  const parsed = problems.length === 0 ? parsePool(pool) : undefined;
  if (parsed && candidateAddresses(parsed).length === 0) {
    problems.push({ kind: 'invalid', field: 'exclude', message: `pool ${pool.cidr} has no address left once reserved and excluded ones are removed` });
  }
  if (block) {
    for (const other of otherPools) {
      if (other.poolId === pool.poolId) continue;
      const o = parseCidr(other.cidr);
      if (!isCidrError(o) && rangesOverlap(block.network, block.last, o.network, o.last)) {
        problems.push({ kind: 'overlap', field: 'cidr', message: `${pool.cidr} overlaps pool ${other.poolId} (${other.cidr})` });
      }
    }
  }
  return problems;
}

