/**
 * MS-CHAPv2 (RFC 2759) without MPPE keys: the broker verifies, the client/simulator computes.
 *
 * About the user name: every function here takes `username` = the Name field EXACTLY as the peer
 * sent it in its Response packet (e.g. `ACME\alice` or `alice@acme`), not the parsed user.
 * RFC 2759 §8.2 hashes "only the user name (as presented by the peer and excluding any prepended
 * domain name)", so `challengeHash` drops a leading `DOMAIN\` itself (as pppd and Windows do);
 * an `@realm` suffix is part of what the peer presented and stays in the hash.
 */
import { createHash, randomBytes } from 'node:crypto';
import { constantTimeEqual, toBytes } from './bytes';
import { desEncryptBlock } from './des';
import { hashNtPasswordHash, ntPasswordHash } from './nt-hash';

export const MSCHAPV2_CHALLENGE_SIZE = 16;
export const MSCHAPV2_NT_RESPONSE_SIZE = 24;
/** Value field of a Response packet: PeerChallenge(16) + Reserved(8) + NT-Response(24) + Flags(1), RFC 2759 §4. */
export const MSCHAPV2_RESPONSE_VALUE_SIZE = 49;

// RFC 2759 §8.7 constants.
const MAGIC1 = Buffer.from('Magic server to client signing constant', 'ascii');
const MAGIC2 = Buffer.from('Pad to make it do more than one iteration', 'ascii');

/** Bytes or hex. */
export type Bytes = Uint8Array | string;

/** The part of the peer's Name field that RFC 2759 §8.2 hashes: everything after the last `\`. */
export function challengeHashUsername(username: string): string {
  const slash = username.lastIndexOf('\\');
  return slash === -1 ? username : username.slice(slash + 1);
}

/** ChallengeHash (RFC 2759 §8.2): first 8 bytes of SHA-1(PeerChallenge | AuthChallenge | UserName). */
export function challengeHash(peerChallenge: Bytes, authenticatorChallenge: Bytes, username: string): Buffer {
  return createHash('sha1')
    .update(toBytes('peerChallenge', peerChallenge, MSCHAPV2_CHALLENGE_SIZE))
    .update(toBytes('authenticatorChallenge', authenticatorChallenge, MSCHAPV2_CHALLENGE_SIZE))
    .update(Buffer.from(challengeHashUsername(username), 'utf8'))
    .digest()
    .subarray(0, 8);
}

/** ChallengeResponse (RFC 2759 §8.5): the NT hash, zero-padded to 21 bytes, keys three DES encryptions of the challenge. */
export function challengeResponse(challenge: Bytes, ntHash: Bytes): Buffer {
  const c = toBytes('challenge', challenge, 8);
  const z = Buffer.alloc(21);
  toBytes('ntHash', ntHash, 16).copy(z);
  return Buffer.concat([
    desEncryptBlock(z.subarray(0, 7), c),
    desEncryptBlock(z.subarray(7, 14), c),
    desEncryptBlock(z.subarray(14, 21), c),
  ]);
}

export interface NtResponseInput {
  readonly ntHash: Bytes;
  readonly authenticatorChallenge: Bytes;
  readonly peerChallenge: Bytes;
  /** The Name field as the peer sends it (see the module comment). */
  readonly username: string;
}

/** GenerateNTResponse (RFC 2759 §8.1), from the NT hash rather than the password. */
export function generateNtResponse(input: NtResponseInput): Buffer {
  return challengeResponse(challengeHash(input.peerChallenge, input.authenticatorChallenge, input.username), input.ntHash);
}

/** GenerateAuthenticatorResponse (RFC 2759 §8.7): the 42-character `S=<40 HEX>` string. */
export async function generateAuthenticatorResponse(input: NtResponseInput & { readonly ntResponse: Bytes }): Promise<string> {
  const hashHash = await hashNtPasswordHash(toBytes('ntHash', input.ntHash, 16));
  const ntResponse = toBytes('ntResponse', input.ntResponse, MSCHAPV2_NT_RESPONSE_SIZE);
  const digest1 = createHash('sha1').update(hashHash).update(ntResponse).update(MAGIC1).digest();
  const challenge = challengeHash(input.peerChallenge, input.authenticatorChallenge, input.username);
  const digest2 = createHash('sha1').update(digest1).update(challenge).update(MAGIC2).digest();
  return `S=${digest2.toString('hex').toUpperCase()}`;
}

export type MsChapV2Verdict = { readonly ok: true; readonly authenticatorResponse: string } | { readonly ok: false };

/**
 * Server side (RFC 2759 §5/§6): recompute the NT-Response from the stored NT hash and compare in
 * constant time; on success return the `S=` string for the Success packet.
 * Input sizes are checked (InvalidAuthInputError): a malformed packet is a fault, not a wrong password.
 */
export async function verifyMsChapV2(input: NtResponseInput & { readonly ntResponse: Bytes }): Promise<MsChapV2Verdict> {
  const received = toBytes('ntResponse', input.ntResponse, MSCHAPV2_NT_RESPONSE_SIZE);
  const expected = generateNtResponse(input);
  if (!constantTimeEqual(expected, received)) return { ok: false };
  return { ok: true, authenticatorResponse: await generateAuthenticatorResponse(input) };
}

export interface MsChapV2ClientInput {
  /** Exactly one of: the clear password (client side) or an already computed NT hash. */
  readonly password?: string;
  readonly ntHash?: Bytes;
  readonly authenticatorChallenge: Bytes;
  /** Defaults to 16 random bytes. */
  readonly peerChallenge?: Bytes;
  /** The Name field the client will send (see the module comment). */
  readonly username: string;
}

export interface MsChapV2ClientResponse {
  readonly peerChallenge: Buffer;
  readonly ntResponse: Buffer;
  /** The 49-byte Value field of the Response packet (RFC 2759 §4), Flags = 0. */
  readonly responseValue: Buffer;
  /** What the authenticator must answer with; compare with `checkAuthenticatorResponse`. */
  readonly expectedAuthenticatorResponse: string;
}

/** Client side: computes the Response packet value for a Challenge (RFC 2759 §4, §8.1). */
export async function computeMsChapV2Response(input: MsChapV2ClientInput): Promise<MsChapV2ClientResponse> {
  const ntHash = await resolveNtHash(input);
  const peerChallenge = toBytes('peerChallenge', input.peerChallenge ?? randomBytes(MSCHAPV2_CHALLENGE_SIZE), MSCHAPV2_CHALLENGE_SIZE);
  const base = { ntHash, authenticatorChallenge: input.authenticatorChallenge, peerChallenge, username: input.username };
  const ntResponse = generateNtResponse(base);
  const responseValue = Buffer.concat([peerChallenge, Buffer.alloc(8), ntResponse, Buffer.alloc(1)]);
  const expectedAuthenticatorResponse = await generateAuthenticatorResponse({ ...base, ntResponse });
  return { peerChallenge, ntResponse, responseValue, expectedAuthenticatorResponse };
}

/**
 * Client side (RFC 2759 §8.8 CheckAuthenticatorResponse): `received` is the Success message text
 * (`S=<40 HEX> M=...` or just `S=<40 HEX>`); only its first 42 characters are compared.
 */
export async function checkAuthenticatorResponse(
  input: Omit<MsChapV2ClientInput, 'peerChallenge'> & { readonly peerChallenge: Bytes; readonly ntResponse: Bytes; readonly received: string },
): Promise<boolean> {
  const ntHash = await resolveNtHash(input);
  const expected = await generateAuthenticatorResponse({ ...input, ntHash });
  const got = input.received.slice(0, 42).toUpperCase();
  return constantTimeEqual(Buffer.from(expected, 'ascii'), Buffer.from(got, 'ascii'));
}

async function resolveNtHash(input: { readonly password?: string; readonly ntHash?: Bytes }): Promise<Buffer> {
  if (input.ntHash !== undefined && input.password !== undefined) {
    throw new TypeError('give either password or ntHash, not both');
  }
  if (input.ntHash !== undefined) return toBytes('ntHash', input.ntHash, 16);
  if (input.password !== undefined) return ntPasswordHash(input.password);
  throw new TypeError('either password or ntHash is required');
}
