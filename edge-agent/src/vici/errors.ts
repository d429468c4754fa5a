/**
 * The VICI error family. Decoders never throw: they return a `ViciDecodeError` value. Encoders throw
 * `ViciEncodeError` for values that cannot be put on the wire (caller bugs). The client rejects its
 * promises with the `ViciError` subclasses below so the agent can tell "strongSwan is not there"
 * from "strongSwan said no".
 */

/** Why a decode failed; stable strings the caller can switch on. */
export type ViciDecodeErrorCode =
  | 'truncated'
  | 'unknown-element'
  | 'unknown-packet-type'
  | 'bad-nesting'
  | 'too-deep'
  | 'duplicate-key'
  | 'bad-name'
  | 'trailing-data'
  | 'frame-too-large';

/** A decode failure as a value (returned, not thrown). `offset` is where in the input it was noticed. */
export class ViciDecodeError {
  readonly kind = 'vici-decode-error' as const;
  constructor(
    readonly code: ViciDecodeErrorCode,
    readonly message: string,
    readonly offset = 0,
  ) {}
  toString(): string {
    return `ViciDecodeError(${this.code}) at ${this.offset}: ${this.message}`;
  }
}

/** True when a decoder result is an error value. */
export function isViciDecodeError(v: unknown): v is ViciDecodeError {
  return v instanceof ViciDecodeError;
}

/** Base of every thrown VICI error. */
export class ViciError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A message or packet that cannot be encoded (name > 255 bytes, value > 65535 bytes, bad shape). */
export class ViciEncodeError extends ViciError {}

/** The socket could not be opened. `code` is the errno code (ENOENT, EACCES, ECONNREFUSED, ...) or 'ETIMEDOUT'. */
export class ViciConnectError extends ViciError {
  constructor(
    readonly socketPath: string,
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** No answer in time. The connection is closed afterwards: VICI has no request ids, so a late answer could not be matched. */
export class ViciTimeoutError extends ViciError {
  constructor(readonly operation: string, readonly timeoutMs: number) {
    super(`VICI ${operation}: no answer within ${timeoutMs} ms`);
  }
}

/** The connection closed (or was closed) while an operation was pending, or before it was sent. */
export class ViciClosedError extends ViciError {}

/** The peer sent bytes that are not valid VICI; the connection is closed. */
export class ViciProtocolError extends ViciError {
  constructor(readonly decodeError: ViciDecodeError) {
    super(`VICI protocol error: ${decodeError.toString()}`);
  }
}

/** strongSwan answered CMD_UNKNOWN: it has no handler for the command. */
export class ViciUnknownCommandError extends ViciError {
  constructor(readonly command: string) {
    super(`VICI: unknown command "${command}"`);
  }
}

/** strongSwan answered EVENT_UNKNOWN to a (de-)registration. */
export class ViciUnknownEventError extends ViciError {
  constructor(readonly event: string) {
    super(`VICI: unknown event "${event}"`);
  }
}

/** A command answered with `success = no`; `errmsg` is strongSwan's reason. */
export class ViciCommandError extends ViciError {
  constructor(readonly command: string, readonly errmsg: string | undefined) {
    super(`VICI ${command} failed${errmsg ? `: ${errmsg}` : ''}`);
  }
}
