import type { TimerHandle, TimerService } from './timer-service';

/** A manual clock: `advance(ms)` fires due timers in time order (ties in creation order). */
export class FakeTimers implements TimerService {
  private clock: number;
  private next = 1;
  private readonly pending = new Map<number, { at: number; callback: () => void }>();

  constructor(start = 1_700_000_000_000) {
    this.clock = start;
  }

  now(): number {
    return this.clock;
  }

  set(ms: number, callback: () => void): TimerHandle {
    const id = this.next++;
    this.pending.set(id, { at: this.clock + Math.max(0, ms), callback });
    return { id };
  }

  clear(handle: TimerHandle | undefined): void {
    if (handle) this.pending.delete(handle.id);
  }

  /** Number of armed timers (for leak checks in tests). */
  get size(): number {
    return this.pending.size;
  }

  /** Move the clock forward, firing every timer that falls due on the way (including ones they set). */
  advance(ms: number): void {
    const target = this.clock + ms;
    for (;;) {
      let dueId = -1;
      let dueAt = Infinity;
      for (const [id, t] of this.pending) {
        if (t.at <= target && (t.at < dueAt || (t.at === dueAt && id < dueId))) {
          dueAt = t.at;
          dueId = id;
        }
      }
      if (dueId < 0) break;
      const timer = this.pending.get(dueId);
      this.pending.delete(dueId);
      this.clock = Math.max(this.clock, dueAt);
      timer?.callback();
    }
    this.clock = target;
  }
}
