/**
 * One autoscaler evaluation as a pure step: `evaluateScaling(state, observation, policy)` returns
 * the next state and plain actions for the entry point to carry out through a ScalingProvider
 * and the store. Sizing: desired = ceil(sessions / (agentCapacity x targetUtilization)) within
 * [minAgents, maxAgents]; because the target sits well below 1, the fleet grows before it
 * saturates. Shrinking is deliberately slower than growing (hysteresis band + consecutive
 * evaluations + cooldown), so an oscillating load does not make agents flap.
 */
import { headroom, isFresh } from '../placement/eligibility';
import type { Agent } from '../types';
import type { ScalingPolicy } from './policy';

/** What the autoscaler remembers between evaluations. */
export interface ScalingState {
  /** Consecutive evaluations with utilization below the lower band. */
  readonly lowStreak: number;
  readonly lastScaleOutAt?: number;
  readonly lastScaleInAt?: number;
}

export const INITIAL_SCALING_STATE: ScalingState = { lowStreak: 0 };

export interface FleetObservation {
  readonly now: number;
  /** Every known agent (any state). */
  readonly agents: readonly Agent[];
  /**
   * Agents the provider runs: only these are drained, released and counted in its desired
   * capacity. The others (an agent enrolled by hand, the local stack's built-in agent) still serve
   * and count as fleet capacity. @default every agent
   */
  readonly managed?: (agent: Agent) => boolean;
}

export type ScalingAction =
  /** Ask the provider for this many running agents (serving + still draining). */
  | { readonly type: 'set-desired-capacity'; readonly desired: number }
  /** Mark the agent draining with this deadline and queue a `drain` command for it. */
  | { readonly type: 'drain'; readonly agentId: string; readonly deadline: number }
  /**
   * The agent may go: end its remaining sessions (reason `agent-shutdown`) if `endSessions`,
   * then terminate it and mark it dead.
   */
  | { readonly type: 'release'; readonly agentId: string; readonly cause: 'drained' | 'deadline-passed'; readonly endSessions: boolean };

export interface ScalingSummary {
  readonly serving: number;
  readonly draining: number;
  readonly sessions: number;
  /** sessions / serving capacity (0 when nothing serves). */
  readonly utilization: number;
  readonly desired: number;
  readonly decision: 'scale-out' | 'scale-in' | 'hold';
  /** Why a scale was not done (cooldown, hysteresis...), for logs. */
  readonly note?: string;
}

export interface ScalingStep {
  readonly state: ScalingState;
  readonly actions: readonly ScalingAction[];
  readonly summary: ScalingSummary;
}

/** Agents that count as fleet capacity: active, not revoked, heartbeating. */
export function servingAgents(agents: readonly Agent[], now: number, freshnessMs: number): Agent[] {
  return agents.filter((a) => a.state === 'active' && !a.revoked && isFresh(a, { now, freshnessMs }));
}

/** ceil(sessions / (capacity x target)) clamped to [min, max]. */
export function desiredAgents(sessions: number, policy: ScalingPolicy): number {
  const raw = Math.ceil(sessions / (policy.agentCapacity * policy.targetUtilization));
  return Math.min(policy.maxAgents, Math.max(policy.minAgents, raw));
}

/**
 * The `count` emptiest agents (fewest sessions first, then most headroom, then id for a stable
 * order): draining them ends the fewest sessions.
 */
export function emptiestAgents(agents: readonly Agent[], count: number): Agent[] {
  return [...agents]
    .sort((a, b) => a.activeSessions - b.activeSessions || headroom(b) - headroom(a) || a.agentId.localeCompare(b.agentId))
    .slice(0, Math.max(0, count));
}

/** Releases for draining agents that are empty or past their deadline. */
function releases(agents: readonly Agent[], now: number): ScalingAction[] {
  const actions: ScalingAction[] = [];
  for (const a of agents) {
    if (a.state !== 'draining') continue;
    if (a.activeSessions <= 0) actions.push({ type: 'release', agentId: a.agentId, cause: 'drained', endSessions: false });
    else if (a.drainDeadline !== undefined && now >= a.drainDeadline) {
      actions.push({ type: 'release', agentId: a.agentId, cause: 'deadline-passed', endSessions: true });
    }
  }
  return actions;
}

/** One evaluation. Pure; `policy` is assumed valid (see validatePolicy). */
export function evaluateScaling(state: ScalingState, observation: FleetObservation, policy: ScalingPolicy): ScalingStep {
  const { now, agents } = observation;
  const managed = observation.managed ?? (() => true);
  const serving = servingAgents(agents, now, policy.freshnessMs);
  // Capacity the provider does not run: it serves, but the provider's count leaves it out.
  const unmanagedServing = serving.filter((a) => !managed(a)).length;
  const drainingAll = agents.filter((a) => a.state === 'draining');
  const draining = drainingAll.filter(managed);
  const sessions = serving.reduce((s, a) => s + Math.max(0, a.activeSessions), 0);
  const capacity = serving.reduce((s, a) => s + Math.max(0, a.capacity), 0);
  const utilization = capacity > 0 ? sessions / capacity : sessions > 0 ? Infinity : 0;
  const desired = desiredAgents(sessions, policy);
  const actions: ScalingAction[] = releases(draining, now);
  // Draining agents that are being released now no longer hold a provider slot after this run.
  const stillDraining = draining.length - actions.length;
  const lowStreak = utilization < policy.lowerBand ? state.lowStreak + 1 : 0;
  const base = { serving: serving.length, draining: drainingAll.length, sessions, utilization, desired };

  if (desired > serving.length) {
    const coolingOut = state.lastScaleOutAt !== undefined && now - state.lastScaleOutAt < policy.scaleOutCooldownMs;
    // Below the minimum the cooldown does not apply: the fleet must never stay under its floor.
    if (coolingOut && serving.length >= policy.minAgents) {
      return { state: { ...state, lowStreak }, actions, summary: { ...base, decision: 'hold', note: 'scale-out cooldown' } };
    }
    actions.push({ type: 'set-desired-capacity', desired: Math.max(0, desired - unmanagedServing) + stillDraining });
    return {
      state: { ...state, lowStreak: 0, lastScaleOutAt: now },
      actions,
      summary: { ...base, decision: 'scale-out' },
    };
  }

  if (desired < serving.length) {
    const lastAction = Math.max(state.lastScaleOutAt ?? -Infinity, state.lastScaleInAt ?? -Infinity);
    let note: string | undefined;
    const drainable = serving.filter(managed);
    if (drainable.length === 0) note = 'no serving agent is run by the provider';
    else if (utilization >= policy.lowerBand) note = 'utilization not below lower band';
    else if (lowStreak < policy.scaleInAfterEvaluations) note = `below lower band ${lowStreak}/${policy.scaleInAfterEvaluations}`;
    else if (now - lastAction < policy.scaleInCooldownMs) note = 'scale-in cooldown';
    if (note === undefined) {
      const deadline = now + policy.drainTimeoutMs;
      for (const a of emptiestAgents(drainable, serving.length - desired)) actions.push({ type: 'drain', agentId: a.agentId, deadline });
      return { state: { ...state, lowStreak: 0, lastScaleInAt: now }, actions, summary: { ...base, decision: 'scale-in' } };
    }
    return { state: { ...state, lowStreak }, actions, summary: { ...base, decision: 'hold', note } };
  }
  return { state: { ...state, lowStreak }, actions, summary: { ...base, decision: 'hold' } };
}
