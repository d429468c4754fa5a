/**
 * The server's side, pure: check a request and build an answer. The broker is only a RADIUS
 * client; this is here so tests (and the accounting outbox's tests) can stand in for a server with
 * the same codec, and so the rules of both directions live in one folder.
 */
import { Attr, AUTHENTICATOR_LENGTH, RadiusCode } from './constants';
import { accountingRequestAuthenticator, messageAuthenticator, responseAuthenticator, sameBytes, writeMessageAuthenticator } from './authenticators';
import { RadiusCodecError } from './errors';
import { decodePacket, encodePacket, type RadiusAttribute, type RadiusPacket } from './packet';

export interface ResponseInput {
  readonly code: number;
  readonly identifier: number;
  readonly requestAuthenticator: Uint8Array;
  readonly secret: Uint8Array;
  readonly attributes: readonly RadiusAttribute[];
  /** Put a Message-Authenticator first (RFC 3579 §3.2). Default true. */
  readonly messageAuthenticator?: boolean;
}

/** Encodes an answer: Message-Authenticator first, then the Response Authenticator (RFC 2865 §3). */
export function encodeResponse(input: ResponseInput): Buffer | RadiusCodecError {
  if (input.secret.length === 0) return new RadiusCodecError('bad-secret', 'the shared secret is empty');
  const withMac = input.messageAuthenticator ?? true;
  const attributes = input.attributes.filter((a) => a.type !== Attr.MessageAuthenticator);
  if (withMac) attributes.unshift({ type: Attr.MessageAuthenticator, value: Buffer.alloc(AUTHENTICATOR_LENGTH) });
  const requestAuthenticator = Buffer.from(input.requestAuthenticator);
  const bytes = encodePacket({ code: input.code, identifier: input.identifier, authenticator: requestAuthenticator, attributes });
  if (bytes instanceof RadiusCodecError) return bytes;
  if (withMac) writeMessageAuthenticator(bytes, requestAuthenticator, input.secret);
  responseAuthenticator(bytes, requestAuthenticator, input.secret).copy(bytes, 4);
  return bytes;
}

/**
 * Decodes a request and checks what a server checks: an Accounting-Request's authenticator
 * (RFC 2866 §3) and any Message-Authenticator (RFC 3579 §3.2; required when `requireMessageAuthenticator`).
 */
export function checkRequest(
  bytes: Uint8Array,
  secret: Uint8Array,
  options: { requireMessageAuthenticator?: boolean } = {},
): RadiusPacket | RadiusCodecError {
  const packet = decodePacket(bytes);
  if (packet instanceof RadiusCodecError) return packet;
  const whole = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const raw = whole.subarray(0, whole.readUInt16BE(2));
  const accounting = packet.code === RadiusCode.AccountingRequest;
  const macAuthenticator = accounting ? Buffer.alloc(AUTHENTICATOR_LENGTH) : packet.authenticator;
  const macs = packet.attributes.filter((a) => a.type === Attr.MessageAuthenticator);
  if (macs.length === 0 && options.requireMessageAuthenticator) {
    return new RadiusCodecError('missing-message-authenticator', 'the request carries no Message-Authenticator');
  }
  if (macs.length > 1 || macs.some((m) => m.value.length !== AUTHENTICATOR_LENGTH)) {
    return new RadiusCodecError('bad-message-authenticator', 'malformed or repeated Message-Authenticator');
  }
  if (macs.length === 1) {
    const expected = messageAuthenticator(raw, macAuthenticator, secret);
    if (!expected || !sameBytes(expected, macs[0]!.value)) {
      return new RadiusCodecError('bad-message-authenticator', 'the Message-Authenticator does not verify');
    }
  }
  if (accounting && !sameBytes(accountingRequestAuthenticator(raw, secret), packet.authenticator)) {
    return new RadiusCodecError('bad-request-authenticator', 'the Accounting-Request authenticator does not verify');
  }
  return packet;
}
