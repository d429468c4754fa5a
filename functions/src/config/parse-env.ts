/**
 * The one scheme every broker entry point parses its configuration with: an env-like object, a zod
 * schema per part, empty strings counted as unset, and every bad or missing key named at once (a
 * ConfigError never contains a value, so no secret is echoed).
 */
import type { z } from 'zod';

export interface ConfigProblem {
  readonly key: string;
  readonly message: string;
}

/** A configuration could not be parsed; names every offending key. */
export class ConfigError extends Error {
  /** The first offending key. */
  readonly key: string;

  constructor(
    readonly part: string,
    readonly problems: readonly ConfigProblem[],
  ) {
    super(`${part} configuration invalid: ${problems.map((p) => `${p.key}: ${p.message}`).join('; ')}`);
    this.name = 'ConfigError';
    this.key = problems[0]?.key ?? 'env';
  }
}

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Parses `env` with `schema` for the named part (`broker`, `reaper`, `autoscaler`, ...) and builds
 * the part's config with `build`, which reports rules between keys through `problem`. Throws one
 * ConfigError listing every problem.
 */
export function parseEnv<S extends z.ZodType, T>(
  part: string,
  schema: S,
  env: Env,
  build: (parsed: z.output<S>, problem: (key: string, message: string) => void) => T,
): T {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(
      part,
      parsed.error.issues.map((issue) => {
        const key = String(issue.path[0] ?? 'env');
        return { key, message: issue.code === 'invalid_type' && cleaned[key] === undefined ? 'is required' : issue.message };
      }),
    );
  }
  const problems: ConfigProblem[] = [];
  const value = build(parsed.data, (key, message) => problems.push({ key, message }));
  if (problems.length > 0) throw new ConfigError(part, problems);
  return value;
}
