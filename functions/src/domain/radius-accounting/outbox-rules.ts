/**
 * Which accounting records a session change writes to the outbox (the one owner of that rule):
 * both stores call these pure functions inside the transaction of the change itself, so a record
 * exists exactly when its change was stored, on every path (the agent's reports, the reaper,
 * reconciliation, scale-in, tenant deletion).
 * - start: one Start record, when the session carries `accounting` (its tenant had it on);
 * - interim: one Interim-Update record once `interimIntervalSeconds` have passed since the last
 *   one (or the start), with the counters after the report;
 * - stop: one Stop record with the final counters and the end reason.
 */
import type { AccountingRecord, AccountingStatus, Session } from '../types';

/** Orders a session's records by status when two share one event time (start < interim < stop). */
const STATUS_ORDER: Record<AccountingStatus, number> = { start: 1, interim: 2, stop: 3 };

/** Zero-padded epoch ms: string order equals time order. */
const pad = (ms: number) => Math.max(0, Math.floor(ms)).toString().padStart(15, '0');

/** The record id: one per (session, event time, status), so a rewrite of one event never adds a second record. */
export function accountingRecordId(sessionId: string, eventAt: number, status: AccountingStatus): string {
  return `${sessionId}#${pad(eventAt)}#${STATUS_ORDER[status]}`;
}

function record(s: Session, status: AccountingStatus, eventAt: number): AccountingRecord | undefined {
  if (!s.accounting) return undefined;
  return {
    recordId: accountingRecordId(s.sessionId, eventAt, status),
    tenantId: s.tenantId,
    sessionId: s.sessionId,
    status,
    eventAt,
    startedAt: s.startedAt,
    username: s.username,
    agentId: s.agentId,
    assignedIp: s.assignedIp,
    ...(s.peerAddress !== undefined ? { peerAddress: s.peerAddress } : {}),
    authMethod: s.authMethod,
    bytesIn: s.bytesIn,
    bytesOut: s.bytesOut,
    packetsIn: s.packetsIn,
    packetsOut: s.packetsOut,
    ...(status === 'stop' && s.endReason !== undefined ? { endReason: s.endReason } : {}),
    ...(s.radiusClass !== undefined ? { radiusClass: [...s.radiusClass] } : {}),
    interimIntervalSeconds: s.accounting.interimIntervalSeconds,
    attempts: 0,
    nextAttemptAt: eventAt,
  };
}

/** The Start record of a new session, or undefined when its tenant does not account. */
export function startRecord(session: Session): AccountingRecord | undefined {
  return record(session, 'start', session.startedAt);
}

/**
 * After an interim report at `at` turned `before` into `after` (session-accounting.ts afterInterim):
 * the session as it should be stored (with `lastInterimAt` moved when a record is due) and the
 * Interim-Update record, if due. A session without accounting is returned unchanged, no record.
 */
export function interimChange(before: Session, after: Session, at: number): { session: Session; record?: AccountingRecord } {
  const acct = before.accounting;
  if (!acct) return { session: after };
  const last = acct.lastInterimAt ?? before.startedAt;
  if (at - last < acct.interimIntervalSeconds * 1000) return { session: after };
  const session: Session = { ...after, accounting: { ...acct, lastInterimAt: at } };
  return { session, record: record(session, 'interim', at)! };
}

/** The Stop record of a session just stopped (stoppedSession), or undefined when it is not accounted. */
export function stopRecord(stopped: Session): AccountingRecord | undefined {
  return record(stopped, 'stop', stopped.stoppedAt ?? stopped.updatedAt);
}
