/**
 * What the autoscaler does when the Auto Scaling group reports a lifecycle transition
 * (EventBridge "EC2 Instance-launch/terminate Lifecycle Action"):
 *
 * - launch: the VM waits in Pending:Wait. Enrol an agent named by the instance id (the same
 *   `enrollAgent` as POST /v1/agents), write its token to the SecureString parameter
 *   `<prefix><instance-id>` (the VM's boot script polls for it), then CONTINUE the lifecycle
 *   action. A failure throws: EventBridge retries, and if the hook times out the group
 *   ABANDONs the VM and launches another.
 * - terminate: the VM waits in Terminating:Wait. An active agent is drained (the policy's drain
 *   timeout); the next evaluation releases it once empty or past the deadline, and that release
 *   completes the hook (AwsScalingProvider.terminate). An agent already released (the autoscaler
 *   itself started the termination) or unknown only needs its parameter deleted and the hook
 *   completed.
 *
 * The SDK clients are injected as the small structural interfaces below, so this file imports no
 * SDK and the unit tests use fakes.
 */
import { allPages } from '../all-pages';
import { enrollAgent, rotateAgentCredential, startDrain } from '../agents-service';
import type { ServiceContext } from '../service-context';
import type { Agent } from '../types';
import type { AutoScalingApi } from './aws-provider';

/** The subset of @aws-sdk/client-ssm's aggregated `SSM` client used for agent credentials. */
export interface ParameterStoreApi {
  putParameter(input: { Name: string; Value: string; Type: 'SecureString'; Overwrite: boolean; Description?: string }): Promise<unknown>;
  deleteParameter(input: { Name: string }): Promise<unknown>;
}

/** The subset of @aws-sdk/client-ec2's aggregated `EC2` client used to pin an agent's address. */
export interface InstancesApi {
  describeInstances(input: { InstanceIds: string[] }): Promise<{
    Reservations?: { Instances?: { InstanceId?: string; PublicIpAddress?: string }[] }[];
  }>;
}

/** The fields of an Auto Scaling lifecycle action event's `detail` that are used here. */
export interface LifecycleActionDetail {
  readonly AutoScalingGroupName: string;
  readonly LifecycleHookName: string;
  readonly LifecycleActionToken?: string;
  readonly EC2InstanceId: string;
  readonly LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING' | 'autoscaling:EC2_INSTANCE_TERMINATING';
}

export interface FleetLifecycleContext {
  readonly service: Pick<ServiceContext, 'store' | 'clock' | 'random'>;
  readonly autoScaling: Pick<AutoScalingApi, 'completeLifecycleAction'>;
  readonly parameters: ParameterStoreApi;
  /** The instance's public address is enrolled (pinned), so the agent cannot report another. */
  readonly instances: InstancesApi;
  /** SSM path prefix ending in '/': the token lives at `<prefix><instance-id>`. */
  readonly tokenParameterPrefix: string;
  /** Region recorded on enrolled agents (placement filters by it). */
  readonly region: string;
  /** Capacity the agent is enrolled with: its registration may lower it, never raise it. */
  readonly agentCapacity: number;
  /** Drain deadline for a termination the group started itself. */
  readonly drainTimeoutMs: number;
}

export type LifecycleOutcome =
  | { readonly kind: 'enrolled'; readonly agentId: string; readonly instanceId: string }
  | { readonly kind: 're-credentialed'; readonly agentId: string; readonly instanceId: string }
  | { readonly kind: 'already-running'; readonly agentId: string; readonly instanceId: string }
  | { readonly kind: 'already-enrolled'; readonly agentId: string; readonly instanceId: string }
  | { readonly kind: 'draining'; readonly agentId: string; readonly instanceId: string; readonly deadline?: number }
  | { readonly kind: 'released'; readonly agentId?: string; readonly instanceId: string };

const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;

/** The agent enrolled for this EC2 instance (named by its instance id), if any. */
export async function agentOfInstance(ctx: Pick<ServiceContext, 'store'>, instanceId: string): Promise<Agent | undefined> {
  let found: Agent | undefined;
  // The newest one wins should an operator have enrolled the same name twice.
  for (const a of await allPages((page) => ctx.store.listAgents(page))) if (a.name === instanceId && (!found || a.createdAt > found.createdAt)) found = a;
  return found;
}

/** Handles one lifecycle action event; idempotent, so EventBridge retries are harmless. */
export async function handleLifecycleAction(ctx: FleetLifecycleContext, detail: LifecycleActionDetail): Promise<LifecycleOutcome> {
  if (!INSTANCE_ID.test(detail.EC2InstanceId)) throw new Error(`lifecycle event without a valid EC2InstanceId: ${detail.EC2InstanceId}`);
  return detail.LifecycleTransition === 'autoscaling:EC2_INSTANCE_LAUNCHING' ? onLaunch(ctx, detail) : onTerminate(ctx, detail);
}

/**
 * "EC2 Instance Launch Successful" (no hook involved): enrols the VM only if nothing did yet.
 * Needed for VMs launched before the launch hook existed (the first deploy creates the group, and
 * its first VMs, before the hook resource); after a hooked launch the agent exists and this is a
 * no-op, so the token the VM may already hold is never replaced.
 */
export async function handleLaunchSuccessful(ctx: FleetLifecycleContext, instanceId: string): Promise<LifecycleOutcome> {
  if (!INSTANCE_ID.test(instanceId)) throw new Error(`launch event without a valid EC2InstanceId: ${instanceId}`);
  const existing = await agentOfInstance(ctx.service, instanceId);
  if (existing) return { kind: 'already-enrolled', agentId: existing.agentId, instanceId };
  const { agent, token } = await enrollAgent(ctx.service, await enrolment(ctx, instanceId));
  await storeToken(ctx, instanceId, agent.agentId, token);
  return { kind: 'enrolled', agentId: agent.agentId, instanceId };
}

/**
 * What the VM is enrolled with: named by its instance id, the fleet's capacity and the public
 * address EC2 gave it (the agent cannot change it later). A VM without a public address yet is an
 * error: EventBridge retries the event.
 */
async function enrolment(ctx: FleetLifecycleContext, instanceId: string) {
  const reply = await ctx.instances.describeInstances({ InstanceIds: [instanceId] });
  const instance = (reply.Reservations ?? []).flatMap((r) => r.Instances ?? []).find((i) => i.InstanceId === instanceId);
  const publicAddress = instance?.PublicIpAddress;
  if (!publicAddress) throw new Error(`instance ${instanceId} has no public IPv4 address yet; the agent is enrolled once it has one`);
  return { name: instanceId, region: ctx.region, capacity: ctx.agentCapacity, publicAddress };
}

async function storeToken(ctx: FleetLifecycleContext, instanceId: string, agentId: string, token: string): Promise<void> {
  await ctx.parameters.putParameter({
    Name: `${ctx.tokenParameterPrefix}${instanceId}`,
    Value: token,
    Type: 'SecureString',
    Overwrite: true,
    Description: `tunnel-broker agent credential of ${agentId}`,
  });
}

async function onLaunch(ctx: FleetLifecycleContext, detail: LifecycleActionDetail): Promise<LifecycleOutcome> {
  const instanceId = detail.EC2InstanceId;
  const existing = await agentOfInstance(ctx.service, instanceId);
  let outcome: LifecycleOutcome;
  if (existing?.registeredAt !== undefined) {
    // A repeated event after the VM already registered: a new token would cut the running agent off.
    outcome = { kind: 'already-running', agentId: existing.agentId, instanceId };
  } else {
    // A retry after a failed parameter write: the first token was never stored, so issue a new one.
    const { agent, token } = existing
      ? await rotateAgentCredential(ctx.service, existing.agentId)
      : await enrollAgent(ctx.service, await enrolment(ctx, instanceId));
    await storeToken(ctx, instanceId, agent.agentId, token);
    outcome = { kind: existing ? 're-credentialed' : 'enrolled', agentId: agent.agentId, instanceId };
  }
  await complete(ctx, detail);
  return outcome;
}

async function onTerminate(ctx: FleetLifecycleContext, detail: LifecycleActionDetail): Promise<LifecycleOutcome> {
  const instanceId = detail.EC2InstanceId;
  const agent = await agentOfInstance(ctx.service, instanceId);
  if (agent && agent.state === 'active' && !agent.revoked) {
    // The group chose this VM itself (health check, lowered maximum...): drain it like a scale-in.
    const deadline = ctx.service.clock.now() + ctx.drainTimeoutMs;
    await startDrain(ctx.service, agent.agentId, deadline);
    return { kind: 'draining', agentId: agent.agentId, instanceId, deadline };
  }
  if (agent && agent.state === 'draining') {
    // The evaluation releases it (empty or deadline) and that completes the hook.
    return { kind: 'draining', agentId: agent.agentId, instanceId, ...(agent.drainDeadline !== undefined ? { deadline: agent.drainDeadline } : {}) };
  }
  if (agent && agent.state === 'active' && agent.revoked) {
    // A revoked agent serves nothing new; its sessions are the reaper's. Mark it gone with the VM.
    await ctx.service.store.transitionAgent(agent.agentId, ['active'], 'dead', ctx.service.clock.now());
  }
  await releaseInstance(ctx, instanceId);
  await complete(ctx, detail);
  return { kind: 'released', ...(agent ? { agentId: agent.agentId } : {}), instanceId };
}

/** Deletes the instance's credential parameter; a parameter already gone is fine. */
export async function releaseInstance(ctx: Pick<FleetLifecycleContext, 'parameters' | 'tokenParameterPrefix'>, instanceId: string): Promise<void> {
  try {
    await ctx.parameters.deleteParameter({ Name: `${ctx.tokenParameterPrefix}${instanceId}` });
  } catch (error) {
    if (!isNamed(error, 'ParameterNotFound')) throw error;
  }
}

async function complete(ctx: FleetLifecycleContext, detail: LifecycleActionDetail): Promise<void> {
  try {
    await ctx.autoScaling.completeLifecycleAction({
      AutoScalingGroupName: detail.AutoScalingGroupName,
      LifecycleHookName: detail.LifecycleHookName,
      LifecycleActionResult: 'CONTINUE',
      InstanceId: detail.EC2InstanceId,
      ...(detail.LifecycleActionToken ? { LifecycleActionToken: detail.LifecycleActionToken } : {}),
    });
  } catch (error) {
    // Already completed (a retried event) or timed out: nothing is waiting any more.
    if (!/no active lifecycle action|lifecycle action .*not found/i.test(error instanceof Error ? error.message : String(error))) throw error;
  }
}

function isNamed(error: unknown, name: string): boolean {
  return typeof error === 'object' && error !== null && ((error as { name?: unknown }).name === name || (error as { Code?: unknown }).Code === name);
}
