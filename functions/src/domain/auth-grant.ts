/**
 * Auth grants: the proof a session start must carry that its user authenticated a moment ago. A
 * successful authentication issues one; the start refuses to run without a valid one
 * (sessions-service.ts), and takes the user's state from it instead of reading the user again.
 *
 * A grant is `<keyId>.<payload>.<mac>`: base64url JSON claims and an HMAC-SHA256 over
 * `<keyId>.<payload>` with a key derived (HKDF) from the broker's data key of that id, so every
 * broker instance verifies what any other issued, and data-key rotation keeps older grants valid
 * while their key is still configured. A grant is bound to the agent, the tenant and user, the
 * method and the agent's reference of the one session it may start (`agentSessionRef`), and lives
 * GRANT_LIFETIME_MS. Since a session id is derived from (agent, agentSessionRef) and a start is
 * idempotent on it, one grant starts one session: a retry of that start is the same session, and
 * any other start needs another authentication.
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { AuthMethod, DataKey } from './types';

export interface GrantClaims {
  readonly agentId: string;
  readonly tenantId: string;
  readonly username: string;
  readonly method: AuthMethod;
  /** The agent's reference of the one session this grant may start. */
  readonly agentSessionRef: string;
  /** The user's fixed address, if any, as read at authentication. */
  readonly staticIp?: string;
  /** RADIUS Class attributes (base64) from the Access-Accept, kept with the session for accounting. */
  readonly radiusClass?: readonly string[];
  /** Milliseconds since the epoch. */
  readonly expiresAt: number;
}

export interface AuthGrants {
  issue(claims: Omit<GrantClaims, 'expiresAt'>, now: number): string;
  /** The claims of a genuine, unexpired grant, else undefined. */
  verify(grant: string, now: number): GrantClaims | undefined;
}

/** Long enough for the agent's start right after authentication (a retry after that finds its session). */
export const GRANT_LIFETIME_MS = 60_000;

export function createAuthGrants(dataKeys: readonly DataKey[]): AuthGrants {
  const macKeys = new Map(
    dataKeys.map((k) => [k.keyId, Buffer.from(hkdfSync('sha256', Buffer.from(k.keyBase64, 'base64'), Buffer.alloc(0), 'tunnel-broker auth grant v1', 32))]),
  );
  const signingKeyId = dataKeys[0]?.keyId;
  const mac = (key: Buffer, signed: string) => createHmac('sha256', key).update(signed).digest();

  return {
    issue(claims, now) {
      const key = signingKeyId === undefined ? undefined : macKeys.get(signingKeyId);
      if (key === undefined || signingKeyId === undefined) throw new Error('no data key to sign auth grants with');
      const payload = Buffer.from(JSON.stringify({ ...claims, expiresAt: now + GRANT_LIFETIME_MS })).toString('base64url');
      const signed = `${signingKeyId}.${payload}`;
      return `${signed}.${mac(key, signed).toString('base64url')}`;
    },
    verify(grant, now) {
      const [keyId, payload, tag, extra] = grant.split('.');
      if (keyId === undefined || payload === undefined || tag === undefined || extra !== undefined) return undefined;
      const key = macKeys.get(keyId);
      if (key === undefined) return undefined;
      const expected = mac(key, `${keyId}.${payload}`);
      const presented = Buffer.from(tag, 'base64url');
      if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) return undefined;
      const claims = parseClaims(payload);
      return claims !== undefined && claims.expiresAt > now ? claims : undefined;
    },
  };
}

function parseClaims(payload: string): GrantClaims | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    if (typeof value !== 'object' || value === null) return undefined;
    const c = value as Record<string, unknown>;
    const strings = [c.agentId, c.tenantId, c.username, c.method, c.agentSessionRef].every((v) => typeof v === 'string');
    if (!strings || typeof c.expiresAt !== 'number' || (c.staticIp !== undefined && typeof c.staticIp !== 'string')) return undefined;
    if (c.radiusClass !== undefined && !(Array.isArray(c.radiusClass) && c.radiusClass.every((v) => typeof v === 'string'))) return undefined;
    return value as GrantClaims;
  } catch {
    return undefined; // only our own MAC-checked payloads get here; belt and braces
  }
}
