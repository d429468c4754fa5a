/**
 * The ppp-auth error family. Verification functions never throw for a wrong answer (they return
 * `false` / `{ ok: false }`); these errors are for malformed input and secret-handling failures
 * the caller must treat as a fault, not as a failed login.
 */
export class PppAuthError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

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

/** A byte field (challenge, response, hash) had the wrong size or encoding. */
export class InvalidAuthInputError extends PppAuthError {
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
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
