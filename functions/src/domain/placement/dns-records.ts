/**
 * Which addresses each tenant's DNS name `<tenant>.vpn.<domain>` should resolve to: the agents
 * placement would choose (healthy, with headroom, weighted by free capacity). Pure.
 *
 * Stability over freshness: a tenant keeps its current addresses while every one of them is still
 * a candidate agent and there are as many as wanted (or as many as candidates exist). Re-drawing
 * at every run would flip records each minute, defeat resolver caches and move nothing useful,
 * because admission re-checks capacity at session start anyway.
 */
import type { Agent } from '../types';
import { candidateAgents, chooseAgents, type RandomSource } from './choose-agents';
import { tenantDnsName } from './tenant-endpoint';

export interface TenantRecord {
  readonly tenantId: string;
  /** Fully qualified name without the trailing dot, e.g. acme.vpn.example.com */
  readonly name: string;
  /** IPv4 addresses, sorted, no duplicates, never empty. */
  readonly addresses: readonly string[];
}

export interface DnsPlanOptions {
  readonly domain: string;
  readonly now: number;
  /** Heartbeat age beyond which an agent is not published. */
  readonly freshnessMs: number;
  /** Addresses per name (clients try the next on failure). */
  readonly agentsPerTenant: number;
  /** Only agents of this region. @default any region */
  readonly region?: string;
}

export interface DnsPlan {
  /** Records to UPSERT (new or changed). */
  readonly changes: readonly TenantRecord[];
  /** Every tenant's record after the changes (unchanged ones included). */
  readonly records: ReadonlyMap<string, readonly string[]>;
  /** Tenants for which no agent can be published: their current record is left as it is. */
  readonly unplaced: readonly string[];
}

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((v, i) => v === b[i]);

/** Sorted unique addresses of these agents (agents without an address are skipped). */
export function addressesOf(agents: readonly Agent[]): string[] {
  return [...new Set(agents.flatMap((a) => (a.publicAddress === undefined ? [] : [a.publicAddress])))].sort();
}

/**
 * Plans the records of `tenantIds` given the fleet and what is published now (`current`, by
 * tenant id). Tenants absent from `current` are treated as unpublished.
 */
export function planTenantRecords(
  tenantIds: readonly string[],
  agents: readonly Agent[],
  current: ReadonlyMap<string, readonly string[]>,
  options: DnsPlanOptions,
  random: RandomSource = Math.random,
): DnsPlan {
  const request = { now: options.now, freshnessMs: options.freshnessMs, ...(options.region !== undefined ? { region: options.region } : {}) };
  const candidates = addressesOf(candidateAgents(agents, request));
  const wanted = Math.max(1, Math.min(options.agentsPerTenant, candidates.length));
  const changes: TenantRecord[] = [];
  const records = new Map<string, readonly string[]>();
  const unplaced: string[] = [];
  for (const tenantId of tenantIds) {
    const published = current.get(tenantId) ?? [];
    if (published.length >= wanted && published.every((a) => candidates.includes(a))) {
      records.set(tenantId, published);
      continue;
    }
    const placement = chooseAgents(agents, { ...request, count: options.agentsPerTenant }, random);
    const addresses = placement.ok ? addressesOf(placement.agents) : [];
    if (addresses.length === 0) {
      unplaced.push(tenantId);
      if (published.length > 0) records.set(tenantId, published);
      continue;
    }
    records.set(tenantId, addresses);
    if (!sameList(addresses, published)) changes.push({ tenantId, name: tenantDnsName(tenantId, options.domain)!, addresses });
  }
  return { changes, records, unplaced };
}
