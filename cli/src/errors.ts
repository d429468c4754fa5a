/** The CLI's error family: each kind carries its exit code and a line that says what to do. */
import { EXIT, type ExitCode } from './exit-codes';

export class CliError extends Error {
  constructor(
    readonly exitCode: ExitCode,
    message: string,
    /** What the operator can do about it. */
    readonly hint?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** A bad command line (exit 2). */
export class UsageError extends CliError {
  constructor(message: string, hint = 'see --help for the command') {
    super(EXIT.usage, message, hint);
  }
}

/** Missing or unsafe configuration (exit 4). */
export class ConfigError extends CliError {
  constructor(message: string, hint: string) {
    super(EXIT.config, message, hint);
  }
}

/** The broker did not answer at all (exit 3). */
export class UnreachableError extends CliError {
  constructor(url: string, reason: string) {
    super(EXIT.unreachable, `cannot reach the broker at ${url}: ${reason}`, 'check BROKER_URL and that the broker runs (locally: npm start)');
  }
}

/** The broker answered with its error body `{ error: { code, message, field?, hint } }` (exit 1). */
export class ApiError extends CliError {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly apiMessage: string,
    readonly field: string | undefined,
    hint: string | undefined,
    readonly requestId: string | undefined,
  ) {
    super(EXIT.apiError, `${status} ${code}: ${apiMessage}${field !== undefined ? ` (field ${field})` : ''}`, hint);
  }
}
