/**
 * Session lifecycle as the broker sees it: start (address + quota), interim accounting, stop, and
 * operator-requested disconnects delivered to the agent as commands.
 */
import { ConflictError, ForbiddenError, NotFoundError, QuotaExceededError } from '../errors';
import { AlreadyExistsError } from './store-errors';
import type { SessionFilter } from './store';
import { parseIpv4 } from '../../../contract/src/ipv4';
import { parsePool, parsePools, PoolExhaustedError, startSessionWithAddress, type ParsedPool } from './ip-allocation';
import { admit, type AdmissionDecision } from './placement/admission';
import { findSessionStartedBy } from './session-id';
import { nudgeAgent, type NudgeContext } from './command-nudge';
import type { ServiceContext } from './service-context';
import type { Agent, AgentCounters, AuthMethod, EndReason, Page, PageRequest, Session, SessionIpsecSa, User } from './types';

/** What a start needs to know of its user. */
type GrantedUser = Pick<User, 'username' | 'staticIp'> & { readonly radiusClass?: readonly string[] };

export interface StartSessionInput {
  readonly agentSessionRef: string;
  readonly tunnelId: number;
  readonly l2tpSessionId: number;
  readonly peerAddress?: string;
  readonly ipsecSa?: SessionIpsecSa;
  readonly tenantId: string;
  readonly username: string;
  readonly authMethod: AuthMethod;
  /** The grant of this user's authentication for this session (auth-grant.ts): required. */
  readonly grant: string;
}

export interface StartedSession {
  readonly session: Session;
  /** The session's pool, parsed: the start reply hands its block to the agent. */
  readonly pool: ParsedPool;
  /** False when this was a retry of a start the broker already recorded. */
  readonly created: boolean;
}

/**
 * Starts a session for a user who has just authenticated: the start must carry the grant that
 * authentication issued for this agent, user, method and agentSessionRef (403 `grant-invalid`
 * otherwise). Idempotent on (agent, agentSessionRef): a retry returns the same session and lease
 * without counting against the quota again, even once its grant has expired.
 */
export async function startSession(
  ctx: Pick<ServiceContext, 'store' | 'clock' | 'grants' | 'leaseHints' | 'accountingKick'>,
  agent: Agent,
  input: StartSessionInput,
): Promise<StartedSession> {
  // A retry is recognised by the start transaction itself (its session-item condition), so the common
  // case, a new session, costs no look-up; only a refusal checks whether this start was already
  // recorded, because a retry must get its session even if it would be refused now (a full pool,
  // a quota reached since). This is the one place that looks a retried start up.
  let started: StartedSession;
  try {
    started = await startNew(ctx, agent, input);
  } catch (error) {
    const refusal = error instanceof ConflictError || error instanceof NotFoundError || error instanceof ForbiddenError || error instanceof PoolExhaustedError;
    if (!refusal) throw error;
    const existing = await findSessionStartedBy(ctx.store, agent.agentId, input.agentSessionRef);
    if (!existing || existing.tenantId !== input.tenantId || existing.username !== input.username) throw error;
    started = { session: existing, pool: await poolOf(ctx, existing), created: false };
  }
  refuseIfEnded(started);
  if (started.created) kickAccounting(ctx, started.session);
  return started;
}

/** Wakes the accounting sender when the change wrote a record (never awaited: the sender is not on this path). */
function kickAccounting(ctx: Pick<ServiceContext, 'accountingKick'>, session: Session): void {
  if (session.accounting) ctx.accountingKick?.();
}

/**
 * A late retry of a start whose session has ended meanwhile (reaped, reconciled, stopped by an
 * operator) is refused: its address may already be re-leased to someone else, so the agent must
 * not bring that link up with it.
 */
function refuseIfEnded({ session, created }: StartedSession): void {
  if (created || session.state !== 'stopped') return;
  throw new ConflictError('session-stopped', `session ${session.sessionId} already ended (${session.endReason ?? 'stopped'}); start a new one`);
}

async function startNew(ctx: Pick<ServiceContext, 'store' | 'clock' | 'grants' | 'leaseHints'>, agent: Agent, input: StartSessionInput): Promise<StartedSession> {
  refuseIfNotAdmitted(admit({ agent, tenant: {}, tenantActive: 0, userActive: 0 }), agent);
  const user = grantedUser(ctx, agent, input);
  if (!user) {
    throw new ForbiddenError(
      `no valid grant for ${input.username}@${input.tenantId}: authenticate the user on this agent for session ${input.agentSessionRef} first`,
      'grant-invalid',
    );
  }
  // Independent reads in one round trip of latency (measured: a setup was 11 sequential calls).
  // Tenant and pools come from the settings cache.
  const [tenant, pools] = await Promise.all([ctx.store.getTenant(input.tenantId), ctx.store.listPools(input.tenantId)]);
  if (!tenant) throw new NotFoundError('tenant', input.tenantId);
  if (!tenant.authMethods.includes(input.authMethod)) {
    throw new ForbiddenError(`method ${input.authMethod} is not allowed for tenant ${tenant.tenantId}`, 'method-not-allowed');
  }

  // Quotas are checked by counting active sessions: not atomic with the start, so starts racing at
  // the limit may each pass (bounded by the number of concurrent starts for that tenant/user; see
  // docs/placement-and-scaling.md). The count self-corrects as sessions end.
  const userActive =
    tenant.maxSessionsPerUser === undefined
      ? 0
      : await countActive(ctx, { tenantId: tenant.tenantId, username: user.username }, tenant.maxSessionsPerUser);
  const tenantActive = tenant.maxSessions === undefined ? 0 : await countActive(ctx, { tenantId: tenant.tenantId }, tenant.maxSessions);
  refuseIfNotAdmitted(admit({ agent, tenant, tenantActive, userActive }), agent, tenant.tenantId, user.username);

  // Each pool is parsed once for the whole start (allocation, agent-network check, reply).
  const parsed = parsePools(pools);
  const { session, created } = await startSessionWithAddress(ctx.store, ctx.clock, {
    tenant,
    user,
    pools: parsed,
    agentId: agent.agentId,
    agentSessionRef: input.agentSessionRef,
    tunnelId: input.tunnelId,
    l2tpSessionId: input.l2tpSessionId,
    ...(input.peerAddress !== undefined ? { peerAddress: input.peerAddress } : {}),
    ...(input.ipsecSa !== undefined ? { ipsecSa: input.ipsecSa } : {}),
    authMethod: input.authMethod,
    ...(ctx.leaseHints ? { hints: ctx.leaseHints } : {}),
    ...(agent.networks ? { agentNetworks: agent.networks } : {}),
  });
  const pool = parsed.find((p) => p.pool.poolId === session.poolId) ?? (await poolOf(ctx, session));
  return { session, pool, created };
}

/**
 * The user as the grant describes it, when the grant is genuine, unexpired and issued to this
 * agent for this very user, method and session; undefined otherwise. Authentication checked
 * `disabled` moments ago; a user disabled since is refused from the next authentication on.
 */
function grantedUser(ctx: Pick<ServiceContext, 'grants' | 'clock'>, agent: Agent, input: StartSessionInput): GrantedUser | undefined {
  const claims = ctx.grants.verify(input.grant, ctx.clock.now());
  const matches =
    claims !== undefined &&
    claims.agentId === agent.agentId &&
    claims.tenantId === input.tenantId &&
    claims.username === input.username &&
    claims.method === input.authMethod &&
    claims.agentSessionRef === input.agentSessionRef;
  if (!matches) return undefined;
  return {
    username: claims.username,
    ...(claims.staticIp !== undefined ? { staticIp: claims.staticIp } : {}),
    ...(claims.radiusClass !== undefined ? { radiusClass: claims.radiusClass } : {}),
  };
}

/** Turns an admission refusal into the API error the agent switches on (409 with a stable code). */
function refuseIfNotAdmitted(decision: AdmissionDecision, agent: Agent, tenantId = '', username = ''): void {
  if (decision.admitted) return;
  const { limit, current } = decision;
  switch (decision.refusal) {
    case 'agent-dead':
      throw new ConflictError('agent-dead', `agent ${agent.agentId} is ${agent.revoked ? 'revoked' : 'dead'} and takes no new sessions`);
    case 'agent-draining':
      throw new ConflictError('agent-draining', `agent ${agent.agentId} is draining and takes no new sessions`);
    case 'agent-full':
      throw new ConflictError('agent-full', `agent ${agent.agentId} is at capacity (${current}/${limit})`);
    case 'user-session-limit':
      throw new QuotaExceededError(`user ${username} already has ${current} active sessions (limit ${limit})`, 'maxSessionsPerUser');
    case 'tenant-quota':
      throw new QuotaExceededError(`tenant ${tenantId} already has ${current} active sessions (limit ${limit})`, 'maxSessions');
  }
}

async function poolOf(ctx: Pick<ServiceContext, 'store'>, session: Session): Promise<ParsedPool> {
  const stored = await ctx.store.getPool(session.tenantId, session.poolId);
  const pool = stored && parsePool(stored);
  if (!pool) throw new NotFoundError('pool', session.poolId);
  return pool;
}

/** Counts active sessions matching `filter`, stopping as soon as `atLeast` is reached. */
async function countActive(ctx: Pick<ServiceContext, 'store'>, filter: SessionFilter, atLeast: number): Promise<number> {
  let count = 0;
  let cursor: string | undefined;
  do {
    const page = await ctx.store.listSessions({ ...filter, state: 'active' }, { limit: 100, ...(cursor ? { cursor } : {}) });
    count += page.items.length;
    cursor = page.cursor;
  } while (cursor !== undefined && count < atLeast);
  return count;
}

/** A session of this agent, or NotFound (an agent never sees another agent's sessions). */
async function agentSession(ctx: Pick<ServiceContext, 'store'>, agent: Agent, sessionId: string): Promise<Session> {
  const session = await ctx.store.getSession(sessionId);
  if (!session || session.agentId !== agent.agentId) throw new NotFoundError('session', sessionId);
  return session;
}

/** Interim accounting: cumulative counters; lower or repeated values never move them back. */
export async function reportInterim(
  ctx: Pick<ServiceContext, 'store' | 'clock' | 'accountingKick'>,
  agent: Agent,
  sessionId: string,
  counters: AgentCounters,
): Promise<Session> {
  const before = await agentSession(ctx, agent, sessionId);
  const updated = await ctx.store.updateSessionCounters(sessionId, counters, ctx.clock.now());
  if (!updated) throw new NotFoundError('session', sessionId);
  if (updated.accounting?.lastInterimAt !== before.accounting?.lastInterimAt) kickAccounting(ctx, updated);
  return updated;
}

/** Stops a session once; a repeated stop returns the stopped session unchanged. */
export async function stopSession(
  ctx: Pick<ServiceContext, 'store' | 'clock' | 'leaseHints' | 'accountingKick'>,
  agent: Agent,
  sessionId: string,
  stop: { reason: EndReason; counters?: AgentCounters },
): Promise<Session> {
  const current = await agentSession(ctx, agent, sessionId);
  const stopped = await ctx.store.stopSession(sessionId, {
    reason: recordedReason(current, stop.reason),
    at: ctx.clock.now(),
    ...(stop.counters ? { counters: stop.counters } : {}),
    current,
  });
  if (!stopped) throw new NotFoundError('session', sessionId);
  if (current.state === 'active') kickAccounting(ctx, stopped);
  const address = parseIpv4(stopped.assignedIp);
  if (address !== undefined) ctx.leaseHints?.released(stopped, address);
  return stopped;
}

/**
 * The end reason a stop records: the agent reports `admin-disconnect` for every disconnect the
 * broker asked for, and the broker knows why it asked (the user deleted or disabled, the tenant
 * deleted: `disconnectReason`).
 */
export function recordedReason(session: Session, reported: EndReason): EndReason {
  return reported === 'admin-disconnect' && session.disconnectReason !== undefined ? session.disconnectReason : reported;
}

/** Commands for one session use a fixed id, so repeated DELETEs queue at most one. */
export function disconnectCommandId(sessionId: string): string {
  return `disconnect-${sessionId}`;
}

/**
 * Operator disconnect: marks the session, queues `disconnect-session` for its agent and nudges the
 * agent to fetch it now (command-nudge.ts; its next heartbeat is the fallback); the agent tears the
 * PPP/L2TP session down and reports the stop with reason `admin-disconnect`, which confirms it (and
 * is recorded as `reason` when one is given: recordedReason). Every disconnect the broker asks for
 * (a DELETE of the session, a user deleted or disabled, a tenant deleted) goes this one way.
 */
export async function requestDisconnect(ctx: NudgeContext, session: Session, reason?: EndReason): Promise<Session> {
  if (session.state !== 'active') throw new ConflictError('session-stopped', `session ${session.sessionId} is already stopped`);
  const now = ctx.clock.now();
  const marked = (await ctx.store.markDisconnectRequested(session.sessionId, now, reason)) ?? session;
  try {
    await ctx.store.enqueueAgentCommand(session.agentId, {
      commandId: disconnectCommandId(session.sessionId),
      type: 'disconnect-session',
      sessionId: session.sessionId,
      createdAt: now,
    });
  } catch (error) {
    if (!(error instanceof AlreadyExistsError)) throw error;
  }
  // Also on a repeated DELETE: the first nudge may have been lost.
  await nudgeAgent(ctx, session.agentId);
  return marked;
}

/**
 * When the agent confirmed a disconnect the broker asked for: the time of its stop report with
 * reason `admin-disconnect` (the agent reports that reason only when it carried out the command),
 * recorded as the broker's `disconnectReason` when there was one. Other ends (the user hung up
 * first, the agent was lost, the reaper) leave it undefined.
 */
export function disconnectConfirmedAt(session: Pick<Session, 'disconnectRequestedAt' | 'disconnectReason' | 'endReason' | 'stoppedAt'>): number | undefined {
  if (session.disconnectRequestedAt === undefined || session.endReason === undefined) return undefined;
  // A disconnect the broker asked for with a reason is recorded with that reason (recordedReason).
  const asked = session.endReason === 'admin-disconnect' || session.endReason === session.disconnectReason;
  return asked ? session.stoppedAt : undefined;
}

/**
 * Asks the agents to end every active session matching `filter` (a user's, a tenant's), each
 * recorded with `reason`. Returns how many were asked. A session that ends meanwhile is skipped.
 */
export async function disconnectActive(ctx: NudgeContext, filter: SessionFilter, reason: EndReason): Promise<number> {
  let asked = 0;
  let cursor: string | undefined;
  do {
    const page = await ctx.store.listSessions({ ...filter, state: 'active' }, { limit: 100, ...(cursor ? { cursor } : {}) });
    for (const session of page.items) {
      try {
        await requestDisconnect(ctx, session, reason);
        asked++;
      } catch (error) {
        if (!(error instanceof ConflictError)) throw error;
      }
    }
    cursor = page.cursor;
  } while (cursor !== undefined);
  return asked;
}

export function listSessions(ctx: Pick<ServiceContext, 'store'>, filter: SessionFilter, page: PageRequest): Promise<Page<Session>> {
  return ctx.store.listSessions(filter, page);
}
