/**
 * The broker's part of the ppp-auth error family: user names and the secret box. The family's root
 * and the input error of the crypto both sides compute are the contract's, re-exported so that the
 * family reads whole here. Verification functions never throw for a wrong answer (they return
 * `false` / `{ ok: false }`); these errors are for malformed input and secret-handling failures
 * the caller must treat as a fault, not as a failed login.
 */
import { PppAuthError } from '../../../../contract/src/ppp-auth/errors';

export { InvalidAuthInputError, PppAuthError } from '../../../../contract/src/ppp-auth/errors';

export type InvalidPppUsernameReason =
  | 'empty'
  | 'empty-username'
  | 'empty-realm'
  | 'control-character'
  | 'too-long'
  | 'ambiguous-separator'
  | 'invalid-realm';

/** A PPP Name field that cannot be mapped to a (tenant, user) pair. */
export class InvalidPppUsernameError extends PppAuthError {
  constructor(readonly reason: InvalidPppUsernameReason, message: string) {
    super(message);
  }
}

/** Base of every secret-box failure. */
export class SecretBoxError extends PppAuthError {}

/** The key ring configuration is unusable (bad base64, wrong key size, missing current key). */
export class KeyRingConfigError extends SecretBoxError {}

/** A blob names a key id the ring does not hold (rotated out, or another environment's data). */
export class UnknownKeyError extends SecretBoxError {
  constructor(readonly keyId: string) {
    super(`secret box: unknown key id "${keyId}"`);
  }
}

/** Authentication of the ciphertext failed: wrong key material, tampered data or wrong context. */
export class SecretDecryptError extends SecretBoxError {
  constructor(readonly keyId: string, options?: { cause?: unknown }) {
    super(`secret box: cannot decrypt blob with key "${keyId}" (wrong key, wrong context or tampered data)`, options);
  }
}

/** The blob itself is structurally invalid (bad base64, wrong IV or tag size). */
export class MalformedBlobError extends SecretBoxError {}
