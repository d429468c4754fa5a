/**
 * `Idempotency-Key` support: the first successful response to (scope, key) is stored and replayed
 * for a retry with the same request; the same key with a different request is a conflict.
 * Only 2xx responses are stored, so a failed attempt can be retried with the same key.
 * Known limit: two identical requests racing in flight both execute (no in-progress marker);
 * the routes that matter (session start) are idempotent on their own keys as well.
 */
import { ConflictError } from '../errors';
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
    await ctx.store.putIdempotencyRecord({
      scope: request.scope,
      key: request.key,
      requestHash,
      status: response.status,
      responseBody: response.body,
      createdAt: now,
      expiresAt: now + ctx.config.idempotencyTtlMs,
    });
  }
  return { ...response, replayed: false };
}
