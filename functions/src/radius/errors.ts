/**
 * The RADIUS error family. The codec never throws: decoding hostile bytes, or encoding a value that
 * cannot go on the wire (a 300-byte user name from a PPP peer), returns a `RadiusCodecError` value.
 */

/** Why a decode, encode or check failed; stable strings the caller can switch on. */
export type RadiusCodecErrorCode =
  | 'truncated'
  | 'bad-length'
  | 'bad-attribute-length'
  | 'bad-attribute-value'
  | 'value-too-long'
  | 'packet-too-long'
  | 'bad-vendor-attribute'
  | 'unexpected-code'
  | 'wrong-identifier'
  | 'bad-response-authenticator'
  | 'missing-message-authenticator'
  | 'bad-message-authenticator'
  | 'bad-request-authenticator'
  | 'bad-secret';

/** A codec failure as a value (returned, not thrown). */
export class RadiusCodecError {
  readonly kind = 'radius-codec-error' as const;
  constructor(
    readonly code: RadiusCodecErrorCode,
    readonly message: string,
    readonly detail: Record<string, unknown> = {},
  ) {}
  toString(): string {
    return `RadiusCodecError(${this.code}): ${this.message}`;
  }
}

/** True when a codec result is an error value. */
export function isRadiusCodecError(v: unknown): v is RadiusCodecError {
  return v instanceof RadiusCodecError;
}
