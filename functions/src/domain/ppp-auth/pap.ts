import { constantTimeEqual, toBytes } from '../../../../contract/src/ppp-auth/bytes';
import { ntPasswordHash } from '../../../../contract/src/ppp-auth/nt-hash';

/**
 * PAP (RFC 1334 §2): the peer sends the clear password; the broker keeps only the NT hash, so it
 * recomputes MD4(UTF-16LE(password)) and compares in constant time.
 */
export async function verifyPap(ntHash: Uint8Array | string, password: string): Promise<boolean> {
  const stored = toBytes('ntHash', ntHash, 16);
  return constantTimeEqual(stored, await ntPasswordHash(password));
}
