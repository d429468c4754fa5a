/**
 * Per-tenant usage (issue 18): sessions, session-hours and bytes per UTC day and per user over a
 * time range, computed from the session records alone (what a team bills its customers by).
 *
 * The rule for sessions that span days (docs/api.md, "Usage"): a session is active over
 * [startedAt, stoppedAt), or until now while it runs. It counts once on every UTC day (and once for
 * its user) that this span shares with the range; its hours are the part of the span inside each
 * day and the range. Its bytes (in and out) are only known as totals, so they are spread over its
 * accounted span, [startedAt, stoppedAt or its last report], in proportion to time; each part is
 * rounded so that the parts of a session add up to its total exactly. A session with no duration
 * counts on the day it started, with all its bytes.
 */
import type { Session } from './types';

export const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

export interface UsageFigures {
  sessions: number;
  sessionHours: number;
  bytesIn: number;
  bytesOut: number;
}

export interface TenantUsage {
  readonly totals: UsageFigures;
  /** One entry per UTC day the range touches, in order (`YYYY-MM-DD`). */
  readonly days: readonly ({ readonly day: string } & UsageFigures)[];
  /** Users with any session in the range, by name. */
  readonly users: readonly ({ readonly username: string } & UsageFigures)[];
}

const zero = (): UsageFigures => ({ sessions: 0, sessionHours: 0, bytesIn: 0, bytesOut: 0 });
const dayStart = (t: number) => Math.floor(t / DAY_MS) * DAY_MS;
const dayName = (t: number) => new Date(t).toISOString().slice(0, 10);

/** Bytes of `total` spread over [start, end] that fall before `t`, rounded (parts of adjacent slices add up). */
function bytesBefore(total: number, start: number, end: number, t: number): number {
  if (end <= start) return t > start ? total : 0;
  const share = Math.min(1, Math.max(0, (t - start) / (end - start)));
  return Math.round(total * share);
}

/** Usage of `sessions` (any order, any overlap) over [from, to), as of `now`. */
export function usageOf(sessions: readonly Session[], from: number, to: number, now: number): TenantUsage {
  const days = new Map<number, UsageFigures>();
  for (let d = dayStart(from); d < to; d += DAY_MS) days.set(d, zero());
  const users = new Map<string, UsageFigures>();
  const totals = zero();
  for (const s of sessions) {
    const end = s.stoppedAt ?? Math.max(now, s.startedAt);
    const accountedEnd = s.stoppedAt ?? Math.max(s.updatedAt, s.startedAt);
    // Overlap of the session's span with the range; a zero-length session is a point at startedAt.
    const lo = Math.max(s.startedAt, from);
    const hi = Math.min(end, to);
    const point = end === s.startedAt;
    if (point ? s.startedAt < from || s.startedAt >= to : lo >= hi) continue;
    const user = users.get(s.username) ?? zero();
    users.set(s.username, user);
    const add = (f: UsageFigures, hours: number, bytesIn: number, bytesOut: number, count: boolean) => {
      if (count) f.sessions += 1;
      f.sessionHours += hours;
      f.bytesIn += bytesIn;
      f.bytesOut += bytesOut;
    };
    let counted = false;
    for (let d = dayStart(lo); point ? d === dayStart(lo) : d < hi; d += DAY_MS) {
      const a = Math.max(lo, d);
      const b = point ? a : Math.min(hi, d + DAY_MS);
      const hours = (b - a) / HOUR_MS;
      const slice = (total: number) => (point ? total : bytesBefore(total, s.startedAt, accountedEnd, b) - bytesBefore(total, s.startedAt, accountedEnd, a));
      const bi = slice(s.bytesIn);
      const bo = slice(s.bytesOut);
      add(days.get(d)!, hours, bi, bo, true);
      add(user, hours, bi, bo, !counted);
      add(totals, hours, bi, bo, !counted);
      counted = true;
    }
  }
  const round = (f: UsageFigures): UsageFigures => ({ ...f, sessionHours: Math.round(f.sessionHours * 1000) / 1000 });
  return {
    totals: round(totals),
    days: [...days.entries()].sort(([a], [b]) => a - b).map(([d, f]) => ({ day: dayName(d), ...round(f) })),
    users: [...users.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([username, f]) => ({ username, ...round(f) })),
  };
}

/** Longest range one usage query covers (a quarter): bounds the sessions it reads. */
export const MAX_USAGE_RANGE_MS = 92 * DAY_MS;
/**
 * How far before the range a stopped session may have started and still be counted: sessions are
 * listed by start time, so one that started earlier and ended inside the range is not seen.
 * Running sessions are counted whenever they started.
 */
export const USAGE_LOOKBACK_MS = 31 * DAY_MS;
