/**
 * Bearer credentials the broker issues. A token is `<prefix>_<id>_<secret>`: the id finds the
 * record, the secret is checked against a stored SHA-256 hash in constant time. The clear token is
 * shown once at creation and never stored.
 *   tbk_<keyId>_<secret>    operator API key
 *   tba_<agentId>_<secret>  edge agent credential
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export type TokenKind = 'api-key' | 'agent';

const PREFIX: Record<TokenKind, string> = { 'api-key': 'tbk', agent: 'tba' };

/** Source of randomness, injectable so tests can be deterministic. */
export type RandomBytes = (size: number) => Uint8Array;
export const cryptoRandom: RandomBytes = (size) => randomBytes(size);

/** Ids use lowercase hex so they never contain the `_` separator. */
export function newId(random: RandomBytes, bytes = 8): string {
  return Buffer.from(random(bytes)).toString('hex');
}

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** Builds a new token for `id`; returns the clear token and the hash to store. */
export function issueToken(kind: TokenKind, id: string, random: RandomBytes): { token: string; secretHash: string } {
  const secret = Buffer.from(random(32)).toString('base64url');
  return { token: `${PREFIX[kind]}_${id}_${secret}`, secretHash: sha256Hex(secret) };
}

/** Splits a token into id and secret, or undefined when it is not a token of this kind. */
export function parseToken(kind: TokenKind, token: string): { id: string; secret: string } | undefined {
  const prefix = `${PREFIX[kind]}_`;
  if (!token.startsWith(prefix)) return undefined;
  const rest = token.slice(prefix.length);
  const sep = rest.indexOf('_'); // ids never contain `_`; secrets (base64url) may
  if (sep <= 0 || sep === rest.length - 1) return undefined;
  return { id: rest.slice(0, sep), secret: rest.slice(sep + 1) };
}

/** Which kind a bearer token claims to be, by prefix. */
export function tokenKindOf(token: string): TokenKind | undefined {
  if (token.startsWith('tbk_')) return 'api-key';
  if (token.startsWith('tba_')) return 'agent';
  return undefined;
}

/** Constant-time comparison of a presented secret with a stored SHA-256 hex hash. */
export function secretMatches(secret: string, storedHashHex: string): boolean {
  const a = Buffer.from(sha256Hex(secret), 'hex');
  const b = Buffer.from(storedHashHex, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
