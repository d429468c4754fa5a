/**
 * The reaper: agents that stopped heartbeating are declared dead and their sessions stopped
 * (`agent-lost`). Their addresses stay leased for a grace period, because a dead-looking agent
 * may still be forwarding for them (e.g. a partition between agent and broker): the lease rule,
 * ip-allocation/lease-rule.ts (LEASE_GRACE).
 */
import type { Store } from './store';
import type { Agent, Clock, EndReason } from './types';

export interface ReapOptions {
  /** An agent whose last heartbeat is older than this is lost. */
  readonly heartbeatTimeoutMs: number;
  /** How long a lost session's address stays reserved (LEASE_GRACE.agentLostMs by default: ip-allocation/lease-rule.ts). */
  readonly leaseGraceMs: number;
}

export interface ReapSummary {
  readonly at: number;
  readonly agentsChecked: number;
  /** Agents moved to `dead` by this run. */
  readonly agentsMarkedDead: readonly string[];
  readonly sessionsStopped: number;
}

const PAGE = 100;

/** Last sign of life; an agent that never registered has no sessions and is left alone. */
function lastSeen(agent: Agent): number | undefined {
  return agent.lastHeartbeatAt ?? agent.registeredAt;
}

/**
 * One pass over the fleet. Safe to run concurrently and repeatedly: the state transition and the
 * session stops are conditional, and sessions still active on an already-dead agent (a previous
 * run interrupted) are stopped too.
 */
export async function reap(store: Store, clock: Clock, options: ReapOptions): Promise<ReapSummary> {
  const now = clock.now();
  const markedDead: string[] = [];
  let checked = 0;
  let sessionsStopped = 0;
  let cursor: string | undefined;
  do {
    const page = await store.listAgents({ limit: PAGE, ...(cursor ? { cursor } : {}) });
    cursor = page.cursor;
    for (const agent of page.items) {
      checked++;
      let dead = agent.state === 'dead';
      const seen = lastSeen(agent);
      if (!dead && seen !== undefined && seen < now - options.heartbeatTimeoutMs) {
        const moved = await declareAgentDead(store, agent.agentId, now);
        if (moved) markedDead.push(agent.agentId);
        dead = moved?.state === 'dead';
      }
      if (dead) sessionsStopped += await stopAgentSessions(store, agent.agentId, { reason: 'agent-lost', at: now, leaseGraceUntil: now + options.leaseGraceMs });
    }
  } while (cursor);
  return { at: now, agentsChecked: checked, agentsMarkedDead: markedDead, sessionsStopped };
}

/**
 * Moves an active or draining agent to `dead` (undefined when it was neither). Its session count
 * came from its heartbeats, which stopped: it holds nothing the broker counts on any more. The
 * next `reap` ends its sessions with `agent-lost`. Also used by the local stack for agents it ran
 * in an earlier run, which it knows are gone without waiting for the heartbeat timeout.
 */
export async function declareAgentDead(store: Store, agentId: string, now: number): Promise<Agent | undefined> {
  const moved = await store.transitionAgent(agentId, ['active', 'draining'], 'dead', now);
  if (moved?.state === 'dead' && moved.activeSessions !== 0) return store.updateAgent(agentId, { activeSessions: 0 });
  return moved;
}

/**
 * Stops every active session of an agent with `stop.reason` (counters are not passed: the ones the
 * agent last reported are kept), their leases kept until `stop.leaseGraceUntil`. Returns how many
 * this call stopped.
 */
export async function stopAgentSessions(
  store: Store,
  agentId: string,
  stop: { readonly reason: EndReason; readonly at: number; readonly leaseGraceUntil: number },
): Promise<number> {
  let stopped = 0;
  let cursor: string | undefined;
  // The agent index's keys do not change when a session stops, so the cursor stays valid.
  do {
    const page = await store.listSessions({ agentId, state: 'active' }, { limit: PAGE, ...(cursor ? { cursor } : {}) });
    cursor = page.cursor;
    for (const session of page.items) {
      const result = await store.stopSession(session.sessionId, { ...stop });
      if (result?.endReason === stop.reason && result.stoppedAt === stop.at) stopped++;
    }
  } while (cursor);
  return stopped;
}
