/**
 * `Idempotency-Key` support: the first successful response to (scope, key) is stored and replayed
 * for a retry with the same request; the same key with a different request is a conflict.
 * Only 2xx responses are stored, so a failed attempt can be retried with the same key.
 *
 * A response that carries a credential (an API key or agent token shown once, an auth grant) is
 * never stored: the record keeps a 409 `credential-not-replayed` naming the ids it created, and a
 * retry gets that. Storing it would keep the credential in clear for the record's lifetime and hand
 * it to anyone who can replay the key (issue 14 #5).
 *
 * Known limit: two identical requests racing in flight both execute (no in-progress marker);
 * the routes that matter (session start) are idempotent on their own keys as well.
 */
import { ConflictError } from '../errors';
import { errorBody } from '../error-codes';
import { sha256Hex } from './bearer-tokens';
import type { ServiceContext } from './service-context';

export interface StoredResponse {
  readonly status: number;
  readonly body: string;
}

export interface IdempotentRequest {
  /** Who is asking, e.g. `admin`, `apikey:<id>`, `agent:<id>`: keys never collide across callers. */
  readonly scope: string;
  readonly key: string;
  /** Method, path and body: what must match for a replay. */
  readonly fingerprint: string;
}

/** JSON fields that hold a credential, at any depth: a response with one is never stored. */
export const SECRET_RESPONSE_FIELDS: readonly string[] = ['token', 'grant', 'psk', 'password', 'secret'];

/** The credential fields a JSON response body carries (none for a body that is not JSON). */
export function secretFieldsOf(body: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return [];
  }
  const found = new Set<string>();
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (typeof value === 'object' && value !== null) {
      for (const [k, v] of Object.entries(value)) {
        if (SECRET_RESPONSE_FIELDS.includes(k)) found.add(k);
        walk(v);
      }
    }
  };
  walk(parsed);
  return [...found];
}

/** What a retry of a request whose response carried a credential gets instead of that response. */
function withheld(status: number, body: string, fields: readonly string[]): StoredResponse {
  const ids: string[] = [];
  const collect = (value: unknown): void => {
    if (typeof value !== 'object' || value === null) return;
    for (const [k, v] of Object.entries(value)) {
      if (/Id$/.test(k) && typeof v === 'string' && !ids.includes(`${k} ${v}`)) ids.push(`${k} ${v}`);
      else collect(v);
    }
  };
  collect(JSON.parse(body));
  const message =
    `this Idempotency-Key was already used and answered ${status}${ids.length ? ` (${ids.join(', ')})` : ''}; ` +
    `that answer carried a credential (${fields.join(', ')}), which is shown once and never stored, so it is not replayed`;
  return { status: 409, body: JSON.stringify(errorBody('credential-not-replayed', message, 'Idempotency-Key')) };
}

/** Runs `execute` once per (scope, key); returns the stored response on a matching retry. */
export async function runIdempotent(
  ctx: Pick<ServiceContext, 'store' | 'clock' | 'config'>,
  request: IdempotentRequest,
  execute: () => Promise<StoredResponse>,
): Promise<StoredResponse & { replayed: boolean }> {
  const requestHash = sha256Hex(request.fingerprint);
  const existing = await ctx.store.getIdempotencyRecord(request.scope, request.key);
  if (existing && existing.expiresAt > ctx.clock.now()) {
    if (existing.requestHash !== requestHash) {
      throw new ConflictError('idempotency-key-reused', 'Idempotency-Key was already used with a different request', 'Idempotency-Key');
    }
    return { status: existing.status, body: existing.responseBody, replayed: true };
  }
  const response = await execute();
  if (response.status >= 200 && response.status < 300) {
    const now = ctx.clock.now();
    const secrets = secretFieldsOf(response.body);
    const stored = secrets.length === 0 ? response : withheld(response.status, response.body, secrets);
    await ctx.store.putIdempotencyRecord({
      scope: request.scope,
      key: request.key,
      requestHash,
      status: stored.status,
      responseBody: stored.body,
      createdAt: now,
      expiresAt: now + ctx.config.idempotencyTtlMs,
    });
  }
  return { ...response, replayed: false };
}
