/**
 * The IPsec controller's error family. VICI failures arrive as `ViciError`s and are wrapped so the
 * runtime can tell "charon is not there" (retryable, operator action) from "charon refused our
 * configuration" (a bug or an unsupported strongSwan build).
 */

/** Base of every error the IPsec controller throws. */
export class IpsecError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The VICI socket cannot be reached (charon not running, vici plugin not loaded, permissions). */
export class IpsecUnavailableError extends IpsecError {
  constructor(
    readonly socketPath: string,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    const detail = options?.cause instanceof Error ? `: ${options.cause.message}` : '';
    super(`strongSwan is not reachable over VICI (${code}): is charon running? socket path ${socketPath}${detail}`, options);
  }
}

/** charon answered a configuration command with `success = no` (or the command failed otherwise). */
export class IpsecConfigError extends IpsecError {
  constructor(readonly command: string, message: string, options?: { cause?: unknown }) {
    super(`strongSwan rejected ${command}: ${message}`, options);
  }
}

/** The controller was closed; no further operations are possible. */
export class IpsecClosedError extends IpsecError {}
