/**
 * How a stored session changes with the agent's reports, for every Store to apply (the DynamoDB
 * store also guards them with conditions: store/dynamo/session-ops.ts):
 * - counters only grow, per field: a late or repeated report never lowers them;
 * - `updatedAt` never moves back;
 * - a stop happens once; a stopped session never changes again.
 */
import type { AgentCounters, EndReason, Session } from './types';

/** The per-field maximum of the stored counters and a report (a copy of `stored` without one). */
export function maxCounters(stored: AgentCounters, reported: AgentCounters | undefined): AgentCounters {
  if (!reported) return { bytesIn: stored.bytesIn, bytesOut: stored.bytesOut, packetsIn: stored.packetsIn, packetsOut: stored.packetsOut };
  return {
    bytesIn: Math.max(stored.bytesIn, reported.bytesIn),
    bytesOut: Math.max(stored.bytesOut, reported.bytesOut),
    packetsIn: Math.max(stored.packetsIn, reported.packetsIn),
    packetsOut: Math.max(stored.packetsOut, reported.packetsOut),
  };
}

/**
 * The active session after an interim report at `at`, or undefined when the report changes nothing
 * (no counter grows and it is not newer than the last update).
 */
export function afterInterim(s: Session, reported: AgentCounters, at: number): Session | undefined {
  const next = maxCounters(s, reported);
  const grows = next.bytesIn > s.bytesIn || next.bytesOut > s.bytesOut || next.packetsIn > s.packetsIn || next.packetsOut > s.packetsOut;
  if (!grows && at <= s.updatedAt) return undefined;
  return { ...s, ...next, updatedAt: Math.max(s.updatedAt, at) };
}

/** The active session `s` stopped at `stop.at` for `stop.reason`, with its final counters. */
export function stoppedSession(s: Session, stop: { readonly reason: EndReason; readonly at: number; readonly counters?: AgentCounters }): Session {
  return {
    ...s,
    ...maxCounters(s, stop.counters),
    state: 'stopped',
    stoppedAt: stop.at,
    endReason: stop.reason,
    updatedAt: Math.max(s.updatedAt, stop.at),
  };
}
