/**
 * Tunnel authentication, RFC 2661 §5.1.1: a CHAP-like exchange where the response is
 * MD5(ID || secret || challenge) and ID is the Message Type of the message carrying the response
 * (2 in SCCRP, 3 in SCCCN).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { MessageType } from './constants';

/** Compute the Challenge Response carried in a message of type `messageType` (SCCRP or SCCCN). */
export function challengeResponse(messageType: number, secret: Uint8Array, challenge: Uint8Array): Uint8Array {
  const h = createHash('md5');
  h.update(new Uint8Array([messageType & 0xff]));
  h.update(secret);
  h.update(challenge);
  return new Uint8Array(h.digest());
}

/** Check a received Challenge Response in constant time. */
export function verifyChallengeResponse(
  messageType: typeof MessageType.SCCRP | typeof MessageType.SCCCN,
  secret: Uint8Array,
  challenge: Uint8Array,
  response: Uint8Array | undefined,
): boolean {
  if (!response || response.length !== 16) return false;
  return timingSafeEqual(challengeResponse(messageType, secret, challenge), response);
}
