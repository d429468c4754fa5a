/**
 * Many timers on one Node timer: a binary min-heap of due times, and a single `setTimeout` armed
 * for the earliest. With 10,000 sessions the agent holds ~20,000 timers (LCP echo, interim
 * accounting, L2TP HELLO and retransmissions); as Node `Timeout`s each cost ~250 bytes plus a
 * wrapper closure and a map entry (~700 bytes a session), here an entry is one small object.
 */
import type { TimerHandle, TimerService } from './timer-service';

interface Entry extends TimerHandle {
  at: number;
  /** Creation order: equal due times fire first-set first. */
  readonly seq: number;
  callback: (() => void) | undefined;
  /** Position in the heap, -1 once fired or cleared. */
  index: number;
}

const MAX_DELAY_MS = 0x7fffffff;

export interface TimerHeapOptions {
  readonly now?: () => number;
  readonly setTimeout?: (callback: () => void, ms: number) => unknown;
  readonly clearTimeout?: (handle: unknown) => void;
}

export class TimerHeap implements TimerService {
  private readonly heap: Entry[] = [];
  private seq = 0;
  private armedAt = Infinity;
  private armed: unknown;
  private firing = false;
  private readonly clock: () => number;
  private readonly setNative: (callback: () => void, ms: number) => unknown;
  private readonly clearNative: (handle: unknown) => void;

  constructor(options: TimerHeapOptions = {}) {
    this.clock = options.now ?? Date.now;
    this.setNative = options.setTimeout ?? ((callback, ms) => setTimeout(callback, ms));
    this.clearNative = options.clearTimeout ?? ((handle) => clearTimeout(handle as NodeJS.Timeout));
  }

  now(): number {
    return this.clock();
  }

  /** Armed timers (for leak checks in tests). */
  get size(): number {
    return this.heap.length;
  }

  set(ms: number, callback: () => void): TimerHandle {
    const entry: Entry = { id: ++this.seq, at: this.clock() + Math.max(0, ms), seq: this.seq, callback, index: this.heap.length };
    this.heap.push(entry);
    this.up(entry.index);
    if (!this.firing) this.arm();
    return entry;
  }

  clear(handle: TimerHandle | undefined): void {
    const entry = handle as Entry | undefined;
    if (!entry || entry.index < 0 || this.heap[entry.index] !== entry) return;
    this.removeAt(entry.index);
    entry.callback = undefined;
    // A native timer armed for a cleared head just fires early and re-arms; but with nothing left
    // it is cancelled, so a stopped agent's process can exit.
    if (this.heap.length === 0 && !this.firing) this.arm();
  }

  /** Runs every due timer (in due-time order), then re-arms for the next one. */
  private fire(): void {
    this.armed = undefined;
    this.armedAt = Infinity;
    this.firing = true;
    try {
      const now = this.clock();
      for (let head = this.heap[0]; head && head.at <= now; head = this.heap[0]) {
        this.removeAt(0);
        const callback = head.callback;
        head.callback = undefined;
        try {
          callback?.();
        } catch (error) {
          // One timer's bug must not stop the others (and the heap) forever: report it like Node would, later.
          queueMicrotask(() => {
            throw error;
          });
        }
      }
    } finally {
      this.firing = false;
      this.arm();
    }
  }

  private arm(): void {
    const head = this.heap[0];
    if (!head) {
      if (this.armed !== undefined) this.clearNative(this.armed);
      this.armed = undefined;
      this.armedAt = Infinity;
      return;
    }
    if (this.armed !== undefined && head.at >= this.armedAt) return; // fires in time; re-armed then
    if (this.armed !== undefined) this.clearNative(this.armed);
    this.armedAt = head.at;
    // Node turns delays beyond 2^31-1 ms into 1 ms: wake up at that cap and look again instead.
    this.armed = this.setNative(() => this.fire(), Math.min(MAX_DELAY_MS, Math.max(0, head.at - this.clock())));
  }

  private less(a: Entry, b: Entry): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private removeAt(i: number): void {
    const heap = this.heap;
    const gone = heap[i]!;
    const last = heap.pop()!;
    gone.index = -1;
    if (last === gone) return;
    heap[i] = last;
    last.index = i;
    this.down(i);
    this.up(last.index);
  }

  private up(i: number): void {
    const heap = this.heap;
    const entry = heap[i]!;
    while (i > 0) {
      const parentIndex = (i - 1) >> 1;
      const parent = heap[parentIndex]!;
      if (!this.less(entry, parent)) break;
      heap[i] = parent;
      parent.index = i;
      i = parentIndex;
    }
    heap[i] = entry;
    entry.index = i;
  }

  private down(i: number): void {
    const heap = this.heap;
    const n = heap.length;
    const entry = heap[i]!;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && this.less(heap[right]!, heap[left]!) ? right : left;
      if (!this.less(heap[child]!, entry)) break;
      heap[i] = heap[child]!;
      heap[i]!.index = i;
      i = child;
    }
    heap[i] = entry;
    entry.index = i;
  }
}

/** Timers on the Node event loop: all of them on one Node timer. */
export function systemTimers(): TimerService {
  return new TimerHeap();
}

/** Like systemTimers, but an armed timer does not keep the process alive (background retries). */
export function backgroundTimers(): TimerService {
  return new TimerHeap({ setTimeout: (callback, ms) => setTimeout(callback, ms).unref() });
}
