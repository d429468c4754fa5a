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
  /** Passed on the second attempt; `detail` then also carries the first failure. */
  readonly retried?: boolean;
}

export interface Scenario<C> {
  readonly name: string;
  readonly title: string;
  /** Needs the agent in plain-L2TP mode (IPSEC=off ALLOW_PLAIN_L2TP=true); run.ts restarts it for these, last. */
  readonly plainAgent?: boolean;
  /** Needs the agent in the `cloud` namespace (behind the 1:1 NAT); run.ts starts it at set-up. */
  readonly cloudAgent?: boolean;
  run(ctx: C): Promise<string>;
}

export interface RunBudget {
  /** Epoch ms after which no further scenario starts (reported SKIP). */
  readonly deadline: number;
  /** Bound per attempt. */
  readonly perScenarioTimeoutMs: number;
  /** Extra attempts after a failure (a loaded CI machine); at most one is sensible. */
  readonly retries: number;
  /** True once the run is interrupted (SIGINT/SIGTERM): nothing further starts. */
  readonly stopped?: () => boolean;
}

async function attempt<C>(scenario: Scenario<C>, ctx: C, timeoutMs: number): Promise<{ outcome: Outcome; detail: string }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`scenario timed out after ${timeoutMs} ms`)), timeoutMs);
    });
    return { outcome: 'PASS', detail: await Promise.race([scenario.run(ctx), timeout]) };
  } catch (error) {
    return { outcome: error instanceof ScenarioSkipped ? 'SKIP' : 'FAIL', detail: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs the scenarios one by one. A failed scenario is tried again once (`retries`), and a pass
 * on the retry is reported as such with the first failure, so flakiness stays visible.
 */
export async function runScenarios<C>(
  scenarios: readonly Scenario<C>[],
  ctx: C,
  print: (line: string) => void,
  budget: RunBudget = { deadline: Number.POSITIVE_INFINITY, perScenarioTimeoutMs: 120_000, retries: 0 },
): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  for (const scenario of scenarios) {
    const started = Date.now();
    let result: ScenarioResult;
    if (budget.stopped?.()) return results;
    if (started > budget.deadline) {
      result = { name: scenario.name, outcome: 'SKIP', ms: 0, detail: 'run time budget exhausted before this scenario' };
    } else {
      let { outcome, detail } = await attempt(scenario, ctx, budget.perScenarioTimeoutMs);
      let retried = false;
      for (let i = 0; i < budget.retries && outcome === 'FAIL' && Date.now() < budget.deadline && !budget.stopped?.(); i++) {
        print(`RETRY ${scenario.name.padEnd(20)} after: ${detail.split('\n')[0] ?? ''}`);
        const again = await attempt(scenario, ctx, budget.perScenarioTimeoutMs);
        retried = again.outcome === 'PASS';
        detail = retried ? `${again.detail}\n(first attempt failed: ${detail.split('\n')[0] ?? ''})` : `${again.detail}\n(first attempt: ${detail.split('\n')[0] ?? ''})`;
        outcome = again.outcome;
      }
      result = { name: scenario.name, outcome, ms: Date.now() - started, detail, ...(retried ? { retried } : {}) };
    }
    if (budget.stopped?.()) return results;
    results.push(result);
    print(formatResult(result));
  }
  return results;
}

export function formatResult(result: ScenarioResult): string {
  const seconds = `${(result.ms / 1000).toFixed(1)}s`.padStart(6);
  const [first, ...rest] = result.detail.split('\n');
  const more = rest.length > 0 ? `\n${rest.map((l) => `          ${l}`).join('\n')}` : '';
  const outcome = result.retried ? 'PASS*' : result.outcome;
  return `${outcome.padEnd(5)} ${result.name.padEnd(20)} ${seconds}  ${first ?? ''}${more}`;
}
