import { createHash } from 'node:crypto';
import { constantTimeEqual, toBytes } from './bytes';
import { InvalidAuthInputError } from './errors';

export interface ChapMd5Input {
  /** The Identifier of the Challenge packet (0..255). */
  readonly id: number;
  /** The shared secret; a string is taken as UTF-8. */
  readonly secret: Uint8Array | string;
  readonly challenge: Uint8Array | string;
}

/** CHAP with MD5 (RFC 1994 §4.1): Response Value = MD5(Identifier | secret | Challenge Value). */
export function computeChapMd5(input: ChapMd5Input): Buffer {
  if (!Number.isInteger(input.id) || input.id < 0 || input.id > 255) {
    throw new InvalidAuthInputError('id', 'must be an integer 0..255');
  }
  const secret = typeof input.secret === 'string' ? Buffer.from(input.secret, 'utf8') : input.secret;
  const challenge = toBytes('challenge', input.challenge);
  if (challenge.length === 0) throw new InvalidAuthInputError('challenge', 'must not be empty');
  return createHash('md5').update(Buffer.of(input.id)).update(secret).update(challenge).digest();
}

/** Server side: recompute and compare in constant time. A response of the wrong size is simply wrong. */
export function verifyChapMd5(input: ChapMd5Input & { readonly response: Uint8Array | string }): boolean {
  const response = toBytes('response', input.response);
  return constantTimeEqual(computeChapMd5(input), response);
}
