/**
 * Translation of SDK failures. Condition failures are expected outcomes and are classified by
 * the caller; everything else leaves the store as a StoreError (never as an SDK exception).
 */
import {
  ConditionalCheckFailedException,
  TransactionCanceledException,
  type CancellationReason,
} from '@aws-sdk/client-dynamodb';
import { StoreError, StoreUnavailableError } from '../../domain/store-errors';

export function isConditionFailed(error: unknown): boolean {
  return error instanceof ConditionalCheckFailedException;
}

/** Cancellation reason codes in request order, or undefined when `error` is no cancellation. */
export function cancellationCodes(error: unknown): (string | undefined)[] | undefined {
  if (!(error instanceof TransactionCanceledException)) return undefined;
  return (error.CancellationReasons ?? []).map((r: CancellationReason) => r.Code);
}

const UNAVAILABLE_NAMES = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'TimeoutError',
]);

/**
 * Wraps an unexpected SDK error: throttling, 5xx and network failures (which the SDK already
 * retried `maxAttempts` times) become StoreUnavailableError, the rest (validation errors: bugs)
 * a plain StoreError. Both keep the SDK error as `cause`.
 */
export function translateSdkError(error: unknown, operation: string): StoreError {
  if (error instanceof StoreError) return error;
  const e = error as { name?: string; $fault?: string; $metadata?: { httpStatusCode?: number } };
  const name = e?.name ?? 'Error';
  const status = e?.$metadata?.httpStatusCode;
  const unavailable =
    e?.$fault === 'server' || UNAVAILABLE_NAMES.has(name) || status === undefined || status >= 500;
  const message = `DynamoDB ${operation} failed: ${name}: ${(error as Error)?.message ?? String(error)}`;
  return unavailable ? new StoreUnavailableError(message, { cause: error }) : new StoreError(message, { cause: error });
}
