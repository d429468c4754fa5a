/**
 * The clock and timers the runtime uses, behind a small interface so that the whole agent runs on a
 * fake clock in tests (protocol retransmissions, keepalives, heartbeats) without waiting. Every
 * wait in edge-agent/src goes through one (an import-graph test keeps setTimeout in clock/ alone).
 */
export interface TimerHandle {
  readonly id: number;
}

export interface TimerService {
  /** Milliseconds since the epoch (or since the fake clock's origin). */
  now(): number;
  /** Run `callback` once after `ms`. */
  set(ms: number, callback: () => void): TimerHandle;
  /** Cancel a timer; unknown or fired handles are ignored. */
  clear(handle: TimerHandle | undefined): void;
}

/** A promise that settles after `ms` on `timers` (for backoffs and bounded waits). */
export function sleep(timers: TimerService, ms: number): Promise<void> {
  return new Promise((resolve) => timers.set(ms, resolve));
}
