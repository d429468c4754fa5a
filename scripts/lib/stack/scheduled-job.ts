/**
 * Runs one of the broker's scheduled handlers on a timer, the way EventBridge runs it in AWS: once
 * at start, then every interval, never two runs at once (a slow run delays the next, like the
 * functions' reserved concurrency of 1). It prints a line only when a run did something or its
 * outcome changed (a failure, the recovery after it), never one per tick.
 */
export interface ScheduledJobOptions<T> {
  readonly name: string;
  readonly intervalMs: number;
  readonly run: () => Promise<T>;
  /** The line worth printing for this result, or undefined when nothing happened. */
  readonly describe: (result: T, previous: T | undefined) => string | undefined;
  readonly print: (line: string) => void;
  /** Injected timers for tests. @default setTimeout / clearTimeout */
  readonly timers?: { set(fn: () => void, ms: number): unknown; clear(handle: unknown): void };
}

export interface ScheduledJob<T> {
  /** The last run's result or error, and when it ended. */
  last(): { readonly at: number; readonly result?: T; readonly error?: string } | undefined;
  /** Runs now (after a run in progress) and resolves when that run is done. */
  runNow(): Promise<void>;
  /** No further runs; resolves once a run in progress has finished. */
  stop(): Promise<void>;
}

export function startScheduledJob<T>(options: ScheduledJobOptions<T>): ScheduledJob<T> {
  const timers = options.timers ?? { set: (fn: () => void, ms: number) => setTimeout(fn, ms), clear: (h: unknown) => clearTimeout(h as NodeJS.Timeout) };
  let stopped = false;
  let timer: unknown;
  let inFlight: Promise<void> | undefined;
  let last: { at: number; result?: T; error?: string } | undefined;
  let previousResult: T | undefined;
  let failing: string | undefined;

  const once = async () => {
    try {
      const result = await options.run();
      const line = options.describe(result, previousResult);
      if (failing !== undefined) options.print(`${options.name}: recovered${line ? `; ${line}` : ''}`);
      else if (line) options.print(`${options.name}: ${line}`);
      failing = undefined;
      previousResult = result;
      last = { at: Date.now(), result };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (message !== failing) options.print(`${options.name}: FAILED: ${message} (retried every ${options.intervalMs / 1000} s)`);
      failing = message;
      last = { at: Date.now(), error: message };
    }
  };
  /** The next run starts `intervalMs` after the last one ended, and only when none is queued. */
  const schedule = () => {
    if (stopped || inFlight !== undefined || timer !== undefined) return;
    timer = timers.set(() => {
      timer = undefined;
      void runOnce();
    }, options.intervalMs);
  };
  const runOnce = (): Promise<void> => {
    timers.clear(timer);
    timer = undefined;
    const next: Promise<void> = (inFlight ?? Promise.resolve()).then(once).finally(() => {
      if (inFlight === next) inFlight = undefined;
      schedule();
    });
    inFlight = next;
    return next;
  };
  void runOnce();

  return {
    last: () => last,
    runNow: runOnce,
    async stop() {
      stopped = true;
      timers.clear(timer);
      timer = undefined;
      await inFlight;
    },
  };
}
