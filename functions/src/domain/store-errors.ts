/**
 * Named errors of the Store interface (./store.ts). Implementations translate their failures into
 * these (DynamoDB: ConditionalCheckFailed and transaction cancellations) so callers can act without
 * knowing how the data is kept.
 */
export class StoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A create found the item already there. */
export class AlreadyExistsError extends StoreError {
  constructor(readonly entity: string, readonly id: string, options?: { cause?: unknown }) {
    super(`${entity} ${id} already exists`, options);
  }
}

/**
 * An update or delete needed the item and it was not there: the one NotFoundError of the broker
 * (../errors.ts), which the API answers 404, whoever noticed the absence.
 */
export { NotFoundError } from '../errors';

/** The fleet's pool registry changed between the read and the write: read it again and re-check. */
export class PoolRegistryChangedError extends StoreError {
  constructor(options?: { cause?: unknown }) {
    super('the pool registry changed concurrently', options);
  }
}

/** The store could not be reached or kept failing after retries (throttling, network). */
export class StoreUnavailableError extends StoreError {}

/** A pagination cursor that this listing did not produce (tampered, truncated or from elsewhere). */
export class InvalidCursorError extends StoreError {
  constructor(options?: { cause?: unknown }) {
    super('invalid pagination cursor', options);
  }
}
