import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TimerHeap } from '../../../../edge-agent/src/clock/timer-heap';

/** A TimerHeap on a manual clock whose one native timer we fire by hand. */
function harness() {
  let clock = 1_000;
  let native: { callback: () => void; at: number } | undefined;
  let armings = 0;
  const heap = new TimerHeap({
    now: () => clock,
    setTimeout: (callback, ms) => {
      armings++;
      native = { callback, at: clock + ms };
      return native;
    },
    clearTimeout: (handle) => {
      if (handle === native) native = undefined;
    },
  });
  return {
    heap,
    get native() {
      return native;
    },
    get armings() {
      return armings;
    },
    /** Advance to `to`, firing the native timer whenever it falls due on the way. */
    advanceTo(to: number) {
      while (native && native.at <= to) {
        clock = Math.max(clock, native.at);
        const n = native;
        native = undefined;
        n.callback();
      }
      clock = to;
    },
  };
}

describe('TimerHeap', () => {
  test('fires in due-time order, ties in the order they were set, all on one native timer', () => {
    const h = harness();
    const fired: string[] = [];
    h.heap.set(300, () => fired.push('c'));
    h.heap.set(100, () => fired.push('a'));
    h.heap.set(200, () => fired.push('b1'));
    h.heap.set(200, () => fired.push('b2'));
    assert.equal(h.native?.at, 1_100, 'armed for the earliest');
    h.advanceTo(1_250);
    assert.deepEqual(fired, ['a', 'b1', 'b2']);
    h.advanceTo(1_300);
    assert.deepEqual(fired, ['a', 'b1', 'b2', 'c']);
    assert.equal(h.heap.size, 0);
    assert.equal(h.native, undefined, 'nothing armed once empty');
  });

  test('a cleared timer never fires; clearing the last one cancels the native timer', () => {
    const h = harness();
    const fired: string[] = [];
    const a = h.heap.set(100, () => fired.push('a'));
    const b = h.heap.set(50, () => fired.push('b'));
    h.heap.clear(b);
    h.heap.clear(b); // twice: ignored
    h.advanceTo(1_200);
    assert.deepEqual(fired, ['a']);
    h.heap.clear(a); // already fired: ignored
    const c = h.heap.set(500, () => fired.push('c'));
    assert.ok(h.native);
    h.heap.clear(c);
    assert.equal(h.native, undefined);
    h.heap.clear(undefined);
  });

  test('an earlier timer re-arms the native timer; a later one does not', () => {
    const h = harness();
    h.heap.set(1_000, () => {});
    const before = h.armings;
    h.heap.set(2_000, () => {});
    assert.equal(h.armings, before, 'later: no re-arm');
    h.heap.set(10, () => {});
    assert.equal(h.native?.at, 1_010);
  });

  test('timers set from a callback run when due, including one due at once', () => {
    const h = harness();
    const fired: string[] = [];
    h.heap.set(100, () => {
      fired.push('first');
      h.heap.set(0, () => fired.push('now'));
      h.heap.set(100, () => fired.push('later'));
    });
    h.advanceTo(1_100);
    assert.deepEqual(fired, ['first', 'now']);
    h.advanceTo(1_200);
    assert.deepEqual(fired, ['first', 'now', 'later']);
  });

  test('a native timer that fires early re-arms for what is left instead of firing it', () => {
    const h = harness();
    const fired: string[] = [];
    h.heap.set(100, () => fired.push('a'));
    const native = h.native!;
    native.callback(); // clock still 1,000: nothing is due
    assert.deepEqual(fired, []);
    assert.equal(h.native?.at, 1_100);
  });

  test('keeps order under many random sets and clears (heap invariant)', () => {
    const h = harness();
    const fired: number[] = [];
    const handles = [];
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 2_000; i++) {
      const ms = Math.floor(rand() * 10_000);
      handles.push({ ms, handle: h.heap.set(ms, () => fired.push(ms)) });
    }
    const cleared = new Set<number>();
    for (let i = 0; i < 2_000; i += 3) {
      h.heap.clear(handles[i]!.handle);
      cleared.add(i);
    }
    h.advanceTo(20_000);
    const expected = handles.filter((_, i) => !cleared.has(i)).map((x) => x.ms);
    assert.equal(fired.length, expected.length);
    assert.deepEqual(fired, [...fired].sort((x, y) => x - y));
    assert.deepEqual([...fired].sort((x, y) => x - y), expected.sort((x, y) => x - y));
    assert.equal(h.heap.size, 0);
  });

  test('the system clock variant fires for real', async () => {
    const heap = new TimerHeap();
    const t0 = Date.now();
    const at = await new Promise<number>((resolve) => heap.set(20, () => resolve(Date.now())));
    assert.ok(at - t0 >= 19, `fired after ${at - t0} ms`);
    assert.equal(heap.size, 0);
  });
});
