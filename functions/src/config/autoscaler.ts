/**
 * The autoscaler function's part of the broker configuration (entry/autoscaler.ts), and within it
 * the scaling policy, which the local stack's autoscaler reads with the same names and defaults
 * (DEFAULT_SCALING_POLICY).
 */
import { z } from 'zod';
import { DEFAULT_SCALING_POLICY, validatePolicy, type ScalingPolicy } from '../domain/autoscaling';
import { parseEnv, type Env } from './parse-env';
import { heartbeatTimeoutMs, tableKeys, tableLocation, vpnDnsDomain, type TableLocation } from './shared-keys';

const D = DEFAULT_SCALING_POLICY;
const fraction = (fallback: number) => z.coerce.number().gt(0).lte(1).default(fallback);
const count = (fallback: number) => z.coerce.number().int().nonnegative().default(fallback);
const seconds = (fallbackMs: number) => z.coerce.number().nonnegative().default(fallbackMs / 1000);

const policyKeys = {
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
  HEARTBEAT_TIMEOUT_MS: heartbeatTimeoutMs(D.freshnessMs),
};
const policySchema = z.object(policyKeys);

/** The policy the parsed variables describe, its rules between values checked (validatePolicy). */
function policyOf(e: z.output<typeof policySchema>, problem: (key: string, message: string) => void): ScalingPolicy {
  const policy: ScalingPolicy = {
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
  for (const rule of validatePolicy(policy)) problem('policy', rule);
  return policy;
}

/** Parses the scaling policy alone (the local stack's autoscaler), naming every bad key or rule. */
export function parseScalingPolicy(env: Env): ScalingPolicy {
  return parseEnv('autoscaling policy', policySchema, env, policyOf);
}

export interface AutoscalerConfig {
  readonly table: TableLocation;
  readonly policy: ScalingPolicy;
  readonly autoScalingGroupName: string;
  readonly drainLifecycleHookName: string;
  /** SSM path of the agents' credentials, `<prefix><instance-id>`. */
  readonly agentTokenParameterPrefix: string;
  /** Region recorded on enrolled agents: AGENT_REGION, else AWS_REGION, else 'default'. */
  readonly agentRegion: string;
  /** CloudWatch namespace of the fleet metrics (set by the stack from infra's FLEET_METRICS). */
  readonly metricsNamespace?: string;
  /** Route 53 publishing of tenant names: both zone and domain, or neither. */
  readonly dns?: { readonly hostedZoneId: string; readonly domain: string; readonly ttlSeconds: number; readonly agentsPerTenant: number };
}

const autoscalerSchema = z.object({
  ...tableKeys({ defaultName: false }),
  ...policyKeys,
  AUTOSCALING_GROUP_NAME: z.string().min(1),
  DRAIN_LIFECYCLE_HOOK_NAME: z.string().min(1),
  AGENT_TOKEN_PARAMETER_PREFIX: z.string().regex(/^\/[A-Za-z0-9_.\-/]*\/$/, 'must start and end with /'),
  AGENT_REGION: z.string().min(1).optional(),
  METRICS_NAMESPACE: z.string().min(1).optional(),
  VPN_HOSTED_ZONE_ID: z.string().regex(/^[A-Z0-9]{1,32}$/, 'must be a hosted zone id like Z0123456789ABC').optional(),
  VPN_DNS_DOMAIN: vpnDnsDomain,
  VPN_DNS_TTL_SECONDS: z.coerce.number().int().min(0).max(86400).default(60),
  VPN_DNS_AGENTS_PER_TENANT: z.coerce.number().int().min(1).max(8).default(2),
});

/** Parses the autoscaler's configuration and the policy it describes, naming every bad or missing key (ConfigError). */
export function parseAutoscalerConfig(env: Env): AutoscalerConfig {
  return parseEnv('autoscaler', autoscalerSchema, env, (e, problem) => {
    const policy = policyOf(e, problem);
    if ((e.VPN_HOSTED_ZONE_ID === undefined) !== (e.VPN_DNS_DOMAIN === undefined)) {
      problem(e.VPN_HOSTED_ZONE_ID === undefined ? 'VPN_HOSTED_ZONE_ID' : 'VPN_DNS_DOMAIN', 'VPN_HOSTED_ZONE_ID and VPN_DNS_DOMAIN must be set together');
    }
    return {
      table: tableLocation(e),
      policy,
      autoScalingGroupName: e.AUTOSCALING_GROUP_NAME,
      drainLifecycleHookName: e.DRAIN_LIFECYCLE_HOOK_NAME,
      agentTokenParameterPrefix: e.AGENT_TOKEN_PARAMETER_PREFIX,
      agentRegion: e.AGENT_REGION ?? e.AWS_REGION ?? 'default',
      ...(e.METRICS_NAMESPACE ? { metricsNamespace: e.METRICS_NAMESPACE } : {}),
      ...(e.VPN_HOSTED_ZONE_ID && e.VPN_DNS_DOMAIN
        ? { dns: { hostedZoneId: e.VPN_HOSTED_ZONE_ID, domain: e.VPN_DNS_DOMAIN, ttlSeconds: e.VPN_DNS_TTL_SECONDS, agentsPerTenant: e.VPN_DNS_AGENTS_PER_TENANT } }
        : {}),
    };
  });
}
