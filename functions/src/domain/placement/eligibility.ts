/**
 * Which agents may take a new session. Pure: the caller passes the time and the freshness window
 * (a few heartbeat intervals), so the same rule serves placement, admission and the autoscaler.
 */
import type { Agent } from '../types';

/** Why an agent cannot take a new session (`undefined` = it can). */
export type IneligibleReason = 'revoked' | 'draining' | 'dead' | 'stale' | 'unregistered' | 'full';

export interface EligibilityOptions {
  readonly now: number;
  /** A heartbeat older than this (ms) makes the agent stale, e.g. 3 x the heartbeat interval. */
  readonly freshnessMs: number;
}

/** Sessions the agent can still take (never negative). */
export function headroom(agent: Pick<Agent, 'capacity' | 'activeSessions'>): number {
  return Math.max(0, agent.capacity - agent.activeSessions);
}

/** True when the agent heartbeated within the freshness window (a clock slightly ahead counts as fresh). */
export function isFresh(agent: Pick<Agent, 'lastHeartbeatAt'>, options: EligibilityOptions): boolean {
  return agent.lastHeartbeatAt !== undefined && agent.lastHeartbeatAt >= options.now - options.freshnessMs;
}

/**
 * Health first (revoked, dead, draining, stale, unregistered), capacity last: so a caller can tell
 * "nobody is up" from "everybody is busy".
 */
export function ineligibility(agent: Agent, options: EligibilityOptions): IneligibleReason | undefined {
  if (agent.revoked) return 'revoked';
  if (agent.state === 'dead') return 'dead';
  if (agent.state === 'draining') return 'draining';
  if (!isFresh(agent, options)) return 'stale';
  if (agent.publicAddress === undefined) return 'unregistered';
  if (headroom(agent) <= 0) return 'full';
  return undefined;
}

/** Healthy = would be eligible if it had headroom. */
export function isHealthy(agent: Agent, options: EligibilityOptions): boolean {
  const reason = ineligibility(agent, options);
  return reason === undefined || reason === 'full';
}
