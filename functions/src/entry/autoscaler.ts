/**
 * Lambda entry point of the autoscaler (scheduled, one evaluation per run, reserved concurrency 1
 * in infra so decisions never race). Configuration is parsed once from the environment.
 *
 * The Auto Scaling client comes from @aws-sdk/client-auto-scaling, which is not a dependency yet:
 * `handler` loads it at run time and fails with a clear message when it is missing. Tests and
 * other callers inject any `AutoScalingApi` (or a whole ScalingProvider) instead.
 *
 * Memory between runs (hysteresis streak, cooldown times) lives in the warm container; a cold
 * start begins a new streak, which only delays a scale-in (never a scale-out).
 */
import pino from 'pino';
import { z } from 'zod';
import {
  applyScalingActions,
  AwsScalingProvider,
  DEFAULT_SCALING_POLICY,
  evaluateScaling,
  INITIAL_SCALING_STATE,
  validatePolicy,
  type ActionOutcome,
  type AutoScalingApi,
  type ScalingPolicy,
  type ScalingProvider,
  type ScalingState,
  type ScalingSummary,
} from '../domain/autoscaling';
import { systemClock, type Agent, type Clock } from '../domain/types';
import type { Store } from '../store/store';
import { createDynamoClient, DynamoStore } from '../store/dynamo';

const D = DEFAULT_SCALING_POLICY;
const fraction = (fallback: number) => z.coerce.number().gt(0).lte(1).default(fallback);
const count = (fallback: number) => z.coerce.number().int().nonnegative().default(fallback);
const seconds = (fallbackMs: number) => z.coerce.number().nonnegative().default(fallbackMs / 1000);

export const AutoscalerEnv = z.object({
  TABLE_NAME: z.string().min(1),
  DYNAMODB_ENDPOINT: z.url().optional(),
  AWS_REGION: z.string().min(1).optional(),
  AUTOSCALING_GROUP_NAME: z.string().min(1),
  DRAIN_LIFECYCLE_HOOK_NAME: z.string().min(1),
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
export type AutoscalerEnv = z.infer<typeof AutoscalerEnv>;

/** Parses the env object and the policy it describes, naming every bad key. */
export function parseAutoscalerEnv(env: Record<string, string | undefined>): { env: AutoscalerEnv; policy: ScalingPolicy } {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = AutoscalerEnv.safeParse(cleaned);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`);
    throw new Error(`autoscaler configuration invalid: ${problems.join('; ')}`);
  }
  const e = parsed.data;
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
  const problems = validatePolicy(policy);
  if (problems.length > 0) throw new Error(`autoscaler configuration invalid: ${problems.join('; ')}`);
  return { env: e, policy };
}

export interface AutoscalerRun {
  readonly summary: ScalingSummary;
  readonly outcomes: readonly ActionOutcome[];
}

/** Every agent, all pages. */
async function allAgents(store: Store): Promise<Agent[]> {
  const agents: Agent[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listAgents({ limit: 100, ...(cursor ? { cursor } : {}) });
    agents.push(...page.items);
    cursor = page.cursor;
  } while (cursor);
  return agents;
}

/** A runner keeping the policy state between calls; the unit the Lambda handler and tests use. */
export function createAutoscalerRunner(deps: {
  store: Store;
  clock: Clock;
  provider: ScalingProvider;
  policy: ScalingPolicy;
  log?: pino.Logger;
}): () => Promise<AutoscalerRun> {
  let state: ScalingState = INITIAL_SCALING_STATE;
  return async () => {
    const agents = await allAgents(deps.store);
    const step = evaluateScaling(state, { now: deps.clock.now(), agents }, deps.policy);
    state = step.state;
    const outcomes = await applyScalingActions(deps, step.actions);
    deps.log?.info({ summary: step.summary, actions: outcomes }, 'autoscaler evaluation done');
    for (const o of outcomes) if (!o.ok) deps.log?.error({ action: o.action, error: o.error }, 'scaling action failed');
    return { summary: step.summary, outcomes };
  };
}

/**
 * Agents in the Auto Scaling group are enrolled with their EC2 instance id as name (the token's
 * SSM parameter is keyed by instance id, infra/lib/agent-boot-script.ts).
 */
export function instanceIdFromAgentName(store: Store): (agentId: string) => Promise<string | undefined> {
  return async (agentId) => {
    const name = (await store.getAgent(agentId))?.name;
    return name !== undefined && /^i-[0-9a-f]{8,17}$/.test(name) ? name : undefined;
  };
}

/** Builds a handler from an env object and an Auto Scaling client (tests inject a fake). */
export function createAutoscalerHandler(env: Record<string, string | undefined>, client: AutoScalingApi): () => Promise<AutoscalerRun> {
  const { env: config, policy } = parseAutoscalerEnv(env);
  const store = new DynamoStore({
    client: createDynamoClient({
      ...(config.DYNAMODB_ENDPOINT ? { endpoint: config.DYNAMODB_ENDPOINT } : {}),
      ...(config.AWS_REGION ? { region: config.AWS_REGION } : {}),
    }),
    tableName: config.TABLE_NAME,
  });
  const provider = new AwsScalingProvider({
    client,
    groupName: config.AUTOSCALING_GROUP_NAME,
    lifecycleHookName: config.DRAIN_LIFECYCLE_HOOK_NAME,
    instanceIdOf: instanceIdFromAgentName(store),
  });
  return createAutoscalerRunner({ store, clock: systemClock, provider, policy, log: pino({ name: 'autoscaler' }) });
}

/** Loads the SDK's aggregated AutoScaling client; the package is not installed yet (see header). */
async function loadAutoScalingClient(region: string | undefined): Promise<AutoScalingApi> {
  const specifier: string = '@aws-sdk/client-auto-scaling';
  let mod: { AutoScaling: new (config: { region?: string }) => AutoScalingApi };
  try {
    mod = (await import(specifier)) as typeof mod;
  } catch (error) {
    throw new Error(`autoscaler needs ${specifier} (npm install --save ${specifier})`, { cause: error });
  }
  return new mod.AutoScaling(region ? { region } : {});
}

let cached: (() => Promise<AutoscalerRun>) | undefined;

export const handler = async (): Promise<AutoscalerRun> => {
  if (!cached) {
    const client = await loadAutoScalingClient(process.env.AWS_REGION);
    cached = createAutoscalerHandler(process.env, client);
  }
  return cached();
};
