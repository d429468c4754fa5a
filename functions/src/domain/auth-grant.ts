/**
 * Auth grants: what a successful authentication hands the agent to present when it starts the
 * session a moment later, so the start need not read the user record again (one store read fewer
 * per setup, measured as a sequential round trip in the control-plane benchmark).
 *
 * A grant is `<keyId>.<payload>.<mac>`: base64url JSON claims and an HMAC-SHA256 over
 * `<keyId>.<payload>` with a key derived (HKDF) from the broker's data key of that id, so every
 * broker instance verifies what any other issued, and data-key rotation keeps older grants valid
 * while their key is still configured. Grants are short-lived and bound to the agent. An invalid,
 * expired or foreign grant is not an error: the start simply reads the user as without one.
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { DataKey } from '../config';
import type { AuthMethod } from './types';

export interface GrantClaims {
  readonly agentId: string;
  readonly tenantId: string;
  readonly username: string;
  readonly method: AuthMethod;
  /** The user's fixed address, if any, as read at authentication. */
  readonly staticIp?: string;
  /** Milliseconds since the epoch. */
  readonly expiresAt: number;
}

export interface AuthGrants {
  issue(claims: Omit<GrantClaims, 'expiresAt'>, now: number): string;
  /** The claims of a genuine, unexpired grant, else undefined. */
  verify(grant: string, now: number): GrantClaims | undefined;
}

/** Long enough for the agent's start right after authentication, including its retries. */
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
    const strings = [c.agentId, c.tenantId, c.username, c.method].every((v) => typeof v === 'string');
    if (!strings || typeof c.expiresAt !== 'number' || (c.staticIp !== undefined && typeof c.staticIp !== 'string')) return undefined;
    return value as GrantClaims;
  } catch {
    return undefined; // only our own MAC-checked payloads get here; belt and braces
  }
}
