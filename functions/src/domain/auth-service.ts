/**
 * PPP authentication on behalf of an edge agent. The agent relays what the peer sent (RFC 1334 PAP,
 * RFC 1994 CHAP-MD5, RFC 2759 MS-CHAPv2) with the client's source address; the broker holds the
 * credentials and decides.
 *
 * Guessing protection (auth-throttle.ts, docs/security.md): the (user, source) pair and the agent
 * are read before verifying; a waiting pair is refused unverified and uncounted. A verified
 * failure counts on the pair, the agent's minute and the user item. The account-wide lock exists
 * only where the operator enables it, and needs failures from several source addresses.
 *
 * A user that does not exist costs the same store work as one that does: the same reads (one
 * batch), a verification against a stand-in credential, and the same four writes (the user
 * update's condition fails for a missing user), so neither the answer time nor the store calls
 * tell whether a name exists.
 */
import { agentFailureRate, agentWindowKey, AGENT_WINDOW_MS, livePair, PAIR_FORGET_MS, pairKey, pairThreshold, pairWaitsUntil, throttleSource, windowOf } from './auth-throttle';
import {
  chapSecretOf,
  InvalidAuthInputError,
  InvalidPppUsernameError,
  lookupNames,
  ntHashOf,
  parsePppUsername,
  resealedCredentials,
  verifyPap,
  type CredentialOwner,
} from './ppp-auth';
import { verifyChapMd5, verifyMsChapV2 } from '../../../contract/src/ppp-auth';
import type { AuthFailureReason } from '../../../contract/src/values';
import type { AuthRequest } from './auth-request';
import type { ServiceContext } from './service-context';
import type { AuthMethod, AuthThrottle, Tenant, User } from './types';
import { isInPool } from './ip-allocation/pool-addresses';
import { authSourceOf } from './radius-auth/auth-source';
import { verifyWithRadius } from './radius-auth/radius-verify';

export type { AuthRequest } from './auth-request';

export type AuthResult =
  | {
      readonly ok: true;
      readonly tenantId: string;
      readonly username: string;
      readonly authenticatorResponse?: string;
      /** RADIUS Session-Timeout / Idle-Timeout, enforced by the agent. */
      readonly sessionTimeoutSeconds?: number;
      readonly idleTimeoutSeconds?: number;
      /** Present it when starting this session (see auth-grant.ts). */
      readonly grant: string;
    }
  | { readonly ok: false; readonly reason: AuthFailureReason; readonly retryable: boolean; readonly lockedUntil?: number };

/** Account locks never last longer than this, however many came before. */
export const MAX_ACCOUNT_LOCK_MS = 24 * 3_600_000;
/** Source addresses kept on a user item for the account lock. */
export const AUTH_SOURCES_KEPT = 16;

/** What an authentication reads, started together so they go out as one batch. */
export interface AuthReads {
  /** Which request these reads are for (tenant, names, source, agent, minute). */
  readonly signature: string;
  readonly tenant: Promise<Tenant | undefined>;
  /** The user under each looked-up name, in order. */
  readonly users: Promise<(User | undefined)[]>;
  readonly pair: Promise<AuthThrottle | undefined>;
  readonly agentNow: Promise<AuthThrottle | undefined>;
  readonly agentBefore: Promise<AuthThrottle | undefined>;
}

interface Plan {
  readonly tenantId: string;
  /** The canonical name, then the name as sent when it differs (users stored before canonical names). */
  readonly names: readonly string[];
  readonly source: string;
  readonly pairKey: string;
  readonly window: number;
  readonly signature: string;
}

function plan(username: string, peerAddress: string | undefined, agentId: string, now: number): Plan | AuthFailureReason {
  let parsed;
  try {
    parsed = parsePppUsername(username);
  } catch (error) {
    if (error instanceof InvalidPppUsernameError) return 'malformed-username';
    throw error;
  }
  if (parsed.tenantId === undefined) return 'unknown-tenant';
  const names = lookupNames(parsed.username);
  const source = throttleSource(peerAddress, agentId);
  const window = windowOf(now);
  const key = pairKey(parsed.tenantId, names[0]!, source);
  return { tenantId: parsed.tenantId, names, source, pairKey: key, window, signature: JSON.stringify([agentId, key, names, window]) };
}

function startReads(ctx: Pick<ServiceContext, 'store'>, p: Plan, agentId: string): AuthReads {
  const reads: AuthReads = {
    signature: p.signature,
    tenant: ctx.store.getTenant(p.tenantId),
    users: Promise.all(p.names.map((n) => ctx.store.getUser(p.tenantId, n))),
    pair: ctx.store.getAuthThrottle(p.pairKey),
    agentNow: ctx.store.getAuthThrottle(agentWindowKey(agentId, p.window)),
    agentBefore: ctx.store.getAuthThrottle(agentWindowKey(agentId, p.window - 1)),
  };
  // Nobody may await them (the agent's credential was refused): not unhandled rejections.
  for (const read of [reads.tenant, reads.users, reads.pair, reads.agentNow, reads.agentBefore]) read.catch(() => undefined);
  return reads;
}

/**
 * Starts the reads an authentication will need, before the caller's credential is verified (the
 * store sends them with that check as one batch). `agentId` is only the claimed one: the result
 * is used only by `authenticate` for that same, verified agent.
 */
export function readAuthAhead(
  ctx: Pick<ServiceContext, 'store' | 'clock'>,
  body: { username?: unknown; peerAddress?: unknown },
  agentId: string,
): AuthReads | undefined {
  if (typeof body.username !== 'string') return undefined;
  const p = plan(body.username, typeof body.peerAddress === 'string' ? body.peerAddress : undefined, agentId, ctx.clock.now());
  return typeof p === 'string' ? undefined : startReads(ctx, p, agentId);
}

/** Verifies one PPP authentication for `agentId`. Never throws for a wrong answer, only for store faults. */
export async function authenticate(ctx: ServiceContext, agentId: string, request: AuthRequest, ahead?: AuthReads): Promise<AuthResult> {
  const now = ctx.clock.now();
  const p = plan(request.username, request.peerAddress, agentId, now);
  if (typeof p === 'string') return fail(p); // no tenant to look in: nothing to read or count
  const reads = ahead?.signature === p.signature ? ahead : startReads(ctx, p, agentId);
  const [tenant, users, pair, agentNow, agentBefore] = await Promise.all([reads.tenant, reads.users, reads.pair, reads.agentNow, reads.agentBefore]);
  const user = users.find((u) => u !== undefined);

  const policy = ctx.config.authThrottle;
  const waitUntil = pairWaitsUntil(pair, pairThreshold(policy, agentFailureRate(agentNow, agentBefore, now)), policy, now);
  if (waitUntil !== undefined) return { ok: false, reason: 'throttled', retryable: true, lockedUntil: waitUntil };

  const failure = (reason: AuthFailureReason, lockedUntil?: number) =>
    recordFailure(ctx, { agentId, plan: p, tenantId: p.tenantId, user, method: request.method, reason, pair, now, lockedUntil });

  // A missing tenant or user goes through a verification too, against a stand-in credential.
  const subject = tenant && user ? user : undefined;
  if (subject && !tenant!.authMethods.includes(request.method)) return failure('method-not-allowed');
  if (subject?.disabled) return failure('user-disabled');
  if (subject?.lockedUntil !== undefined && subject.lockedUntil > now) {
    // Counted too (operators see attempts made during the lock); the lock itself is not extended.
    return failure('locked', subject.lockedUntil);
  }

  const source = tenant ? authSourceOf(tenant) : undefined;
  if (source?.kind === 'radius') {
    return authenticateWithRadius(ctx, { agentId, request, plan: p, tenant: tenant!, source, user: subject, pair, now, failure });
  }

  let verdict: Verdict;
  try {
    verdict = await verify(ctx, subject, request);
  } catch (error) {
    // A malformed challenge/response is the agent's fault, not a guess: not counted.
    if (error instanceof InvalidAuthInputError) return fail('malformed-request');
    throw error;
  }
  if (!subject) return failure(tenant ? 'unknown-user' : 'unknown-tenant');
  if (!verdict.ok) return verdict.reason === 'bad-credentials' ? failure('bad-credentials') : fail(verdict.reason);

  await afterSuccess(ctx, subject, p, pair);
  const claims = {
    agentId,
    tenantId: subject.tenantId,
    username: subject.username,
    method: request.method,
    agentSessionRef: request.agentSessionRef,
    ...(subject.staticIp !== undefined ? { staticIp: subject.staticIp } : {}),
  };
  return {
    ok: true,
    tenantId: subject.tenantId,
    username: subject.username,
    ...(verdict.authenticatorResponse !== undefined ? { authenticatorResponse: verdict.authenticatorResponse } : {}),
    grant: ctx.grants.issue(claims, now),
  };
}

interface RadiusAuth {
  readonly agentId: string;
  readonly request: AuthRequest;
  readonly plan: Plan;
  readonly tenant: Tenant;
  readonly source: Extract<ReturnType<typeof authSourceOf>, { kind: 'radius' }>;
  /** A local user of that name, if any: its disabled flag and lock still apply. */
  readonly user: User | undefined;
  readonly pair: AuthThrottle | undefined;
  readonly now: number;
  readonly failure: (reason: AuthFailureReason, lockedUntil?: number) => Promise<AuthResult>;
}

/**
 * A RADIUS tenant's authentication (docs/radius.md). Access-Reject counts like a wrong local
 * password (pair, agent, and the local user's item when there is one); a server that does not
 * answer, or answers falsely, is an outage: shown in auth-events as `outage`, never counted.
 */
async function authenticateWithRadius(ctx: ServiceContext, a: RadiusAuth): Promise<AuthResult> {
  const { request, plan: p } = a;
  const userName = a.source.userName === 'without-realm' ? parsePppUsername(request.username).username : request.username;
  const outage = async (reason: 'radius-unavailable' | 'radius-refused' | 'radius-bad-answer'): Promise<AuthResult> => {
    await ctx.store.recordAuthEvent({
      tenantId: p.tenantId,
      username: a.user?.username ?? p.names[0]!,
      at: a.now,
      kind: 'outage',
      method: request.method,
      reason,
      agentId: a.agentId,
      source: p.source,
      expiresAt: a.now + ctx.config.authEventTtlMs,
    });
    return { ok: false, reason, retryable: reason === 'radius-unavailable' };
  };
  // A user known only to the servers has no local item: the tenant's methods are checked here too.
  if (!a.tenant.authMethods.includes(request.method)) return a.failure('method-not-allowed');
  if (!ctx.radius) return outage('radius-unavailable');
  const verdict = await verifyWithRadius(
    { radius: ctx.radius, secretBox: ctx.secretBox, random: ctx.random, nas: ctx.config.radiusNas ?? { identifier: 'tunnel-broker' } },
    a.tenant.tenantId,
    a.source,
    request,
    userName,
  );
  switch (verdict.kind) {
    case 'malformed':
      return fail('malformed-request');
    case 'unavailable':
      return outage('radius-unavailable');
    case 'refused':
      return outage('radius-refused');
    case 'bad-answer':
      return outage('radius-bad-answer');
    case 'reject':
      return a.failure(verdict.disabled ? 'user-disabled' : 'bad-credentials');
    case 'accept':
      break;
  }
  const { grant } = verdict;
  if (grant.framedIp !== undefined) {
    const pools = await ctx.store.listPools(a.tenant.tenantId);
    if (!pools.some((pool) => isInPool(pool, grant.framedIp!))) return fail('framed-address-outside-pool');
  }
  if (a.user) await afterSuccess(ctx, a.user, p, a.pair);
  else if (a.pair) await ctx.store.deleteAuthThrottle(p.pairKey);
  const username = a.user?.username ?? p.names[0]!;
  const staticIp = grant.framedIp ?? a.user?.staticIp;
  const claims = {
    agentId: a.agentId,
    tenantId: a.tenant.tenantId,
    username,
    method: request.method,
    agentSessionRef: request.agentSessionRef,
    ...(staticIp !== undefined ? { staticIp } : {}),
    ...(grant.classes !== undefined ? { radiusClass: grant.classes } : {}),
  };
  return {
    ok: true,
    tenantId: a.tenant.tenantId,
    username,
    ...(grant.authenticatorResponse !== undefined ? { authenticatorResponse: grant.authenticatorResponse } : {}),
    ...(grant.sessionTimeoutSeconds !== undefined ? { sessionTimeoutSeconds: grant.sessionTimeoutSeconds } : {}),
    ...(grant.idleTimeoutSeconds !== undefined ? { idleTimeoutSeconds: grant.idleTimeoutSeconds } : {}),
    grant: ctx.grants.issue(claims, a.now),
  };
}

/** Clears what failures left behind, and re-seals credentials stored before sealing. */
async function afterSuccess(ctx: ServiceContext, user: User, p: Plan, pair: AuthThrottle | undefined): Promise<void> {
  const owner = { tenantId: user.tenantId, username: user.username };
  const resealed = resealedCredentials(user.credentials, owner, ctx.secretBox);
  const dirty = user.failedAttempts > 0 || user.lockedUntil !== undefined || (user.failureSources?.length ?? 0) > 0 || user.lockCount !== undefined;
  await Promise.all([
    dirty ? ctx.store.clearAuthFailures(user.tenantId, user.username) : undefined,
    pair ? ctx.store.deleteAuthThrottle(p.pairKey) : undefined,
    resealed ? ctx.store.replaceUserCredentials(user.tenantId, user.username, resealed, user.credentials) : undefined,
  ]);
}

type Verdict = { ok: true; authenticatorResponse?: string } | { ok: false; reason: AuthFailureReason };

/** Stands in for a missing user, so a wrong name costs what a wrong password does. */
const STAND_IN_NT_HASH = Buffer.alloc(16, 0x5a);
const STAND_IN_SECRET = Buffer.alloc(16, 0x5a);

async function verify(ctx: ServiceContext, user: User | undefined, request: AuthRequest): Promise<Verdict> {
  const owner: CredentialOwner | undefined = user ? { tenantId: user.tenantId, username: user.username } : undefined;
  const ntHash = () => (user && owner ? ntHashOf(user.credentials, owner, ctx.secretBox) : STAND_IN_NT_HASH);
  switch (request.method) {
    case 'pap':
      return (await verifyPap(ntHash(), request.password)) ? { ok: true } : { ok: false, reason: 'bad-credentials' };
    case 'chap-md5': {
      const secret = user && owner ? chapSecretOf(user.credentials, owner, ctx.secretBox) : STAND_IN_SECRET;
      if (secret === undefined) return { ok: false, reason: 'chap-secret-unavailable' };
      const ok = verifyChapMd5({ id: request.id, secret, challenge: request.challenge, response: request.response });
      return ok ? { ok: true } : { ok: false, reason: 'bad-credentials' };
    }
    case 'mschapv2': {
      // RFC 2759 §8.2: the hash covers the Name as the peer sent it (verifyMsChapV2 strips DOMAIN\ itself).
      const result = await verifyMsChapV2({
        ntHash: ntHash(),
        authenticatorChallenge: request.authenticatorChallenge,
        peerChallenge: request.peerChallenge,
        ntResponse: request.ntResponse,
        username: request.username,
      });
      return result.ok ? { ok: true, authenticatorResponse: result.authenticatorResponse } : { ok: false, reason: 'bad-credentials' };
    }
  }
}

interface FailureInput {
  readonly agentId: string;
  readonly plan: Plan;
  readonly tenantId: string;
  readonly user: User | undefined;
  readonly method: AuthMethod;
  readonly reason: AuthFailureReason;
  readonly pair: AuthThrottle | undefined;
  readonly now: number;
  /** The account lock in force (reason `locked`): reported, not extended. */
  readonly lockedUntil?: number;
}

async function recordFailure(ctx: ServiceContext, f: FailureInput): Promise<AuthResult> {
  const { lockout } = ctx.config;
  const user = f.user;
  const sources = new Set(user?.failureSources ?? []);
  const newSource = user !== undefined && !sources.has(f.plan.source) && sources.size < AUTH_SOURCES_KEPT;
  sources.add(f.plan.source);
  // The account-wide lock: enabled by the operator, and never from one source address alone.
  const locks =
    user !== undefined &&
    f.lockedUntil === undefined &&
    lockout.sources >= 2 &&
    user.failedAttempts + 1 >= lockout.threshold &&
    sources.size >= lockout.sources;
  const lockUntil = locks ? f.now + Math.min(MAX_ACCOUNT_LOCK_MS, lockout.durationMs * 2 ** Math.min(user!.lockCount ?? 0, 20)) : undefined;
  await ctx.store.recordAuthFailure({
    event: {
      tenantId: f.tenantId,
      username: user?.username ?? f.plan.names[0]!,
      at: f.now,
      kind: locks ? 'locked' : 'failure',
      method: f.method,
      reason: f.reason,
      agentId: f.agentId,
      source: f.plan.source,
      expiresAt: f.now + ctx.config.authEventTtlMs,
    },
    user: { ...(newSource ? { addSource: f.plan.source } : {}), ...(lockUntil !== undefined ? { lockUntil } : {}) },
    throttles: [
      { key: f.plan.pairKey, reset: livePair(f.pair, f.now) === undefined, expiresAt: f.now + PAIR_FORGET_MS },
      { key: agentWindowKey(f.agentId, f.plan.window), reset: false, expiresAt: (f.plan.window + 2) * AGENT_WINDOW_MS },
    ],
  });
  const lockedUntil = lockUntil ?? f.lockedUntil;
  return { ok: false, reason: f.reason, retryable: f.reason === 'locked', ...(lockedUntil !== undefined ? { lockedUntil } : {}) };
}

function fail(reason: AuthFailureReason): AuthResult {
  return { ok: false, reason, retryable: false };
}
