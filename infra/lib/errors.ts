/**
 * The one error family of infra/: a construct or the app context rejected its input.
 * Every problem found is collected before throwing, so one synth run reports them all.
 */
export class InfraConfigError extends Error {
  override readonly name = 'InfraConfigError';
  readonly problems: readonly string[];

  constructor(scope: string, problems: readonly string[]) {
    super(`${scope}: invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.problems = problems;
  }
}

/** Collects validation messages; `throwIfAny` raises one InfraConfigError listing every message. */
export class Problems {
  private readonly list: string[] = [];

  /** Records `message` when `failed` is true. */
  check(failed: boolean, message: string): void {
    if (failed) this.list.push(message);
  }

  add(message: string): void {
    this.list.push(message);
  }

  throwIfAny(scope: string): void {
    if (this.list.length > 0) throw new InfraConfigError(scope, this.list);
  }
}

/** True when `value` is undefined or an integer within [min, max]. */
export function optionalIntIn(value: number | undefined, min: number, max: number): boolean {
  return value === undefined || (Number.isInteger(value) && value >= min && value <= max);
}
