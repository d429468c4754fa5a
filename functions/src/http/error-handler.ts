/**
 * The one place where errors become HTTP statuses: the broker's error family (../errors.ts, and the
 * families built on it such as IP allocation's) by its kind, the store's errors that reach a request
 * by their class. Domain code never picks a status. Every error body is
 * `{ "error": { "code", "message", "field"? } }`.
 */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { BrokerError, type BrokerErrorKind } from '../errors';
import { AlreadyExistsError, InvalidCursorError, StoreUnavailableError } from '../domain/store-errors';
import type { AppEnv } from './context';

const STATUS: Record<BrokerErrorKind, ContentfulStatusCode> = {
  validation: 400,
  unauthorized: 401,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
  locked: 423,
  'payload-too-large': 413,
  unavailable: 503,
};

export interface ErrorBody {
  error: { code: string; message: string; field?: string };
}

/** Maps any thrown value to a status and a safe body (internal errors never leak their message). */
export function describeError(error: unknown): { status: ContentfulStatusCode; body: ErrorBody } {
  const body = (code: string, message: string, field?: string): ErrorBody => ({
    error: { code, message, ...(field !== undefined ? { field } : {}) },
  });
  if (error instanceof BrokerError) return { status: STATUS[error.kind], body: body(error.code, error.message, error.field) };
  if (error instanceof AlreadyExistsError) return { status: 409, body: body('already-exists', error.message) };
  if (error instanceof InvalidCursorError) return { status: 400, body: body('validation-failed', error.message, 'cursor') };
  if (error instanceof StoreUnavailableError) return { status: 503, body: body('service-unavailable', 'the store is unavailable, retry later') };
  if (error instanceof HTTPException) {
    const status = error.status as ContentfulStatusCode;
    const code = status === 400 ? 'bad-request' : status === 413 ? 'payload-too-large' : status === 504 ? 'timeout' : 'http-error';
    return { status, body: body(code, error.message || 'request failed') };
  }
  return { status: 500, body: body('internal', 'internal error') };
}

/** `app.onError`: logs server faults with the request id and renders the error JSON. */
export function onError(error: Error, c: Context<AppEnv>): Response {
  const { status, body } = describeError(error);
  const log = c.get('log');
  if (status >= 500 && status !== 503) log?.error({ err: error }, 'request failed');
  else log?.info({ code: body.error.code, status }, 'request refused');
  return c.json(body, status);
}

/** `app.notFound`: unknown routes answer JSON too. */
export function onNotFound(c: Context<AppEnv>): Response {
  return c.json({ error: { code: 'route-not-found', message: `no route for ${c.req.method} ${c.req.path}` } }, 404);
}
