import type { EncryptedBlob, UserCredentials } from '../types';
import { InvalidAuthInputError, SecretBoxError } from './errors';
import { ntPasswordHash } from '../../../../contract/src/ppp-auth/nt-hash';
import { PADDED_SECRET_BYTES, type SecretBox } from './secret-box';

/** Purpose of CHAP secret blobs (with tenant and user in the GCM context), so no other blob can be swapped in. */
export const CHAP_SECRET_CONTEXT = 'user-chap-secret';
/** Purpose of sealed NT hash blobs. */
export const NT_HASH_CONTEXT = 'user-nt-hash';

/** RFC 2759 §8.3: the password is "0-to-256-unicode-char". */
export const MAX_PASSWORD_CHARS = 256;

/** Whose credentials: bound into every sealed blob, so a blob copied to another user (or tenant) does not open. */
export interface CredentialOwner {
  readonly tenantId: string;
  readonly username: string;
}

export interface CredentialsOptions {
  /** Keep a reversible copy for CHAP-MD5 (RFC 1994 needs the secret itself). */
  readonly chapMd5: boolean;
  readonly secretBox: SecretBox;
}

/** GCM additional data of one user's blob of one purpose. */
export function userSecretContext(purpose: string, owner: CredentialOwner): string {
  return JSON.stringify([purpose, owner.tenantId, owner.username]);
}

/**
 * What the broker stores for a new password: the sealed NT hash (MS-CHAPv2 and PAP), plus the
 * sealed, padded password when CHAP-MD5 is enabled. See docs/credentials.md.
 */
export async function credentialsFromPassword(password: string, owner: CredentialOwner, options: CredentialsOptions): Promise<UserCredentials> {
  if (password.length === 0) throw new InvalidAuthInputError('password', 'must not be empty');
  if (password.length > MAX_PASSWORD_CHARS) {
    throw new InvalidAuthInputError('password', `must be at most ${MAX_PASSWORD_CHARS} characters (RFC 2759 §8.3)`);
  }
  const ntHashSealed = sealNtHash(await ntPasswordHash(password), owner, options.secretBox);
  if (!options.chapMd5) return { ntHashSealed };
  return { ntHashSealed, chapSecret: sealChapSecret(Buffer.from(password, 'utf8'), owner, options.secretBox) };
}

function sealNtHash(ntHash: Uint8Array, owner: CredentialOwner, box: SecretBox): EncryptedBlob {
  return box.encrypt(ntHash, userSecretContext(NT_HASH_CONTEXT, owner));
}

function sealChapSecret(secret: Uint8Array, owner: CredentialOwner, box: SecretBox): EncryptedBlob {
  return box.encrypt(secret, userSecretContext(CHAP_SECRET_CONTEXT, owner), { padTo: PADDED_SECRET_BYTES });
}

/**
 * The user's NT hash (16 bytes): opened from `ntHashSealed`, or read from a legacy clear `ntHash`.
 * Throws SecretBoxError on key/tamper problems and when neither is stored.
 */
export function ntHashOf(credentials: UserCredentials, owner: CredentialOwner, box: SecretBox): Buffer {
  if (credentials.ntHashSealed !== undefined) return box.decrypt(credentials.ntHashSealed, userSecretContext(NT_HASH_CONTEXT, owner));
  if (credentials.ntHash !== undefined && /^[0-9a-fA-F]{32}$/.test(credentials.ntHash)) return Buffer.from(credentials.ntHash, 'hex');
  throw new SecretBoxError(`credentials of ${owner.username} hold no usable NT hash`);
}

/** The CHAP-MD5 secret of a user, or undefined when none is stored. Throws SecretBoxError on key/tamper problems. */
export function chapSecretOf(credentials: UserCredentials, owner: CredentialOwner, box: SecretBox): Buffer | undefined {
  const blob = credentials.chapSecret;
  if (blob === undefined) return undefined;
  // Blobs sealed before framing (no `v`) were bound to the purpose alone.
  return box.decrypt(blob, blob.v === 2 ? userSecretContext(CHAP_SECRET_CONTEXT, owner) : CHAP_SECRET_CONTEXT);
}

/**
 * Credentials written before sealing (a clear `ntHash`, or a CHAP blob bound to its purpose only)
 * in today's form, or undefined when they already are. Called after a successful login, so the
 * re-sealed item replaces the old one on the way.
 */
export function resealedCredentials(credentials: UserCredentials, owner: CredentialOwner, box: SecretBox): UserCredentials | undefined {
  const legacyHash = credentials.ntHashSealed === undefined;
  const legacyChap = credentials.chapSecret !== undefined && credentials.chapSecret.v !== 2;
  if (!legacyHash && !legacyChap) return undefined;
  const chap = chapSecretOf(credentials, owner, box);
  return {
    ntHashSealed: legacyHash ? sealNtHash(ntHashOf(credentials, owner, box), owner, box) : credentials.ntHashSealed!,
    ...(chap !== undefined ? { chapSecret: legacyChap ? sealChapSecret(chap, owner, box) : credentials.chapSecret! } : {}),
  };
}
