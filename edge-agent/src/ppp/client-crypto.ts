/**
 * Builds the synchronous `PppClientCrypto` the client engine needs from a password, on top of the
 * RFC 2759 / RFC 1994 code the broker shares (contract/src/ppp-auth). The MD4 steps are async there
 * (hash-wasm), so they run once here, up front; what remains per challenge is synchronous.
 */
import { createHash } from 'node:crypto';
import { computeChapMd5, generateNtResponse, challengeHash, hashNtPasswordHash, ntPasswordHash } from '../../../contract/src/ppp-auth';
import { toHexUpper, fromUtf8 } from './bytes';
import type { PppClientCrypto } from './client-session';

// RFC 2759 §8.7 GenerateAuthenticatorResponse constants.
const MAGIC1 = fromUtf8('Magic server to client signing constant');
const MAGIC2 = fromUtf8('Pad to make it do more than one iteration');

/** Precomputes the NT hash and its hash, then answers challenges synchronously. */
export async function createPppClientCrypto(password: string): Promise<PppClientCrypto> {
  const ntHash = await ntPasswordHash(password);
  const ntHashHash = await hashNtPasswordHash(ntHash);
  return {
    chapMd5: (identifier, challenge) => computeChapMd5({ id: identifier, secret: password, challenge }),
    msChapV2(authenticatorChallenge, peerChallenge, username) {
      const ntResponse = generateNtResponse({ ntHash, authenticatorChallenge, peerChallenge, username });
      const digest1 = createHash('sha1').update(ntHashHash).update(ntResponse).update(MAGIC1).digest();
      const digest2 = createHash('sha1')
        .update(digest1)
        .update(challengeHash(peerChallenge, authenticatorChallenge, username))
        .update(MAGIC2)
        .digest();
      return { ntResponse, authenticatorResponse: `S=${toHexUpper(digest2)}` };
    },
  };
}
