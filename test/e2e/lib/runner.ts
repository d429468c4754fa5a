/**
 * Runs scenarios one after another (they share one guest), times each, and prints one report
 * line per scenario. A scenario passes by returning a short detail string, fails by throwing,
 * and is skipped by throwing ScenarioSkipped (a precondition of this run does not hold).
 */
import { ScenarioSkipped } from './errors';

export type Outcome = 'PASS' | 'FAIL' | 'SKIP';

export interface ScenarioResult {
  readonly name: string;
  readonly outcome: Outcome;
  readonly ms: number;
  readonly detail: string;
}

export interface Scenario<C> {
  readonly name: string;
  readonly title: string;
  run(ctx: C): Promise<string>;
}

export async function runScenarios<C>(
  scenarios: readonly Scenario<C>[],
  ctx: C,
  print: (line: string) => void,
  perScenarioTimeoutMs = 120_000,
): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  for (const scenario of scenarios) {
    const started = Date.now();
    let outcome: Outcome;
    let detail: string;
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`scenario timed out after ${perScenarioTimeoutMs} ms`)), perScenarioTimeoutMs);
      });
      detail = await Promise.race([scenario.run(ctx), timeout]);
      outcome = 'PASS';
    } catch (error) {
      outcome = error instanceof ScenarioSkipped ? 'SKIP' : 'FAIL';
      detail = error instanceof Error ? error.message : String(error);
    } finally {
      clearTimeout(timer);
    }
    const result: ScenarioResult = { name: scenario.name, outcome, ms: Date.now() - started, detail };
    results.push(result);
    print(formatResult(result));
  }
  return results;
}

export function formatResult(result: ScenarioResult): string {
  const seconds = `${(result.ms / 1000).toFixed(1)}s`.padStart(6);
  const [first, ...rest] = result.detail.split('\n');
  const more = rest.length > 0 ? `\n${rest.map((l) => `          ${l}`).join('\n')}` : '';
  return `${result.outcome}  ${result.name.padEnd(20)} ${seconds}  ${first ?? ''}${more}`;
}
