/**
 * Lambda entry point of the autoscaler (reserved concurrency 1 in infra so decisions never race).
 * Two kinds of EventBridge events arrive:
 * - the schedule: one scaling evaluation (evaluateScaling + applyScalingActions), then the tenant
 *   DNS records are re-published when placement's choice changed (only when a hosted zone is set);
 * - Auto Scaling lifecycle actions of the fleet: launch enrols the VM, terminate drains or
 *   releases it (domain/autoscaling/fleet-lifecycle.ts).
 * Its part of the broker configuration (config/autoscaler.ts) is parsed once from the environment,
 * here; the SDK clients are built here and injected, so tests pass fakes.
 *
 * Memory between runs (hysteresis streak, cooldown times, published records) lives in the warm
 * container; a cold start begins a new streak, which only delays a scale-in (never a scale-out),
 * and re-UPSERTs every tenant record once.
 */
import { allPages } from '../domain/all-pages';
import { AutoScaling } from '@aws-sdk/client-auto-scaling';
import { EC2 } from '@aws-sdk/client-ec2';
import { Route53 } from '@aws-sdk/client-route-53';
import { SSM } from '@aws-sdk/client-ssm';
import pino from 'pino';
import { parseAutoscalerConfig, type AutoscalerConfig } from '../config';
import {
  applyScalingActions,
  AwsScalingProvider,
  evaluateScaling,
  fleetMetricsRecord,
  handleLaunchSuccessful,
  handleLifecycleAction,
  INITIAL_SCALING_STATE,
  releaseInstance,
  validatePolicy,
  type ActionOutcome,
  type AutoScalingApi,
  type InstancesApi,
  type LifecycleActionDetail,
  type LifecycleOutcome,
  type ParameterStoreApi,
  type ScalingPolicy,
  type ScalingAction,
  type ScalingProvider,
  type ScalingState,
  type ScalingSummary,
} from '../domain/autoscaling';
import { cryptoRandom, type RandomBytes } from '../domain/bearer-tokens';
import { Route53Publisher, type PublishResult, type Route53Api } from '../domain/placement';
import { systemClock, type Agent, type Clock } from '../domain/types';
import type { Store } from '../domain/store';
import { connectDynamoStore } from '../store/dynamo';

export interface AutoscalerRun {
  readonly summary: ScalingSummary;
  /** What the evaluation decided. */
  readonly actions: readonly ScalingAction[];
  /** What applying them did (empty when the runner only plans). */
  readonly outcomes: readonly ActionOutcome[];
  /** Present when DNS publishing is configured and succeeded. */
  readonly dns?: PublishResult;
}

/** Every agent, all pages. */
const allAgents = (store: Store): Promise<Agent[]> => allPages((page) => store.listAgents(page));

/** A runner keeping the policy state between calls; the unit the Lambda handler and tests use. */
export function createAutoscalerRunner(deps: {
  store: Store;
  clock: Clock;
  provider: ScalingProvider;
  policy: ScalingPolicy;
  log?: pino.Logger;
  /** Called once per agent the run released (e.g. to delete its credential parameter). */
  onReleased?: (agentId: string) => Promise<void>;
  /** CloudWatch namespace of the fleet metrics. @default FLEET_METRICS.namespace */
  metricsNamespace?: string;
  /** Publishes tenant DNS records after the evaluation. @default - nothing is published */
  publisher?: Pick<Route53Publisher, 'publish'>;
  /** Agents the provider runs (see FleetObservation.managed). @default every agent */
  managed?: (agent: Agent) => boolean;
  /** false: evaluate and report the actions without carrying them out. @default true */
  act?: boolean;
}): () => Promise<AutoscalerRun> {
  let state: ScalingState = INITIAL_SCALING_STATE;
  return async () => {
    const agents = await allAgents(deps.store);
    const step = evaluateScaling(state, { now: deps.clock.now(), agents, ...(deps.managed ? { managed: deps.managed } : {}) }, deps.policy);
    state = step.state;
    const outcomes = deps.act === false ? [] : await applyScalingActions(deps, step.actions);
    deps.log?.info({ summary: step.summary, actions: outcomes }, 'autoscaler evaluation done');
    // Embedded-metric-format line: what the FleetSaturated / NoHealthyAgent alarms watch.
    deps.log?.info(fleetMetricsRecord(step.summary, deps.clock.now(), deps.metricsNamespace), 'fleet metrics');
    for (const o of outcomes) if (!o.ok) deps.log?.error({ action: o.action, error: o.error }, 'scaling action failed');
    for (const o of outcomes) {
      if (!o.ok || o.action.type !== 'release' || !deps.onReleased) continue;
      try {
        await deps.onReleased(o.action.agentId);
      } catch (error) {
        deps.log?.error({ agentId: o.action.agentId, err: error }, 'clean-up after release failed');
      }
    }
    let dns: PublishResult | undefined;
    if (deps.publisher) {
      try {
        // Listed again: agents drained or released by this run must not be published.
        dns = await deps.publisher.publish(deps.store, await allAgents(deps.store), deps.clock.now());
        if (dns.changed.length > 0) deps.log?.info({ changed: dns.changed }, 'tenant DNS records updated');
        if (dns.unplaced.length > 0) deps.log?.warn({ tenants: dns.unplaced }, 'no agent to publish for these tenants');
      } catch (error) {
        deps.log?.error({ err: error }, 'publishing tenant DNS records failed');
      }
    }
    return { summary: step.summary, actions: step.actions, outcomes, ...(dns ? { dns } : {}) };
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

/** The AWS clients the autoscaler calls; tests inject fakes. */
export interface AutoscalerClients {
  readonly autoScaling: AutoScalingApi;
  readonly parameters: ParameterStoreApi;
  /** EC2 DescribeInstances: the public address a launched VM is enrolled with. */
  readonly instances: InstancesApi;
  /** Needed only when VPN_HOSTED_ZONE_ID / VPN_DNS_DOMAIN are set. */
  readonly route53?: Route53Api;
}

/** The EventBridge events the function receives (schedule or fleet lifecycle action). */
export interface AutoscalerEvent {
  readonly source?: string;
  readonly 'detail-type'?: string;
  readonly detail?: unknown;
}

export type AutoscalerResult = { readonly kind: 'evaluation'; readonly run: AutoscalerRun } | { readonly kind: 'lifecycle'; readonly outcome: LifecycleOutcome };

const LAUNCH_SUCCESSFUL = 'EC2 Instance Launch Successful';
/** What infra's FleetLifecycleEvents rule forwards (anything else runs an evaluation). */
export const FLEET_DETAIL_TYPES: readonly string[] = ['EC2 Instance-launch Lifecycle Action', 'EC2 Instance-terminate Lifecycle Action', LAUNCH_SUCCESSFUL];

/** Builds the event handler from the autoscaler's configuration and the AWS clients (tests inject fakes). */
export function createAutoscalerHandler(
  config: AutoscalerConfig,
  clients: AutoscalerClients,
  overrides: { store?: Store; clock?: Clock; random?: RandomBytes; log?: pino.Logger } = {},
): (event?: AutoscalerEvent) => Promise<AutoscalerResult> {
  const { policy } = config;
  const log = overrides.log ?? pino({ name: 'autoscaler' });
  const clock = overrides.clock ?? systemClock;
  const store = overrides.store ?? connectDynamoStore(config.table);
  const instanceIdOf = instanceIdFromAgentName(store);
  const provider = new AwsScalingProvider({
    client: clients.autoScaling,
    groupName: config.autoScalingGroupName,
    lifecycleHookName: config.drainLifecycleHookName,
    instanceIdOf,
  });
  const prefix = config.agentTokenParameterPrefix;
  let publisher: Route53Publisher | undefined;
  if (config.dns) {
    if (!clients.route53) throw new Error('autoscaler: VPN_HOSTED_ZONE_ID is set but no Route 53 client was given');
    publisher = new Route53Publisher({ client: clients.route53, ...config.dns, freshnessMs: policy.freshnessMs });
  }
  const evaluate = createAutoscalerRunner({
    store,
    clock,
    provider,
    policy,
    log,
    ...(config.metricsNamespace ? { metricsNamespace: config.metricsNamespace } : {}),
    ...(publisher ? { publisher } : {}),
    onReleased: async (agentId) => {
      const instanceId = await instanceIdOf(agentId);
      if (instanceId) await releaseInstance({ parameters: clients.parameters, tokenParameterPrefix: prefix }, instanceId);
    },
  });
  const lifecycle = {
    service: { store, clock, random: overrides.random ?? cryptoRandom },
    autoScaling: clients.autoScaling,
    parameters: clients.parameters,
    instances: clients.instances,
    tokenParameterPrefix: prefix,
    region: config.agentRegion,
    agentCapacity: policy.agentCapacity,
    drainTimeoutMs: policy.drainTimeoutMs,
  };
  return async (event) => {
    const detailType = event?.['detail-type'];
    if (event?.source === 'aws.autoscaling' && detailType !== undefined && FLEET_DETAIL_TYPES.includes(detailType)) {
      const detail = event.detail as LifecycleActionDetail;
      if (detail.AutoScalingGroupName !== config.autoScalingGroupName) {
        throw new Error(`lifecycle event of group ${detail.AutoScalingGroupName}, expected ${config.autoScalingGroupName}`);
      }
      const outcome =
        detailType === LAUNCH_SUCCESSFUL
          ? await handleLaunchSuccessful(lifecycle, detail.EC2InstanceId)
          : await handleLifecycleAction(lifecycle, detail);
      log.info({ outcome, hook: detail.LifecycleHookName }, 'lifecycle action handled');
      return { kind: 'lifecycle', outcome };
    }
    // The schedule (or a manual invocation without an event): one evaluation.
    return { kind: 'evaluation', run: await evaluate() };
  };
}

/**
 * The AWS SDK v3 clients are bundled into the function (scripts/build-bundles.ts) rather than
 * taken from the nodejs22.x runtime: the runtime's copy is whatever version AWS ships that month,
 * the bundle is the version the tests ran with, like client-dynamodb in the other functions.
 */
function awsClients(region: string | undefined): AutoscalerClients {
  const config = region ? { region } : {};
  return { autoScaling: new AutoScaling(config), parameters: new SSM(config), instances: new EC2(config), route53: new Route53(config) };
}

let cached: ((event?: AutoscalerEvent) => Promise<AutoscalerResult>) | undefined;

export const handler = async (event?: AutoscalerEvent): Promise<AutoscalerResult> => {
  if (!cached) {
    const config = parseAutoscalerConfig(process.env);
    cached = createAutoscalerHandler(config, awsClients(config.table.region));
  }
  return cached(event);
};
