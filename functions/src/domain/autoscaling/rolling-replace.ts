/**
 * Rolling replacement of agents, the way the AWS instance refresh does it with the fleet's hooks
 * (infra/lib/edge-fleet.ts, rollingUpgradePolicy): every replacement is started and registered
 * first, then each old agent is drained with the drain timeout as its deadline (what the
 * terminate lifecycle hook does through handleLifecycleAction). From there the ordinary
 * evaluation takes over: an old agent is released once empty or at its deadline (remaining
 * sessions end with agent-shutdown) and the provider stops it. Clients of an old agent are never
 * cut before that deadline, and the endpoint offers only the new agents from the drain on.
 */
import { startDrain } from '../agents-service';
import type { Store } from '../store';
import type { Clock } from '../types';
import type { LocalAgentProcess } from './local-provider';

export interface ReplacingProvider {
  /** Starts one new agent per old one, all registered before it resolves; the old ones keep running. */
  launchReplacements(agentIds: readonly string[]): Promise<LocalAgentProcess[]>;
}

export interface RollingReplaceContext {
  readonly store: Store;
  readonly clock: Clock;
  readonly provider: ReplacingProvider;
  /** The deadline each old agent gets (the drain hook's timeout in AWS). */
  readonly drainTimeoutMs: number;
}

export interface RollingReplacement {
  readonly replacements: readonly LocalAgentProcess[];
  /** The old agents now draining (one that was draining already keeps its own deadline). */
  readonly draining: readonly string[];
  readonly deadline: number;
}

/** Launches the replacements, then drains the old agents; the evaluation releases them. */
export async function rollingReplace(ctx: RollingReplaceContext, agentIds: readonly string[]): Promise<RollingReplacement> {
  const replacements = await ctx.provider.launchReplacements(agentIds);
  const deadline = ctx.clock.now() + ctx.drainTimeoutMs;
  const draining: string[] = [];
  for (const agentId of agentIds) {
    const agent = await startDrain(ctx, agentId, deadline);
    if (agent?.state === 'draining') draining.push(agentId);
  }
  return { replacements, draining, deadline };
}
