import type { TimerHandle, TimerService } from '../clock';

export interface IdleSweepOptions<S> {
  /** A session that moved no packet (either way) for this long is idle. */
  readonly timeoutMs: number;
  readonly timers: TimerService;
  /** Sessions whose PPP link is up (only those can be idle). */
  readonly sessions: () => Iterable<S>;
  /** The session's packet count so far, in plus out. */
  readonly packets: (session: S) => number;
  readonly expire: (session: S) => void;
}

/**
 * Ends idle sessions. One periodic sweep compares each session's packet counter with what it saw
 * last time, so the data path pays nothing per packet; a session is idle once its counter has
 * not moved for `timeoutMs` (detected within a quarter of the timeout, at most 30 s late).
 */
export class IdleSweep<S> {
  private readonly marks = new Map<S, { packets: number; since: number }>();
  private timer: TimerHandle | undefined;
  private readonly everyMs: number;

  constructor(private readonly o: IdleSweepOptions<S>) {
    this.everyMs = Math.max(1000, Math.min(o.timeoutMs / 4, 30_000));
  }

  start(): void {
    this.timer = this.o.timers.set(this.everyMs, () => {
      this.sweep(this.o.timers.now());
      this.start();
    });
  }

  stop(): void {
    this.o.timers.clear(this.timer);
    this.marks.clear();
  }

  sweep(now: number): void {
    const live = new Set<S>();
    for (const session of this.o.sessions()) {
      live.add(session);
      const packets = this.o.packets(session);
      const mark = this.marks.get(session);
      if (!mark || mark.packets !== packets) {
        this.marks.set(session, { packets, since: now });
      } else if (now - mark.since >= this.o.timeoutMs) {
        this.marks.delete(session);
        this.o.expire(session);
      }
    }
    for (const session of this.marks.keys()) if (!live.has(session)) this.marks.delete(session);
  }
}
