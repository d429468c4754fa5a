/**
 * The autoscaling policy as environment variables: the AWS autoscaler function and the local
 * stack (`npm start`) read the same names with the same defaults (DEFAULT_SCALING_POLICY).
 */
import { z } from 'zod';
import { DEFAULT_SCALING_POLICY, validatePolicy, type ScalingPolicy } from '../domain/autoscaling';

const D = DEFAULT_SCALING_POLICY;
const fraction = (fallback: number) => z.coerce.number().gt(0).lte(1).default(fallback);
const count = (fallback: number) => z.coerce.number().int().nonnegative().default(fallback);
const seconds = (fallbackMs: number) => z.coerce.number().nonnegative().default(fallbackMs / 1000);

export const ScalingPolicyEnv = z.object({
  TARGET_UTILIZATION: fraction(D.targetUtilization),
  UPPER_BAND: fraction(D.upperBand),
  LOWER_BAND: z.coerce.number().gte(0).lt(1).default(D.lowerBand),
  MIN_AGENTS: count(D.minAgents),
  MAX_AGENTS: count(D.maxAgents),
  AGENT_CAPACITY: z.coerce.number().int().positive().default(D.agentCapacity),
  SCALE_IN_AFTER_EVALUATIONS: z.coerce.number().int().positive().default(D.scaleInAfterEvaluations),
  SCALE_OUT_COOLDOWN_SECONDS: seconds(D.scaleOutCooldownMs),
  SCALE_IN_COOLDOWN_SECONDS: seconds(D.scaleInCooldownMs),
  DRAIN_TIMEOUT_SECONDS: seconds(D.drainTimeoutMs),
  HEARTBEAT_TIMEOUT_MS: z.coerce.number().int().positive().default(D.freshnessMs),
});
export type ScalingPolicyEnv = z.infer<typeof ScalingPolicyEnv>;

/** The policy the parsed variables describe (not yet validated as a whole: see validatePolicy). */
export function scalingPolicyOf(e: ScalingPolicyEnv): ScalingPolicy {
  return {
    targetUtilization: e.TARGET_UTILIZATION,
    upperBand: e.UPPER_BAND,
    lowerBand: e.LOWER_BAND,
    minAgents: e.MIN_AGENTS,
    maxAgents: e.MAX_AGENTS,
    agentCapacity: e.AGENT_CAPACITY,
    scaleInAfterEvaluations: e.SCALE_IN_AFTER_EVALUATIONS,
    scaleOutCooldownMs: e.SCALE_OUT_COOLDOWN_SECONDS * 1000,
    scaleInCooldownMs: e.SCALE_IN_COOLDOWN_SECONDS * 1000,
    drainTimeoutMs: e.DRAIN_TIMEOUT_SECONDS * 1000,
    freshnessMs: e.HEARTBEAT_TIMEOUT_MS,
  };
}

/** Parses and validates the policy alone, naming every bad key or rule. */
export function parseScalingPolicyEnv(env: Readonly<Record<string, string | undefined>>): ScalingPolicy {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = ScalingPolicyEnv.safeParse(cleaned);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`);
    throw new Error(`autoscaling policy invalid: ${problems.join('; ')}`);
  }
  const policy = scalingPolicyOf(parsed.data);
  const problems = validatePolicy(policy);
  if (problems.length > 0) throw new Error(`autoscaling policy invalid: ${problems.join('; ')}`);
  return policy;
}
