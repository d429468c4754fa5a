/**
 * The password test fixtures give a user created through the broker: it meets the default password
 * policy (functions/src/domain/password-policy.ts: 8 characters at least, not containing the user
 * name), and differs per user, so one user's password never works for another. Was `pw-<user>`,
 * which the policy refuses since issue 18.
 */
export function fixturePassword(username: string): string {
  return `tb-pass-${Buffer.from(username, 'utf8').toString('hex')}`;
}
