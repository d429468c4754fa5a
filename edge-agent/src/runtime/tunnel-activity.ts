/**
 * The info-level account of tunnel comings and goings: one line per period (default a minute) with
 * how many tunnels were established and closed (by reason) and how many there are now, instead of a
 * line per tunnel. At thousands of setups a second a line per tunnel cost as much CPU as the L2TP
 * work itself (issue 21); each tunnel's own lines are at debug. Troubles (a peer that stopped
 * answering, a protocol error, a failed tunnel authentication) still get their line each.
 * No timer runs while nothing happens.
 */
import type { Logger } from 'pino';
import type { TimerHandle, TimerService } from '../clock';

export const DEFAULT_TUNNEL_ACTIVITY_MS = 60_000;

export class TunnelActivity {
  private established = 0;
  private closed: Record<string, number> = {};
  private timer: TimerHandle | undefined;

  constructor(
    private readonly timers: TimerService,
    private readonly log: Logger,
    /** Tunnels now, for the line. */
    private readonly current: () => number,
    private readonly periodMs = DEFAULT_TUNNEL_ACTIVITY_MS,
  ) {}

  tunnelEstablished(): void {
    this.established++;
    this.arm();
  }

  tunnelClosed(reason: string): void {
    this.closed[reason] = (this.closed[reason] ?? 0) + 1;
    this.arm();
  }

  /** Log what is pending now (shutdown) and stop the timer. */
  flush(): void {
    this.timers.clear(this.timer);
    this.timer = undefined;
    this.report();
  }

  private arm(): void {
    this.timer ??= this.timers.set(this.periodMs, () => {
      this.timer = undefined;
      this.report();
    });
  }

  private report(): void {
    const closed = Object.values(this.closed).reduce((n, c) => n + c, 0);
    if (this.established === 0 && closed === 0) return;
    this.log.info({ established: this.established, closed, closedBy: this.closed, tunnels: this.current(), periodMs: this.periodMs }, 'tunnel activity');
    this.established = 0;
    this.closed = {};
  }
}
