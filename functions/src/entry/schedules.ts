/**
 * The broker's scheduled work and how often it runs: infra's EventBridge rules use these as their
 * default rates, and the local stack (`npm start`) runs the same handlers at the same intervals
 * unless told otherwise. One table, so the two cannot drift apart.
 */
export interface ScheduledJob {
  /** The entry point AWS invokes on the schedule. */
  readonly entry: string;
  readonly intervalMs: number;
  readonly what: string;
}

export const SCHEDULED_JOBS = {
  reaper: { entry: 'functions/src/entry/reaper.ts', intervalMs: 60_000, what: 'dead agents, their sessions, expired leases' },
  autoscaler: { entry: 'functions/src/entry/autoscaler.ts', intervalMs: 60_000, what: 'fleet size, drains and releases, tenant DNS records' },
  radiusAccounting: { entry: 'functions/src/entry/radius-accounting.ts', intervalMs: 60_000, what: 'RADIUS accounting records waiting in the outbox' },
} as const satisfies Record<string, ScheduledJob>;
