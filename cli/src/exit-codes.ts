/**
 * The CLI's exit codes, one owner (docs/cli.md lists them): scripts switch on these, so each kind
 * of failure keeps its number.
 */
export const EXIT = {
  /** The command did what it was asked. */
  ok: 0,
  /** The broker answered with an error (4xx/5xx); its code, message and hint are printed. */
  apiError: 1,
  /** The command line is wrong: unknown command or option, a missing or malformed argument. */
  usage: 2,
  /** The broker could not be reached (connection refused, DNS, timeout). */
  unreachable: 3,
  /** No usable configuration: BROKER_URL or the token is missing, or the config file is unsafe or unreadable. */
  config: 4,
  /** A waiting command (`agents drain --wait`) gave up at its `--timeout`. */
  timeout: 5,
  /** Some rows of a bulk command (`users import`) failed; the others were done. */
  partial: 6,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
