/**
 * Carries out the policy's actions: drains through the store (agents-service), desired capacity
 * and terminations through the ScalingProvider. Each action is independent: one failure is
 * reported and the others still run (the next evaluation retries what is left, since every
 * action is idempotent).
 */
import { startDrain } from '../agents-service';
import type { Store } from '../store';
import type { Clock } from '../types';
import type { ScalingAction } from './decide';
import type { ScalingProvider } from './provider';

export interface ApplyContext {
  readonly store: Store;
  readonly clock: Clock;
  readonly provider: ScalingProvider;
}

export interface ActionOutcome {
  readonly action: ScalingAction;
  readonly ok: boolean;
  /** Sessions ended with `agent-shutdown` (release at the drain deadline). */
  readonly sessionsEnded?: number;
  readonly error?: string;
}

/** Applies the actions in order; never throws for a single action's failure. */
export async function applyScalingActions(ctx: ApplyContext, actions: readonly ScalingAction[]): Promise<ActionOutcome[]> {
  const outcomes: ActionOutcome[] = [];
  for (const action of actions) {
    try {
      outcomes.push({ action, ok: true, ...(await apply(ctx, action)) });
    } catch (error) {
      outcomes.push({ action, ok: false, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
    }
  }
  return outcomes;
}

async function apply(ctx: ApplyContext, action: ScalingAction): Promise<{ sessionsEnded?: number }> {
  switch (action.type) {
    case 'set-desired-capacity':
      await ctx.provider.setDesiredCapacity(action.desired);
      return {};
    case 'drain':
      await startDrain(ctx, action.agentId, action.deadline);
      return {};
    case 'release': {
      const sessionsEnded = action.endSessions ? await endAgentSessions(ctx, action.agentId) : 0;
      await ctx.provider.terminate(action.agentId);
      // Only after the machine is gone: if terminate failed the agent stays draining and is retried.
      await ctx.store.transitionAgent(action.agentId, ['draining'], 'dead', ctx.clock.now());
      return { sessionsEnded };
    }
  }
}

/** Ends the agent's remaining sessions with `agent-shutdown` (the drain deadline passed). */
async function endAgentSessions(ctx: ApplyContext, agentId: string): Promise<number> {
  let ended = 0;
  let cursor: string | undefined;
  do {
    const page = await ctx.store.listSessions({ agentId, state: 'active' }, { limit: 100, ...(cursor ? { cursor } : {}) });
    cursor = page.cursor;
    for (const s of page.items) {
      const stopped = await ctx.store.stopSession(s.sessionId, { reason: 'agent-shutdown', at: ctx.clock.now() });
      if (stopped?.endReason === 'agent-shutdown') ended++;
    }
  } while (cursor);
  return ended;
}
