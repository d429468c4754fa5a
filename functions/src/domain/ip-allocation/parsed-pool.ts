/**
 * A pool with its addresses parsed once. A session start parses each of the tenant's pools here and
 * works on the numbers from then on (the lease rule, the candidates, the agent-network check, the
 * block the start reply hands to the agent), instead of parsing the CIDR text in each of them.
 */
import { isCidrError, parseCidr, parseIpv4, type Cidr } from '../../../../contract/src/ipv4';
import type { Pool } from '../types';

/** The parts of a pool that say which addresses it has. */
export type PoolShape = Pick<Pool, 'cidr' | 'gateway' | 'exclude'>;

export interface ParsedPool<P extends PoolShape = Pool> {
  /** The pool as stored (or as proposed, when a definition is checked). */
  readonly pool: P;
  readonly block: Cidr;
  /** The agent's end of every PPP link; undefined only when the text is no address. */
  readonly gateway: number | undefined;
  /** Excluded ranges, inclusive; ranges whose ends are no address are left out. */
  readonly exclude: readonly (readonly [number, number])[];
}

/** Parses `pool`; undefined when its CIDR does not parse (validatePool says why). */
export function parsePool<P extends PoolShape>(pool: P): ParsedPool<P> | undefined {
  const block = parseCidr(pool.cidr);
  if (isCidrError(block)) return undefined;
  const exclude: [number, number][] = [];
  for (const range of pool.exclude) {
    const first = parseIpv4(range.first);
    const last = parseIpv4(range.last);
    if (first !== undefined && last !== undefined) exclude.push([first, last]);
  }
  return { pool, block, gateway: parseIpv4(pool.gateway), exclude };
}


/** The pools that parse, parsed, in order (stored pools always do: they were validated on creation). */
export function parsePools<P extends PoolShape>(pools: readonly P[]): ParsedPool<P>[] {
  const parsed: ParsedPool<P>[] = [];
  for (const pool of pools) {
    const p = parsePool(pool);
    if (p) parsed.push(p);
  }
  return parsed;
}
