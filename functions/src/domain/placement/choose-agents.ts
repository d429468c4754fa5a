/**
 * Tunnel placement: which agent(s) a tenant's clients should connect to. Among healthy agents of
 * the region with headroom, agents are drawn at random weighted by free capacity, without
 * replacement. Weighting by headroom spreads load (an emptier agent is likelier) without sending
 * every new client to the single emptiest agent, which would herd a burst of clients that all
 * asked before the next heartbeat onto one machine.
 */
import type { Agent } from '../types';
import { headroom, ineligibility, type EligibilityOptions } from './eligibility';

export type PlacementFailure = 'no-healthy-agent' | 'all-agents-full';

export interface PlacementRequest extends EligibilityOptions {
  /** Only agents of this region; undefined = any region. */
  readonly region?: string;
  /** How many distinct agents to return at most (e.g. 2 so a client has a fallback). Default 1. */
  readonly count?: number;
}

export type PlacementResult =
  | { readonly ok: true; readonly agents: readonly Agent[] }
  | { readonly ok: false; readonly reason: PlacementFailure };

/** Uniform random number in [0, 1); injected so tests are reproducible. */
export type RandomSource = () => number;

/** The agents a new session could go to (healthy, in region, with headroom). */
export function candidateAgents(agents: readonly Agent[], request: PlacementRequest): Agent[] {
  return agents.filter((a) => (request.region === undefined || a.region === request.region) && ineligibility(a, request) === undefined);
}

/**
 * Chooses up to `count` distinct agents. Fails with `no-healthy-agent` when no agent of the region
 * is healthy, `all-agents-full` when healthy ones exist but none has headroom.
 */
export function chooseAgents(agents: readonly Agent[], request: PlacementRequest, random: RandomSource = Math.random): PlacementResult {
  const inRegion = agents.filter((a) => request.region === undefined || a.region === request.region);
  const reasons = inRegion.map((a) => ineligibility(a, request));
  const pool = inRegion.filter((_, i) => reasons[i] === undefined);
  if (pool.length === 0) return { ok: false, reason: reasons.includes('full') ? 'all-agents-full' : 'no-healthy-agent' };

  const wanted = Math.max(1, Math.min(request.count ?? 1, pool.length));
  const chosen: Agent[] = [];
  const weights = pool.map(headroom);
  for (let k = 0; k < wanted; k++) {
    const index = weightedIndex(weights, random);
    chosen.push(pool[index]!);
    weights[index] = 0; // without replacement
  }
  return { ok: true, agents: chosen };
}

/** Index drawn with probability weight/sum; weights are non-negative and at least one is positive. */
function weightedIndex(weights: readonly number[], random: RandomSource): number {
  const total = weights.reduce((s, w) => s + w, 0);
  // Clamp: a random() of exactly 1 (a bad source) must not fall off the end.
  let r = Math.min(Math.max(random(), 0), 1 - Number.EPSILON) * total;
  let last = 0;
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i]!;
    if (w <= 0) continue;
    last = i;
    if (r < w) return i;
    r -= w;
  }
  return last;
}
