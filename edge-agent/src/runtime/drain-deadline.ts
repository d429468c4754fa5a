/**
 * The drain deadline on the agent's own clock: once a `drain` command arrives, sessions still up at
 * its deadline are ended (the broker's autoscaler ends them too, at release; whichever comes first
 * wins and the other's stop is a no-op). The agent enforces it itself so that a broker outage
 * during the drain does not leave sessions running past the promised time.
 */
import type { TimerHandle, TimerService } from '../clock';

/** Longest a single timer may wait (setTimeout's 32-bit limit); later deadlines re-arm in steps. */
const MAX_TIMER_MS = 2_147_000_000;

export class DrainDeadline {
  private timer: TimerHandle | undefined;
  /** The armed deadline (epoch ms), undefined when none. */
  deadline: number | undefined;

  constructor(
    private readonly timers: TimerService,
    private readonly onDeadline: () => void,
  ) {}

  /**
   * Arms (or keeps) the deadline. A repeated drain keeps the earliest deadline: the broker keeps the
   * first one too, so a later command can only repeat it. A non-finite deadline is ignored.
   */
  arm(deadline: number): void {
    if (!Number.isFinite(deadline)) return;
    if (this.deadline !== undefined && this.deadline <= deadline) return;
    this.deadline = deadline;
    this.schedule();
  }

  disarm(): void {
    this.timers.clear(this.timer);
    this.timer = undefined;
    this.deadline = undefined;
  }

  private schedule(): void {
    this.timers.clear(this.timer);
    const deadline = this.deadline;
    if (deadline === undefined) return;
    const wait = deadline - this.timers.now();
    this.timer = this.timers.set(Math.min(Math.max(0, wait), MAX_TIMER_MS), () => {
      this.timer = undefined;
      if (this.timers.now() < deadline) return this.schedule();
      this.onDeadline();
    });
  }
}
