/**
 * PPP authentication on behalf of an edge agent. The agent relays what the peer sent (RFC 1334 PAP,
 * RFC 1994 CHAP-MD5, RFC 2759 MS-CHAPv2); the broker holds the credentials and decides.
 *
 * Brute-force protection: every failure against an existing user is counted atomically
 * (store.recordAuthFailure); the failure that reaches the threshold locks the user until
 * now + lockout duration, and while locked even correct credentials are refused with `locked`.
 * A success clears the counter. After a lock expires, the counter is still at the threshold, so
 * the next failure locks again at once (only a success resets it).
 */
import {
  chapSecretOf,
  InvalidAuthInputError,
  InvalidPppUsernameError,
  parsePppUsername,
  verifyChapMd5,
  verifyMsChapV2,
  verifyPap,
} from './ppp-auth';
import type { ServiceContext } from './service-context';
import type { AuthEvent, AuthMethod, User } from './types';

export type AuthRequest =
  | { readonly method: 'pap'; readonly username: string; readonly password: string }
  | { readonly method: 'chap-md5'; readonly username: string; readonly id: number; readonly challenge: string; readonly response: string }
  | {
      readonly method: 'mschapv2';
      readonly username: string;
      readonly authenticatorChallenge: string;
      readonly peerChallenge: string;
      readonly ntResponse: string;
    };

export const AUTH_FAILURE_REASONS = [
  'malformed-username',
  'unknown-tenant',
  'unknown-user',
  'method-not-allowed',
  'user-disabled',
  'locked',
  'bad-credentials',
  'malformed-request',
  'chap-secret-unavailable',
] as const;
export type AuthFailureReason = (typeof AUTH_FAILURE_REASONS)[number];

export type AuthResult =
  | {
      readonly ok: true;
      readonly tenantId: string;
      readonly username: string;
      readonly authenticatorResponse?: string;
      /** Present it when starting this user's session (see auth-grant.ts). */
      readonly grant: string;
    }
  | { readonly ok: false; readonly reason: AuthFailureReason; readonly retryable: boolean; readonly lockedUntil?: number };

/** A user read started early (before the agent's credential was verified), for `authenticate`. */
export interface UserReadAhead {
  readonly tenantId: string;
  readonly username: string;
  readonly user: Promise<User | undefined>;
}

/**
 * Starts reading the user a PPP username names, or undefined when it names none. The result is
 * looked at only by `authenticate`, after the caller's credential was checked; a failed read is
 * reported there, not here.
 */
export function readUserAhead(ctx: Pick<ServiceContext, 'store'>, pppUsername: string): UserReadAhead | undefined {
  let parsed;
  try {
    parsed = parsePppUsername(pppUsername);
  } catch {
    return undefined;
  }
  if (parsed.tenantId === undefined) return undefined;
  const user = ctx.store.getUser(parsed.tenantId, parsed.username);
  user.catch(() => undefined); // nobody may await it (the credential was refused): not an unhandled rejection
  return { tenantId: parsed.tenantId, username: parsed.username, user };
}

/** Verifies one PPP authentication for `agentId`. Never throws for a wrong answer, only for store faults. */
export async function authenticate(ctx: ServiceContext, agentId: string, request: AuthRequest, ahead?: UserReadAhead): Promise<AuthResult> {
  let parsed;
  try {
    parsed = parsePppUsername(request.username);
  } catch (error) {
    if (error instanceof InvalidPppUsernameError) return fail('malformed-username');
    throw error;
  }
  if (parsed.tenantId === undefined) return fail('unknown-tenant');
  // Both reads at once: one round trip of latency instead of two (the realm names the tenant).
  const early = ahead?.tenantId === parsed.tenantId && ahead.username === parsed.username ? ahead.user : undefined;
  const [tenant, user] = await Promise.all([ctx.store.getTenant(parsed.tenantId), early ?? ctx.store.getUser(parsed.tenantId, parsed.username)]);
  if (!tenant) return fail('unknown-tenant');
  if (!user) return fail('unknown-user');

  const now = ctx.clock.now();
  const record = (reason: AuthFailureReason) => recordFailure(ctx, agentId, user, request.method, reason, now);

  if (!tenant.authMethods.includes(request.method)) return record('method-not-allowed');
  if (user.disabled) return record('user-disabled');
  if (user.lockedUntil !== undefined && user.lockedUntil > now) {
    // Counted too, so operators see attempts made during the lock; the lock itself is not extended.
    await ctx.store.recordAuthFailure(event(ctx, agentId, user, request.method, 'failure', 'locked', now));
    return { ok: false, reason: 'locked', retryable: true, lockedUntil: user.lockedUntil };
  }

  let verdict: { ok: true; authenticatorResponse?: string } | { ok: false; reason: AuthFailureReason };
  try {
    verdict = await verify(ctx, user, request);
  } catch (error) {
    // A malformed challenge/response is the agent's fault, not a guess: not counted.
    if (error instanceof InvalidAuthInputError) return fail('malformed-request');
    throw error;
  }
  if (!verdict.ok) {
    return verdict.reason === 'bad-credentials' ? record('bad-credentials') : fail(verdict.reason);
  }
  if (user.failedAttempts > 0 || user.lockedUntil !== undefined) {
    await ctx.store.clearAuthFailures(user.tenantId, user.username);
  }
  const claims = {
    agentId,
    tenantId: user.tenantId,
    username: user.username,
    method: request.method,
    ...(user.staticIp !== undefined ? { staticIp: user.staticIp } : {}),
  };
  return {
    ok: true,
    tenantId: user.tenantId,
    username: user.username,
    ...(verdict.authenticatorResponse !== undefined ? { authenticatorResponse: verdict.authenticatorResponse } : {}),
    grant: ctx.grants.issue(claims, now),
  };
}

async function verify(
  ctx: ServiceContext,
  user: User,
  request: AuthRequest,
): Promise<{ ok: true; authenticatorResponse?: string } | { ok: false; reason: AuthFailureReason }> {
  const ntHash = user.credentials.ntHash;
  switch (request.method) {
    case 'pap':
      return (await verifyPap(ntHash, request.password)) ? { ok: true } : { ok: false, reason: 'bad-credentials' };
    case 'chap-md5': {
      const secret = chapSecretOf(user.credentials, ctx.secretBox);
      if (secret === undefined) return { ok: false, reason: 'chap-secret-unavailable' };
      const ok = verifyChapMd5({ id: request.id, secret, challenge: request.challenge, response: request.response });
      return ok ? { ok: true } : { ok: false, reason: 'bad-credentials' };
    }
    case 'mschapv2': {
      // RFC 2759 §8.2: the hash covers the Name as the peer sent it (verifyMsChapV2 strips DOMAIN\ itself).
      const result = await verifyMsChapV2({
        ntHash,
        authenticatorChallenge: request.authenticatorChallenge,
        peerChallenge: request.peerChallenge,
        ntResponse: request.ntResponse,
        username: request.username,
      });
      return result.ok ? { ok: true, authenticatorResponse: result.authenticatorResponse } : { ok: false, reason: 'bad-credentials' };
    }
  }
}

async function recordFailure(
  ctx: ServiceContext,
  agentId: string,
  user: User,
  method: AuthMethod,
  reason: AuthFailureReason,
  now: number,
): Promise<AuthResult> {
  const { threshold, durationMs } = ctx.config.lockout;
  const locks = user.failedAttempts + 1 >= threshold;
  const lockUntil = locks ? now + durationMs : undefined;
  await ctx.store.recordAuthFailure(event(ctx, agentId, user, method, locks ? 'locked' : 'failure', reason, now), lockUntil);
  return { ok: false, reason, retryable: false, ...(lockUntil !== undefined ? { lockedUntil: lockUntil } : {}) };
}

function event(
  ctx: ServiceContext,
  agentId: string,
  user: User,
  method: AuthMethod,
  kind: AuthEvent['kind'],
  reason: string,
  at: number,
): AuthEvent {
  return { tenantId: user.tenantId, username: user.username, at, kind, method, reason, agentId, expiresAt: at + ctx.config.authEventTtlMs };
}

function fail(reason: AuthFailureReason): AuthResult {
  return { ok: false, reason, retryable: false };
}
