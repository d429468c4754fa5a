/**
 * Session reconciliation between an agent and the broker. The agent sends the broker session ids it
 * still holds (at registration and with every heartbeat); the two views are brought together:
 *  - active at the broker, not held by the agent (the agent restarted, or its stop report was lost
 *    for good): stopped with `agent-lost`. The address is released at once, without the reaper's
 *    grace period, because the agent itself says nothing forwards for it any more;
 *  - held by the agent, stopped (or unknown, or another agent's) at the broker (the reaper declared
 *    the agent lost during a partition, an operator stopped it while the agent was unreachable):
 *    returned, so the agent tears it down instead of forwarding for an address that may be re-leased.
 * A session younger than `minAgeMs` is never stopped: its start may still be in flight from the
 * agent, which then simply did not hold its id yet when it took the snapshot.
 */
import type { ServiceContext } from './service-context';
import type { Agent, EndReason } from './types';

/** Sessions younger than this are left alone by reconciliation (starts in flight). */
export const RECONCILE_MIN_AGE_MS = 15_000;

export interface ReconcileOptions {
  /** @default RECONCILE_MIN_AGE_MS */
  readonly minAgeMs?: number;
}

export interface TearDown {
  readonly sessionId: string;
  /** Why the broker no longer has it active: its end reason, or `error` for an unknown id. */
  readonly reason: EndReason;
}

export interface ReconcileResult {
  /** Broker sessions stopped because the agent no longer holds them. */
  readonly stopped: readonly string[];
  /** Sessions the agent holds that it must tear down. */
  readonly tearDown: readonly TearDown[];
}

/** Compares the agent's held sessions with the broker's active ones; safe to repeat (stops are once). */
export async function reconcileAgentSessions(
  ctx: Pick<ServiceContext, 'store' | 'clock'>,
  agent: Pick<Agent, 'agentId'>,
  held: readonly string[],
  options: ReconcileOptions = {},
): Promise<ReconcileResult> {
  const now = ctx.clock.now();
  const minAgeMs = options.minAgeMs ?? RECONCILE_MIN_AGE_MS;
  const heldSet = new Set(held);
  const active = new Set<string>();
  const stopped: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await ctx.store.listSessions({ agentId: agent.agentId, state: 'active' }, { limit: 100, ...(cursor ? { cursor } : {}) });
    cursor = page.cursor;
    for (const s of page.items) {
      active.add(s.sessionId);
      if (heldSet.has(s.sessionId) || s.startedAt > now - minAgeMs) continue;
      const result = await ctx.store.stopSession(s.sessionId, { reason: 'agent-lost', at: now });
      // Only count stops made here (a concurrent stop report may have won; that is fine too).
      if (result?.endReason === 'agent-lost' && result.stoppedAt === now) stopped.push(s.sessionId);
    }
  } while (cursor);

  const tearDown: TearDown[] = [];
  for (const sessionId of heldSet) {
    if (active.has(sessionId)) continue;
    const s = await ctx.store.getSession(sessionId);
    if (!s || s.agentId !== agent.agentId) tearDown.push({ sessionId, reason: 'error' });
    // Active but not listed: it started after the listing above; the agent is right to hold it.
    else if (s.state === 'stopped') tearDown.push({ sessionId, reason: s.endReason ?? 'error' });
  }
  return { stopped, tearDown };
}
