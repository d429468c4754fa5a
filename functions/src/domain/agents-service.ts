/**
 * Edge agent enrolment, credentials, registration and heartbeats. The operator enrols an agent
 * (POST /v1/agents) and hands its one-time token to the VM; the agent registers on start and then
 * heartbeats, receiving queued commands until it acknowledges them.
 */
import { ConflictError, NotFoundError, UnauthorizedError } from '../errors';
import { AlreadyExistsError } from './store-errors';
import { issueToken, newId, parseToken, secretMatches } from './bearer-tokens';
import { nudgeAgent, type NudgeContext } from './command-nudge';
import { stopAgentSessions } from './reaper';
import { LEASE_GRACE } from './ip-allocation/lease-rule';
import type { ServiceContext } from './service-context';
import type { Agent, AgentCommand, AgentCounters, Page, PageRequest } from './types';

const ZERO_COUNTERS: AgentCounters = { bytesIn: 0, bytesOut: 0, packetsIn: 0, packetsOut: 0 };

export interface EnrollAgentInput {
  readonly name: string;
  readonly region?: string;
  /** The most sessions it may hold; its registration may lower this, never raise it. @default 100 */
  readonly capacity?: number;
  /** Where clients reach it; pinned (its registration cannot change it). @default the first registration's */
  readonly publicAddress?: string;
}

/** Creates an agent and its credential; the clear token is returned once and only its hash is kept. */
export async function enrollAgent(
  ctx: Pick<ServiceContext, 'store' | 'clock' | 'random'>,
  input: EnrollAgentInput,
): Promise<{ agent: Agent; token: string }> {
  const agentId = `agent-${newId(ctx.random)}`;
  const { token, secretHash } = issueToken('agent', agentId, ctx.random);
  const agent: Agent = {
    agentId,
    name: input.name,
    region: input.region ?? 'default',
    tokenHash: secretHash,
    state: 'active',
    revoked: false,
    capacity: input.capacity ?? 100,
    enrolledCapacity: input.capacity ?? 100,
    ...(input.publicAddress !== undefined ? { publicAddress: input.publicAddress } : {}),
    activeSessions: 0,
    counters: ZERO_COUNTERS,
    createdAt: ctx.clock.now(),
  };
  await ctx.store.createAgent(agent);
  return { agent, token };
}

/** Resolves an agent bearer token; revoked or unknown agents are refused at once. */
export async function authenticateAgent(ctx: Pick<ServiceContext, 'store'>, token: string): Promise<Agent> {
  const parts = parseToken('agent', token);
  if (!parts) throw new UnauthorizedError('not an agent credential');
  const agent = await ctx.store.getAgent(parts.id);
  if (!agent || !secretMatches(parts.secret, agent.tokenHash)) throw new UnauthorizedError('invalid agent credential');
  if (agent.revoked) throw new UnauthorizedError(`agent ${agent.agentId} is revoked`, 'agent-revoked');
  return agent;
}

export function listAgents(ctx: Pick<ServiceContext, 'store'>, page: PageRequest): Promise<Page<Agent>> {
  return ctx.store.listAgents(page);
}

/**
 * Revokes an agent's credential: its next request is refused (401 `agent-revoked`), which tells it
 * to tear down what it serves. The broker stops the agent's active sessions at once (reason
 * `agent-revoked`), keeping their addresses for two heartbeat intervals: the agent may forward for
 * them until its next heartbeat. Repeating it stops whatever is still active.
 */
export async function revokeAgent(ctx: Pick<ServiceContext, 'store' | 'clock' | 'config'>, agentId: string): Promise<Agent> {
  const agent = await ctx.store.getAgent(agentId);
  if (!agent) throw new NotFoundError('agent', agentId);
  const revoked = agent.revoked ? agent : await ctx.store.updateAgent(agentId, { revoked: true });
  const now = ctx.clock.now();
  await stopAgentSessions(ctx.store, agentId, { reason: 'agent-revoked', at: now, leaseGraceUntil: now + LEASE_GRACE.agentRevokedMs(ctx.config.heartbeatIntervalSeconds) });
  return revoked;
}

/**
 * Issues a new credential for an agent and stores only its hash: the old token is refused from the next request on
 * (authentication compares against the stored hash). A revoked agent stays revoked; enrol a new one instead.
 */
export async function rotateAgentCredential(
  ctx: Pick<ServiceContext, 'store' | 'random'>,
  agentId: string,
): Promise<{ agent: Agent; token: string }> {
  const agent = await ctx.store.getAgent(agentId);
  if (!agent) throw new NotFoundError('agent', agentId);
  if (agent.revoked) throw new ConflictError('agent-revoked', `agent ${agentId} is revoked; enrol a new agent`);
  const { token, secretHash } = issueToken('agent', agentId, ctx.random);
  return { agent: await ctx.store.updateAgent(agentId, { tokenHash: secretHash }), token };
}

export interface RegisterInput {
  readonly publicAddress: string;
  readonly capacity: number;
  readonly version: string;
  /** The host's own IPv4 networks (CIDR): pools may not overlap them. */
  readonly networks?: readonly string[];
  /** Sessions the agent holds at registration (the sessionIds it sent), when it said. */
  readonly activeSessions?: number;
  /** UDP port of its command-nudge listener; 0 = none (agents before nudges omit it: none). */
  readonly nudgePort?: number;
}

/**
 * Agent start-up: records what it runs, its host networks and its load; a `dead` agent comes back
 * `active`. What the agent says about itself does not override the operator (security review,
 * issue 14 finding 8): the public address is the enrolled one (else the first registration's, then
 * pinned), and the capacity is the lower of the reported and the enrolled one. An agent enrolled
 * before `enrolledCapacity` existed is capped at the capacity on record when it first registers.
 */
export async function registerAgent(ctx: Pick<ServiceContext, 'store' | 'clock'>, agent: Agent, input: RegisterInput): Promise<Agent> {
  const now = ctx.clock.now();
  const enrolledCapacity = agent.enrolledCapacity ?? agent.capacity;
  let updated = await ctx.store.updateAgent(agent.agentId, {
    ...(agent.publicAddress === undefined ? { publicAddress: input.publicAddress } : {}),
    capacity: Math.min(input.capacity, enrolledCapacity),
    enrolledCapacity,
    ...(input.networks !== undefined ? { networks: [...input.networks] } : {}),
    nudgePort: input.nudgePort ?? 0,
    version: input.version,
    registeredAt: now,
    lastHeartbeatAt: now,
    ...(input.activeSessions !== undefined ? { activeSessions: input.activeSessions } : {}),
  });
  if (updated.state === 'dead') updated = (await ctx.store.transitionAgent(agent.agentId, ['dead'], 'active', now)) ?? updated;
  return updated;
}

export interface HeartbeatInput {
  readonly activeSessions: number;
  readonly counters: AgentCounters;
  readonly ackCommandIds: readonly string[];
}

/**
 * Acknowledged commands are deleted first, so the reply only carries what is still pending;
 * a retried heartbeat is harmless (acks of already-deleted commands are no-ops).
 */
export async function heartbeat(
  ctx: Pick<ServiceContext, 'store' | 'clock'>,
  agent: Agent,
  input: HeartbeatInput,
): Promise<{ agent: Agent; commands: AgentCommand[] }> {
  const now = ctx.clock.now();
  if (input.ackCommandIds.length > 0) await ctx.store.ackAgentCommands(agent.agentId, input.ackCommandIds);
  let updated = await ctx.store.updateAgent(agent.agentId, {
    lastHeartbeatAt: now,
    activeSessions: input.activeSessions,
    counters: input.counters,
  });
  if (updated.state === 'dead') updated = (await ctx.store.transitionAgent(agent.agentId, ['dead'], 'active', now)) ?? updated;
  const commands = await ctx.store.listAgentCommands(agent.agentId);
  return { agent: updated, commands };
}

/** Drain commands use a fixed id per agent, so a repeated drain queues at most one. */
export function drainCommandId(agentId: string): string {
  return `drain-${agentId}`;
}

/**
 * Puts an active agent into `draining` (it takes no new sessions) with a deadline, and queues a
 * `drain` command so the agent itself stops accepting tunnels. Idempotent: an agent already
 * draining keeps its first deadline; a dead or unknown agent is left alone (undefined).
 */
export async function startDrain(
  ctx: NudgeContext,
  agentId: string,
  deadline: number,
): Promise<Agent | undefined> {
  const now = ctx.clock.now();
  const moved = await ctx.store.transitionAgent(agentId, ['active'], 'draining', now);
  if (!moved) {
    const current = await ctx.store.getAgent(agentId);
    return current?.state === 'draining' ? current : undefined;
  }
  const updated = await ctx.store.updateAgent(agentId, { drainDeadline: deadline });
  try {
    await ctx.store.enqueueAgentCommand(agentId, { commandId: drainCommandId(agentId), type: 'drain', deadline, createdAt: now });
  } catch (error) {
    if (!(error instanceof AlreadyExistsError)) throw error;
  }
  await nudgeAgent(ctx, updated);
  return updated;
}

/** Upper bound of an operator drain's deadline: a day, the longest an Auto Scaling lifecycle hook waits. */
export const MAX_DRAIN_SECONDS = 86_400;
/** An operator drain's deadline when none is given: the autoscaler's default drain timeout (one hour). */
export const DEFAULT_DRAIN_SECONDS = 3_600;

/**
 * The operator's drain (POST /v1/agents/{id}/drain): as the autoscaler's, with named refusals.
 * Unknown is 404; revoked (`agent-revoked`) and dead (`agent-dead`) agents hold no sessions to
 * drain, so they are 409. A draining agent keeps its first deadline.
 */
export async function drainAgent(ctx: NudgeContext, agentId: string, deadlineSeconds: number): Promise<Agent> {
  const agent = await ctx.store.getAgent(agentId);
  if (!agent) throw new NotFoundError('agent', agentId);
  if (agent.revoked) throw new ConflictError('agent-revoked', `agent ${agentId} is revoked; it holds no sessions to drain`);
  const drained = agent.state === 'dead' ? undefined : await startDrain(ctx, agentId, ctx.clock.now() + deadlineSeconds * 1000);
  if (!drained) throw new ConflictError('agent-dead', `agent ${agentId} is dead (no heartbeat); it holds no sessions to drain`);
  return drained;
}
