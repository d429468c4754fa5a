/**
 * The root of the ppp-auth error family and the one error the shared crypto throws. Verification
 * never throws for a wrong answer (it returns `false` / `{ ok: false }`); these errors are for
 * malformed input the caller must treat as a fault, not as a failed login. The broker extends the
 * family with its own (functions/src/domain/ppp-auth/errors.ts: user names, the secret box).
 */
export class PppAuthError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A byte field (challenge, response, hash) had the wrong size or encoding. */
export class InvalidAuthInputError extends PppAuthError {
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
  }
}
