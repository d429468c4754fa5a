/**
 * The L2TP error family. Decoders never throw: they return an `L2tpDecodeError` value. Encoders and engines throw
 * `L2tpError` only for programming mistakes (a value that cannot be put on the wire, e.g. a tunnel id > 0xffff).
 */

/** Why a decode failed; stable strings the caller can switch on. */
export type L2tpDecodeErrorCode =
  | 'truncated'
  | 'bad-length'
  | 'bad-version'
  | 'bad-control-flags'
  | 'bad-avp-length'
  | 'bad-avp-value'
  | 'hidden-avp-without-secret'
  | 'hidden-avp-without-random-vector'
  | 'missing-message-type'
  | 'unknown-message-type'
  | 'missing-required-avp'
  | 'unknown-mandatory-avp';

/** A decode failure as a value (returned, not thrown). */
export class L2tpDecodeError {
  readonly kind = 'l2tp-decode-error' as const;
  constructor(
    readonly code: L2tpDecodeErrorCode,
    readonly message: string,
    /** Extra data: e.g. the AVP name for missing-required-avp, vendor/type for unknown-mandatory-avp. */
    readonly detail: Record<string, unknown> = {},
  ) {}
  toString(): string {
    return `L2tpDecodeError(${this.code}): ${this.message}`;
  }
}

/** True when a decoder result is an error value. */
export function isL2tpDecodeError(v: unknown): v is L2tpDecodeError {
  return v instanceof L2tpDecodeError;
}

/** Thrown for values that cannot be encoded or events an engine cannot accept (caller bugs). */
export class L2tpError extends Error {
  override readonly name = 'L2tpError';
  constructor(
    message: string,
    readonly detail: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
