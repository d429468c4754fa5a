/**
 * Which addresses of a pool may be handed out, and whether a pool definition makes sense.
 * The network and broadcast addresses (for blocks of /30 and larger, RFC 3021 lets /31 use
 * both), the gateway (the agent's end of every PPP link) and the excluded ranges never are.
 */
import type { AddressRange, Pool } from '../types';
import { cidrContains, isCidrError, parseCidr, parseIpv4, rangesOverlap, type Cidr } from '../../../../contract/src/ipv4';

/** Largest pool accepted: a /16 (65,536 addresses) keeps enumeration and lease reads bounded. */
export const MIN_POOL_PREFIX = 16;

export type PoolShape = Pick<Pool, 'cidr' | 'gateway' | 'exclude'>;

interface ParsedPool {
  readonly cidr: Cidr;
  readonly gateway: number | undefined;
  readonly exclude: readonly (readonly [number, number])[];
}

function parsePool(pool: PoolShape): ParsedPool | undefined {
  const cidr = parseCidr(pool.cidr);
  if (isCidrError(cidr)) return undefined;
  const exclude: [number, number][] = [];
  for (const range of pool.exclude) {
    const first = parseIpv4(range.first);
    const last = parseIpv4(range.last);
    if (first !== undefined && last !== undefined) exclude.push([first, last]);
  }
  return { cidr, gateway: parseIpv4(pool.gateway), exclude };
}

function usable(p: ParsedPool, address: number): boolean {
  if (!cidrContains(p.cidr, address)) return false;
  if (p.cidr.prefix <= 30 && (address === p.cidr.network || address === p.cidr.last)) return false;
  if (address === p.gateway) return false;
  return !p.exclude.some(([first, last]) => address >= first && address <= last);
}

/** True when `ip` may be leased from `pool` (inside the block and not reserved or excluded). */
export function isInPool(pool: PoolShape, ip: string): boolean {
  const parsed = parsePool(pool);
  const address = parseIpv4(ip);
  return parsed !== undefined && address !== undefined && usable(parsed, address);
}

/**
 * A uniformly random leasable address of `pool` without enumerating it (a /16 has 65,534), or
 * undefined after a few unlucky draws (tiny or heavily excluded pools: enumerate those instead).
 */
export function randomCandidate(pool: PoolShape, random: () => number = Math.random, avoid?: (address: number) => boolean): number | undefined {
  const parsed = parsePool(pool);
  if (!parsed || parsed.cidr.prefix < MIN_POOL_PREFIX) return undefined;
  const size = parsed.cidr.last - parsed.cidr.network + 1;
  for (let draw = 0; draw < 8; draw++) {
    const address = parsed.cidr.network + Math.floor(random() * size);
    if (usable(parsed, address) && !avoid?.(address)) return address;
  }
  return undefined;
}

/** Every address that may be leased from `pool`, ascending. Empty for an invalid pool. */
export function candidateAddresses(pool: PoolShape): number[] {
  const parsed = parsePool(pool);
  if (!parsed || parsed.cidr.prefix < MIN_POOL_PREFIX) return [];
  const out: number[] = [];
  for (let a = parsed.cidr.network; a <= parsed.cidr.last; a++) if (usable(parsed, a)) out.push(a);
  return out;
}

export interface PoolProblem {
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
    problems.push({ field: 'cidr', message: cidr.error });
  } else if (cidr.prefix < MIN_POOL_PREFIX) {
    problems.push({ field: 'cidr', message: `pool ${pool.cidr} is too large: the largest allowed is a /${MIN_POOL_PREFIX}` });
  }
  const block = isCidrError(cidr) ? undefined : cidr;
  const inside = (field: string, text: string): number | undefined => {
    const address = parseIpv4(text);
    if (address === undefined) {
      problems.push({ field, message: `"${text}" is not a valid IPv4 address` });
    } else if (block && !cidrContains(block, address)) {
      problems.push({ field, message: `${text} is outside the pool ${pool.cidr}` });
    }
    return address;
  };
  const gateway = inside('gateway', pool.gateway);
  if (block && gateway !== undefined && block.prefix <= 30 && (gateway === block.network || gateway === block.last)) {
    problems.push({
      field: 'gateway',
      message: `${pool.gateway} is the ${gateway === block.network ? 'network' : 'broadcast'} address of ${pool.cidr}`,
    });
  }
  pool.exclude.forEach((range: AddressRange, i) => {
    const first = inside(`exclude[${i}].first`, range.first);
    const last = inside(`exclude[${i}].last`, range.last);
    if (first !== undefined && last !== undefined && first > last) {
      problems.push({ field: `exclude[${i}]`, message: `range ${range.first}-${range.last} ends before it starts` });
    }
  });
  (pool.dns ?? []).forEach((server, i) => {
    if (parseIpv4(server) === undefined) problems.push({ field: `dns[${i}]`, message: `"${server}" is not a valid IPv4 address` });
  });
  if (problems.length === 0 && candidateAddresses(pool).length === 0) {
    problems.push({ field: 'exclude', message: `pool ${pool.cidr} has no address left once reserved and excluded ones are removed` });
  }
  if (block) {
    for (const other of otherPools) {
      if (other.poolId === pool.poolId) continue;
      const o = parseCidr(other.cidr);
      if (!isCidrError(o) && rangesOverlap(block.network, block.last, o.network, o.last)) {
        problems.push({ field: 'cidr', message: `${pool.cidr} overlaps pool ${other.poolId} (${other.cidr})` });
      }
    }
  }
  return problems;
}

