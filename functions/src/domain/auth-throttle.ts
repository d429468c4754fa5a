/**
 * Online-guessing protection for PPP authentication: who waits, and for how long. Pure rules over
 * throttle records the store keeps (`AuthThrottle`); auth-service.ts reads them before verifying
 * and counts a failure on them after.
 *
 * - Pair (tenant, user, client source address): the first `sourceThreshold` failures are free; the
 *   n-th failure from then on makes that pair wait `baseDelay × 2^(n − threshold)`, at most
 *   `maxDelay`, counted from that failure. A success from the pair clears it; a pair with no
 *   failure for `PAIR_FORGET_MS` starts again at zero. Attempts while a pair waits are refused
 *   unverified and uncounted, so a waiting pair learns nothing and extends nothing. Only that pair
 *   waits: the same user from another address is not affected, so guessing from one address can
 *   no longer lock a user out.
 * - Agent: failures relayed by one agent, counted per minute. At `agentPressurePerMinute` (a
 *   sliding estimate over this and the last minute) the agent is under pressure and every pair on
 *   it waits from its first failure instead of its sixth. A user who types the password right is
 *   never held back by this, so it cannot be turned against the agent's users.
 * - The account-wide lock (auth-service.ts) needs failures from several source addresses.
 */
import type { AuthThrottle } from './types';

export interface ThrottlePolicy {
  /** Failures of one pair before it waits (AUTH_SOURCE_THRESHOLD). */
  readonly sourceThreshold: number;
  /** First wait; it doubles with each further failure (AUTH_DELAY_SECONDS). */
  readonly baseDelayMs: number;
  /** Longest wait (AUTH_DELAY_MAX_SECONDS). */
  readonly maxDelayMs: number;
  /** Failures per minute relayed by one agent that put it under pressure (AUTH_AGENT_PRESSURE_PER_MINUTE). */
  readonly agentPressurePerMinute: number;
}

/** A pair quiet this long is forgotten. */
export const PAIR_FORGET_MS = 24 * 3_600_000;
export const AGENT_WINDOW_MS = 60_000;

const part = (s: string) => encodeURIComponent(s);

/** Store key of a (tenant, user, source) pair. */
export function pairKey(tenantId: string, username: string, source: string): string {
  return `pair#${part(tenantId)}#${part(username)}#${part(source)}`;
}

/** Store key of an agent's failure count in one minute window. */
export function agentWindowKey(agentId: string, window: number): string {
  return `agent#${part(agentId)}#${window}`;
}

export function windowOf(now: number): number {
  return Math.floor(now / AGENT_WINDOW_MS);
}

/**
 * The client's address as a throttle source: an IPv4 address without its port; anything else as
 * given, lower-cased. An agent that sends none is its own source (`agent:<id>`).
 */
export function throttleSource(peerAddress: string | undefined, agentId: string): string {
  if (peerAddress === undefined || peerAddress === '') return `agent:${agentId}`;
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3})(?::\d{1,5})?$/.exec(peerAddress);
  return v4 ? v4[1]! : peerAddress.toLowerCase();
}

/** A pair record still counts (not forgotten). */
export function livePair(pair: AuthThrottle | undefined, now: number): AuthThrottle | undefined {
  return pair !== undefined && now - pair.lastFailureAt < PAIR_FORGET_MS ? pair : undefined;
}

/** Failures per minute of an agent: this window plus the part of the last one the sliding minute still covers. */
export function agentFailureRate(current: AuthThrottle | undefined, previous: AuthThrottle | undefined, now: number): number {
  const into = (now % AGENT_WINDOW_MS) / AGENT_WINDOW_MS;
  return (current?.failures ?? 0) + (previous?.failures ?? 0) * (1 - into);
}

/** Failures a pair may have before it waits, given the agent's state. */
export function pairThreshold(policy: ThrottlePolicy, agentRate: number): number {
  return agentRate >= policy.agentPressurePerMinute ? 1 : policy.sourceThreshold;
}

/** How long a pair waits after its n-th failure (0 below the threshold). */
export function delayAfter(failures: number, threshold: number, policy: ThrottlePolicy): number {
  if (failures < threshold) return 0;
  const doublings = Math.min(failures - threshold, 40);
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** doublings);
}

/** Until when the pair must wait, or undefined when it may try now. */
export function pairWaitsUntil(pair: AuthThrottle | undefined, threshold: number, policy: ThrottlePolicy, now: number): number | undefined {
  const live = livePair(pair, now);
  if (!live) return undefined;
  const until = live.lastFailureAt + delayAfter(live.failures, threshold, policy);
  return until > now ? until : undefined;
}
