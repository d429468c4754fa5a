/**
 * The one place where errors become HTTP statuses: the broker's error family (../errors.ts, and the
 * families built on it such as IP allocation's) by its kind, the store's errors that reach a request
 * by their class, Hono's own refusals (malformed JSON, media type, timeout) by their status. Domain
 * code never picks a status. Every error body is `{ "error": { "code", "message", "field"?, "hint" } }`
 * with a code of the documented family (../error-codes.ts).
 */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { BrokerError, type BrokerErrorKind } from '../errors';
import { errorBody, type ErrorBody, type ErrorCode } from '../error-codes';
import { AlreadyExistsError, InvalidCursorError, StoreUnavailableError } from '../domain/store-errors';
import type { AppEnv } from './context';

export type { ErrorBody } from '../error-codes';

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

/** Hono's refusals (HTTPException) by status: each a code of the family, with a message that says what to send. */
function describeHttpException(error: HTTPException): { status: ContentfulStatusCode; code: ErrorCode; message: string } {
  const status = error.status as ContentfulStatusCode;
  switch (status) {
    case 413:
      return { status, code: 'payload-too-large', message: error.message || 'request body too large' };
    case 415:
      return { status, code: 'unsupported-media-type', message: 'the body must be JSON, sent with Content-Type: application/json' };
    case 504:
      return { status, code: 'timeout', message: error.message || 'no answer in time' };
    default:
      if (status >= 500) return { status: 500, code: 'internal', message: 'internal error' };
      return { status: 400, code: 'bad-request', message: error.message || 'malformed request' };
  }
}

/** Maps any thrown value to a status and a safe body (internal errors never leak their message). */
export function describeError(error: unknown): { status: ContentfulStatusCode; body: ErrorBody } {
  if (error instanceof BrokerError) return { status: STATUS[error.kind], body: errorBody(error.code, error.message, error.field) };
  if (error instanceof AlreadyExistsError) return { status: 409, body: errorBody('already-exists', error.message) };
  if (error instanceof InvalidCursorError) return { status: 400, body: errorBody('validation-failed', error.message, 'cursor') };
  if (error instanceof StoreUnavailableError) return { status: 503, body: errorBody('service-unavailable', 'the store is unavailable, retry later') };
  if (error instanceof HTTPException) {
    const { status, code, message } = describeHttpException(error);
    return { status, body: errorBody(code, message) };
  }
  return { status: 500, body: errorBody('internal', 'internal error') };
}

/** `app.onError`: logs server faults with the request id and renders the error JSON. */
export function onError(error: Error, c: Context<AppEnv>): Response {
  const { status, body } = describeError(error);
  const log = c.get('log');
  if (status >= 500 && status !== 503) log?.error({ err: error }, 'request failed');
  else log?.info({ code: body.error.code, status }, 'request refused');
  return c.json(body, status);
}

/** A route of the app as Hono lists it (`app.routes`). */
export interface KnownRoute {
  readonly method: string;
  readonly path: string;
}

/**
 * `app.notFound`: a path the app serves with other methods is 405 with `Allow` (RFC 9110 §15.5.6);
 * any other path is 404 `route-not-found`. Both JSON.
 */
export function notFoundHandler(routes: () => readonly KnownRoute[]) {
  let compiled: { pattern: RegExp; method: string }[] | undefined;
  const compile = () =>
    routes()
      .filter((r) => r.method !== 'ALL' && !r.path.includes('*'))
      .map((r) => ({
        method: r.method,
        pattern: new RegExp(`^${r.path.split('/').map((seg) => (seg.startsWith(':') ? '[^/]+' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('/')}$`),
      }));
  return (c: Context<AppEnv>): Response => {
    compiled ??= compile();
    const allowed = [...new Set(compiled.filter((r) => r.pattern.test(c.req.path)).map((r) => r.method))].sort();
    if (allowed.length > 0) {
      c.header('Allow', allowed.join(', '));
      return c.json(errorBody('http-method-not-allowed', `${c.req.method} is not allowed on ${c.req.path}; allowed: ${allowed.join(', ')}`), 405);
    }
    return c.json(errorBody('route-not-found', `no route for ${c.req.method} ${c.req.path}`), 404);
  };
}
