import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startScheduledJob } from '../../../../../scripts/lib/stack/scheduled-job';

/** Timers the test advances by hand. */
function manualTimers() {
  const pending = new Map<number, { fn: () => void; ms: number }>();
  let next = 1;
  return {
    timers: {
      set: (fn: () => void, ms: number) => {
        pending.set(next, { fn, ms });
        return next++;
      },
      clear: (handle: unknown) => void pending.delete(handle as number),
    },
    pending: () => [...pending.values()],
    fire() {
      const [id, entry] = [...pending.entries()][0] ?? [];
      assert.ok(id !== undefined && entry, 'a timer is pending');
      pending.delete(id);
      entry.fn();
    },
  };
}

const settle = () => new Promise((r) => setImmediate(r));

test('runs at once, then once per interval; prints only what happened, failures once, and the recovery', async () => {
  const clock = manualTimers();
  const outcomes: Array<number | Error> = [0, 2, 0, new Error('store unreachable'), new Error('store unreachable'), 0, 0];
  const lines: string[] = [];
  let runs = 0;
  const job = startScheduledJob({
    name: 'reaper',
    intervalMs: 60_000,
    run: async () => {
      const outcome = outcomes[runs++];
      if (outcome instanceof Error) throw outcome;
      return outcome ?? 0;
    },
    describe: (dead) => (dead > 0 ? `${dead} agents marked dead` : undefined),
    print: (line) => lines.push(line),
    timers: clock.timers,
  });
  await settle();
  assert.equal(runs, 1, 'first run at start');
  for (let i = 0; i < 6; i++) {
    assert.equal(clock.pending().length, 1, 'exactly one next run is scheduled');
    assert.equal(clock.pending()[0]!.ms, 60_000);
    clock.fire();
    await settle();
  }
  assert.equal(runs, 7);
  assert.deepEqual(lines, [
    'reaper: 2 agents marked dead',
    'reaper: FAILED: store unreachable (retried every 60 s)',
    'reaper: recovered',
  ]);
  assert.equal(job.last()?.result, 0);
  await job.stop();
  assert.equal(clock.pending().length, 0, 'nothing scheduled after stop');
});

test('runNow during a run queues one more run after it, and leaves a single timer', async () => {
  const clock = manualTimers();
  let release!: () => void;
  let runs = 0;
  const job = startScheduledJob({
    name: 'autoscaler',
    intervalMs: 1_000,
    run: () => {
      runs++;
      return runs === 1 ? new Promise<number>((r) => (release = () => r(1))) : Promise.resolve(runs);
    },
    describe: () => undefined,
    print: () => {},
    timers: clock.timers,
  });
  const now = job.runNow();
  await settle();
  assert.equal(runs, 1, 'the second run waits for the first');
  release();
  await now;
  assert.equal(runs, 2);
  await settle();
  assert.equal(clock.pending().length, 1);
  const stopping = job.stop();
  await stopping;
  assert.equal(clock.pending().length, 0);
});
