/**
 * The autoscaling policy as data, and its validation. Numbers are chosen by the operator; the
 * defaults suit agents of ~100 sessions booting in a couple of minutes.
 */

export interface ScalingPolicy {
  /** Utilization the fleet is sized for (sessions / capacity), e.g. 0.6: headroom for bursts. */
  readonly targetUtilization: number;
  /** Above this the fleet is short (scale out, never in). Must be >= targetUtilization. */
  readonly upperBand: number;
  /** Scale-in is considered only while utilization stays below this. Must be < targetUtilization. */
  readonly lowerBand: number;
  readonly minAgents: number;
  readonly maxAgents: number;
  /** Sessions one new agent takes (the capacity it registers with). */
  readonly agentCapacity: number;
  /** Consecutive evaluations below `lowerBand` before a scale-in (hysteresis). */
  readonly scaleInAfterEvaluations: number;
  /** No second scale-out within this long of the last one (new agents are still booting). */
  readonly scaleOutCooldownMs: number;
  /** No scale-in within this long of any scaling action. */
  readonly scaleInCooldownMs: number;
  /** How long a draining agent may keep its sessions before they are ended (agent-shutdown). */
  readonly drainTimeoutMs: number;
  /** A heartbeat older than this makes an agent stale (not counted as serving). */
  readonly freshnessMs: number;
}

export const DEFAULT_SCALING_POLICY: ScalingPolicy = {
  targetUtilization: 0.6,
  upperBand: 0.75,
  lowerBand: 0.4,
  minAgents: 1,
  maxAgents: 10,
  agentCapacity: 100,
  scaleInAfterEvaluations: 5,
  scaleOutCooldownMs: 180_000,
  scaleInCooldownMs: 600_000,
  drainTimeoutMs: 3_600_000,
  freshnessMs: 90_000,
};

/** Every problem with a policy (empty = valid), so an operator fixes them all at once. */
export function validatePolicy(p: ScalingPolicy): string[] {
  const problems: string[] = [];
  const fraction = (name: keyof ScalingPolicy, v: number) => {
    if (!(v > 0 && v <= 1)) problems.push(`${name} must be in (0, 1], got ${v}`);
  };
  fraction('targetUtilization', p.targetUtilization);
  fraction('upperBand', p.upperBand);
  if (!(p.lowerBand >= 0 && p.lowerBand < p.targetUtilization)) problems.push('lowerBand must be >= 0 and < targetUtilization');
  if (p.upperBand < p.targetUtilization) problems.push('upperBand must be >= targetUtilization');
  if (!Number.isInteger(p.minAgents) || p.minAgents < 0) problems.push('minAgents must be an integer >= 0');
  if (!Number.isInteger(p.maxAgents) || p.maxAgents < Math.max(1, p.minAgents)) problems.push('maxAgents must be an integer >= max(1, minAgents)');
  if (!Number.isInteger(p.agentCapacity) || p.agentCapacity < 1) problems.push('agentCapacity must be an integer >= 1');
  if (!Number.isInteger(p.scaleInAfterEvaluations) || p.scaleInAfterEvaluations < 1) problems.push('scaleInAfterEvaluations must be an integer >= 1');
  for (const k of ['scaleOutCooldownMs', 'scaleInCooldownMs', 'drainTimeoutMs', 'freshnessMs'] as const) {
    if (!(p[k] >= 0)) problems.push(`${k} must be >= 0`);
  }
  return problems;
}
