/**
 * The PPP area's single error family. Decoders RETURN a PppDecodeError (they never throw) so that a
 * malformed frame from the network is a value the engine can count and discard (RFC 1661 §5: "silently
 * discarded"), not a crash.
 */
export type PppDecodeErrorCode =
  | 'truncated'
  | 'bad-length'
  | 'bad-option'
  | 'bad-value'
  | 'unknown-code';

export class PppDecodeError extends Error {
  override readonly name = 'PppDecodeError';
  constructor(
    readonly code: PppDecodeErrorCode,
    message: string,
    /** Byte offset in the decoded buffer where the problem was found, when known. */
    readonly offset?: number,
  ) {
    super(message);
  }
}

/** Type guard used by callers of every decoder in this folder. */
export function isPppDecodeError(value: unknown): value is PppDecodeError {
  return value instanceof PppDecodeError;
}
