/**
 * What the broker hears about sessions: interim counters, the stop report, and the counters of
 * ended sessions kept for the agent's totals. Reports go through the broker client's outbox;
 * those in flight are tracked so shutdown can give them a bounded chance to leave.
 */
import type { Logger } from 'pino';
import type { Broker, SessionOwner } from '../broker/broker-client';
import type { AgentCounters, EndReason } from '../../../contract/src/values';
import type { TimerHandle, TimerService } from '../clock';
import type { CounterSnapshot } from '../datapath';

export const ZERO_COUNTERS: AgentCounters = { bytesIn: 0, bytesOut: 0, packetsIn: 0, packetsOut: 0 };

/** The parts of a session its reports need. */
export interface ReportedSession {
  readonly brokerSessionId: string | undefined;
  readonly tenantId: string | undefined;
  readonly username: string | undefined;
  readonly endReason: EndReason | undefined;
  /** Packet total of the last interim report sent. */
  reportedPackets: number;
}

/** Whose session it was (for the stop report), once the broker has named the user. */
function ownerOf(session: ReportedSession): SessionOwner | undefined {
  return session.tenantId !== undefined && session.username !== undefined ? { tenantId: session.tenantId, username: session.username } : undefined;
}

export class SessionReports {
  private readonly inFlight = new Set<Promise<void>>();
  private readonly finished: { -readonly [K in keyof AgentCounters]: number } = { ...ZERO_COUNTERS };

  constructor(
    private readonly broker: Broker,
    private readonly timers: TimerService,
    private readonly log: Logger,
  ) {}

  /** The session ended with `final` counters: add them to the totals and report the stop. */
  stopped(session: ReportedSession, reason: EndReason, final: CounterSnapshot): void {
    this.finished.bytesIn += final.bytesIn;
    this.finished.bytesOut += final.bytesOut;
    this.finished.packetsIn += final.packetsIn;
    this.finished.packetsOut += final.packetsOut;
    if (session.brokerSessionId) this.track(this.broker.reportStop(session.brokerSessionId, reason, final, ownerOf(session)));
  }

  /** The broker started a session that had already ended here: its stop frees the lease. */
  startedAfterEnd(session: ReportedSession): void {
    if (session.brokerSessionId) this.track(this.broker.reportStop(session.brokerSessionId, session.endReason ?? 'error', ZERO_COUNTERS, ownerOf(session)));
  }

  interim(session: ReportedSession, now: CounterSnapshot): void {
    if (!session.brokerSessionId) return;
    // Counters only grow, and a byte is never counted without its packet: the same packet total
    // means the broker already holds these exact counters (it would only touch updatedAt). Idle
    // sessions (keepalives are not data) then cost the broker nothing; the stop report, always
    // sent, carries the final counters.
    const packets = now.packetsIn + now.packetsOut;
    if (packets === session.reportedPackets) return;
    session.reportedPackets = packets;
    this.track(this.broker.reportInterim(session.brokerSessionId, now));
  }

  /** Counters of the ended sessions plus `live`. */
  totals(live: Iterable<CounterSnapshot>): AgentCounters {
    const totals = { ...this.finished };
    for (const c of live) {
      totals.bytesIn += c.bytesIn;
      totals.bytesOut += c.bytesOut;
      totals.packetsIn += c.packetsIn;
      totals.packetsOut += c.packetsOut;
    }
    return totals;
  }

  /** Waits until the reports in flight are delivered (or kept in the outbox), at most `ms`. */
  async settle(ms: number): Promise<void> {
    let deadline: TimerHandle | undefined;
    const expired = new Promise<void>((resolve) => (deadline = this.timers.set(ms, resolve)));
    await Promise.race([Promise.allSettled([...this.inFlight]), expired]);
    // Cleared, so an armed deadline does not hold a stopping process open.
    this.timers.clear(deadline);
  }

  private track(report: Promise<void>): void {
    const tracked = report.catch((error) => this.log.warn({ err: String(error) }, 'report failed (kept in the outbox)')).finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }
}
