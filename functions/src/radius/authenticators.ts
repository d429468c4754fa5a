/**
 * The three checksums a RADIUS packet carries:
 * - Response Authenticator (RFC 2865 §3): MD5(Code+Identifier+Length+Request Authenticator+Attributes+Secret);
 *   Accounting-Response uses the same formula (RFC 2866 §3).
 * - Accounting Request Authenticator (RFC 2866 §3): the same MD5 with 16 zero octets in the authenticator field.
 * - Message-Authenticator (RFC 3579 §3.2): HMAC-MD5 keyed with the secret over the whole packet with the
 *   attribute's own value zeroed; in a response the authenticator field holds the Request Authenticator.
 *   It is what defeats the BlastRADIUS MD5 collision attack (CVE-2024-3596) on Access-* packets.
 * All functions take encoded bytes and never mutate them.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { Attr, AUTHENTICATOR_LENGTH } from './constants';
import { attributeValueOffsets } from './packet';

const ZERO_AUTHENTICATOR = Buffer.alloc(AUTHENTICATOR_LENGTH);

/** A copy of `bytes` with `authenticator` in the authenticator field. */
function withAuthenticator(bytes: Buffer, authenticator: Uint8Array): Buffer {
  const copy = Buffer.from(bytes);
  Buffer.from(authenticator).copy(copy, 4);
  return copy;
}

/** The MD5 of a packet whose authenticator field holds `authenticator`, followed by the secret. */
function md5With(bytes: Buffer, authenticator: Uint8Array, secret: Uint8Array): Buffer {
  return createHash('md5').update(withAuthenticator(bytes, authenticator)).update(secret).digest();
}

/** The Response Authenticator of an encoded response to a request with `requestAuthenticator` (RFC 2865 §3). */
export function responseAuthenticator(response: Buffer, requestAuthenticator: Uint8Array, secret: Uint8Array): Buffer {
  return md5With(response, requestAuthenticator, secret);
}

/** The Request Authenticator of an encoded Accounting-Request (RFC 2866 §3). */
export function accountingRequestAuthenticator(request: Buffer, secret: Uint8Array): Buffer {
  return md5With(request, ZERO_AUTHENTICATOR, secret);
}

/** Offset of the (first) Message-Authenticator value in an encoded packet, or -1. */
export function messageAuthenticatorOffset(bytes: Buffer): number {
  const hit = attributeValueOffsets(bytes).find((a) => a.type === Attr.MessageAuthenticator && a.length === AUTHENTICATOR_LENGTH);
  return hit ? hit.offset : -1;
}

/**
 * The Message-Authenticator of an encoded packet (RFC 3579 §3.2), computed with `authenticator` in
 * the authenticator field (a request's own, a response's Request Authenticator, or zeros for an
 * Accounting-Request) and the attribute's value zeroed. Undefined when the packet has none.
 */
export function messageAuthenticator(bytes: Buffer, authenticator: Uint8Array, secret: Uint8Array): Buffer | undefined {
  const offset = messageAuthenticatorOffset(bytes);
  if (offset < 0) return undefined;
  const copy = withAuthenticator(bytes, authenticator);
  copy.fill(0, offset, offset + AUTHENTICATOR_LENGTH);
  return createHmac('md5', secret).update(copy).digest();
}

/** Writes the Message-Authenticator into an encoded packet that has a zeroed one (encoding only). */
export function writeMessageAuthenticator(bytes: Buffer, authenticator: Uint8Array, secret: Uint8Array): void {
  const mac = messageAuthenticator(bytes, authenticator, secret);
  if (mac) mac.copy(bytes, messageAuthenticatorOffset(bytes));
}

/** Constant-time equality of two 16-byte values (false when lengths differ). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
