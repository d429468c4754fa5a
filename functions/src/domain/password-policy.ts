/**
 * A tenant's password policy: what a user's password must be, checked when a user is created and
 * when the password is changed (never at login: a PPP client cannot be told why). The default is
 * applied to tenants that set none, so a 1-character password is refused everywhere (issue 18).
 *
 * The name check follows NIST SP 800-63B §5.1.1.2 (refuse context-specific words): the password
 * may not be the user's name, nor contain it once the name has at least 3 characters (a shorter
 * name would refuse too many good passwords), compared case-insensitively.
 */
import type { PasswordPolicy } from './types';

export const DEFAULT_PASSWORD_POLICY: PasswordPolicy = { minLength: 8, rejectUsername: true };

/** Bounds of `minLength` a tenant may set (the upper one is RFC 2759's limit, §8.3). */
export const MIN_LENGTH_BOUNDS = { min: 1, max: 256 } as const;

/** The tenant's policy, or the default. */
export function effectivePolicy(policy: PasswordPolicy | undefined): PasswordPolicy {
  return policy ?? DEFAULT_PASSWORD_POLICY;
}

/** Why `password` breaks `policy` for `username` (the stored, canonical name), or undefined. */
export function passwordProblem(password: string, username: string, policy: PasswordPolicy): string | undefined {
  const length = [...password].length;
  if (length < policy.minLength) return `must be at least ${policy.minLength} characters (it has ${length})`;
  if (policy.rejectUsername) {
    const pw = password.toLowerCase();
    const name = username.toLowerCase();
    if (pw === name) return 'must not be the user name';
    if ([...name].length >= 3 && pw.includes(name)) return 'must not contain the user name';
  }
  return undefined;
}
