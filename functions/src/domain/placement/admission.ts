/**
 * Admission of a new session on a given agent: the agent must be able to take it and the tenant's
 * quotas must allow it. Pure: the caller supplies the counts; the store's start transaction then
 * enforces the same limits atomically (see docs/placement-and-scaling.md), so this check is the
 * fast, well-worded refusal and the transaction is the guarantee.
 */
import type { Agent, Tenant } from '../types';

export type AdmissionRefusal =
  /** The agent is draining (scale-in or operator drain) and takes no new sessions. */
  | 'agent-draining'
  /** The broker considers the agent dead (missed heartbeats) or it is revoked. */
  | 'agent-dead'
  /** The agent reported more sessions than its capacity (the agent itself refuses calls past it). */
  | 'agent-full'
  /** The tenant's concurrent-session quota (maxSessions) is reached. */
  | 'tenant-quota'
  /** The user's concurrent-session limit (maxSessionsPerUser) is reached. */
  | 'user-session-limit';

export interface AdmissionInput {
  readonly agent: Pick<Agent, 'state' | 'revoked' | 'capacity' | 'activeSessions'>;
  readonly tenant: Pick<Tenant, 'maxSessions' | 'maxSessionsPerUser'>;
  /** Active sessions of the tenant / of the user right now. */
  readonly tenantActive: number;
  readonly userActive: number;
}

export type AdmissionDecision =
  | { readonly admitted: true }
  | { readonly admitted: false; readonly refusal: AdmissionRefusal; readonly limit?: number; readonly current?: number };

/** Agent state first (a draining agent should not even count quotas), then user, then tenant. */
export function admit(input: AdmissionInput): AdmissionDecision {
  const { agent, tenant } = input;
  if (agent.revoked || agent.state === 'dead') return { admitted: false, refusal: 'agent-dead' };
  if (agent.state === 'draining') return { admitted: false, refusal: 'agent-draining' };
  // The count is the agent's last heartbeat, and the agent counts a call from its connection on,
  // so it may already include the session being admitted: an agent holding capacity - 1 sessions
  // that reported during this one's setup says `capacity`. Full is therefore beyond capacity; the
  // exact limit is the agent's own, which refuses calls past it (edge-agent/src/runtime/agent.ts).
  if (agent.activeSessions > agent.capacity) {
    return { admitted: false, refusal: 'agent-full', limit: agent.capacity, current: agent.activeSessions };
  }
  if (tenant.maxSessionsPerUser !== undefined && input.userActive >= tenant.maxSessionsPerUser) {
    return { admitted: false, refusal: 'user-session-limit', limit: tenant.maxSessionsPerUser, current: input.userActive };
  }
  if (tenant.maxSessions !== undefined && input.tenantActive >= tenant.maxSessions) {
    return { admitted: false, refusal: 'tenant-quota', limit: tenant.maxSessions, current: input.tenantActive };
  }
  return { admitted: true };
}
