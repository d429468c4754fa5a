import type { UserCredentials } from '../types';
import { InvalidAuthInputError } from './errors';
import { ntPasswordHash } from './nt-hash';
import type { SecretBox } from './secret-box';

/** GCM context of CHAP secrets, so a PSK blob (or any other) cannot be swapped in as one. */
export const CHAP_SECRET_CONTEXT = 'user-chap-secret';

/** RFC 2759 §8.3: the password is "0-to-256-unicode-char". */
export const MAX_PASSWORD_CHARS = 256;

export interface CredentialsOptions {
  /** Keep a reversible copy for CHAP-MD5 (RFC 1994 needs the secret itself). */
  readonly chapMd5: boolean;
  readonly secretBox: SecretBox;
}

/**
 * What the broker stores for a new password: always the NT hash (MS-CHAPv2 and PAP), plus the
 * encrypted password when CHAP-MD5 is enabled. See docs/credentials.md.
 */
export async function credentialsFromPassword(password: string, options: CredentialsOptions): Promise<UserCredentials> {
  if (password.length === 0) throw new InvalidAuthInputError('password', 'must not be empty');
  if (password.length > MAX_PASSWORD_CHARS) {
    throw new InvalidAuthInputError('password', `must be at most ${MAX_PASSWORD_CHARS} characters (RFC 2759 §8.3)`);
  }
  const ntHash = (await ntPasswordHash(password)).toString('hex');
  if (!options.chapMd5) return { ntHash };
  return { ntHash, chapSecret: options.secretBox.encrypt(password, CHAP_SECRET_CONTEXT) };
}

/** The CHAP-MD5 secret of a user, or undefined when none is stored. Throws SecretBoxError on key/tamper problems. */
export function chapSecretOf(credentials: UserCredentials, secretBox: SecretBox): Buffer | undefined {
  if (credentials.chapSecret === undefined) return undefined;
  return secretBox.decrypt(credentials.chapSecret, CHAP_SECRET_CONTEXT);
}
