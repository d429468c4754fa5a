/**
 * The broker's error family. Domain services throw these (and families built on them, like
 * domain/ip-allocation/errors.ts): each names its kind and a code, and the HTTP layer maps each kind
 * to a status exactly once (`http/error-handler.ts`), rendering `{ error: { code, message, field? } }`.
 * `code` is a stable, machine-readable string agents and scripts can switch on, from error-codes.ts.
 */
import type { ErrorCode } from './error-codes';

export type BrokerErrorKind =
  | 'validation'
  | 'unauthorized'
  | 'forbidden'
  | 'not-found'
  | 'conflict'
  | 'locked'
  | 'payload-too-large'
  | 'unavailable';

export class BrokerError extends Error {
  constructor(
    readonly kind: BrokerErrorKind,
    /** One of the family's codes (error-codes.ts), each with its hint. */
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Input failed validation; `field` names the offending field (dotted path for nested ones). */
export class ValidationError extends BrokerError {
  constructor(field: string, message: string, options?: { cause?: unknown }) {
    super('validation', 'validation-failed', message, field, options);
  }
}

/** Missing, malformed or unknown credentials. */
export class UnauthorizedError extends BrokerError {
  constructor(message = 'missing or invalid credentials', code: ErrorCode = 'unauthorized') {
    super('unauthorized', code, message);
  }
}

/** Valid credentials that may not do this (e.g. a tenant key on a fleet-only route). */
export class ForbiddenError extends BrokerError {
  constructor(message: string, code: ErrorCode = 'forbidden') {
    super('forbidden', code, message);
  }
}

/**
 * The resource does not exist, or the caller may not know that it exists (tenant isolation). The
 * store throws it too, when an update needs an item that is absent (domain/store-errors.ts).
 */
export class NotFoundError extends BrokerError {
  constructor(readonly entity: string, readonly id: string, options?: { cause?: unknown }) {
    super('not-found', 'not-found', `${entity} ${id} not found`, undefined, options);
  }
}

/** The request conflicts with current state (duplicate id, quota reached, idempotency key reuse). */
export class ConflictError extends BrokerError {
  constructor(code: ErrorCode, message: string, field?: string) {
    super('conflict', code, message, field);
  }
}

/** The session cannot start because the tenant's concurrent-session quota is reached. */
export class QuotaExceededError extends ConflictError {
  /** `field` names the limit that was reached (`maxSessions` or `maxSessionsPerUser`). */
  constructor(message: string, field?: string) {
    super('quota-exceeded', message, field);
  }
}

/** The user is locked out after too many failed authentications. */
export class LockedError extends BrokerError {
  constructor(message: string, readonly lockedUntil: number) {
    super('locked', 'locked', message);
  }
}

/** A dependency (the table) is unreachable; the caller may retry. */
export class ServiceUnavailableError extends BrokerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('unavailable', 'service-unavailable', message, undefined, options);
  }
}
