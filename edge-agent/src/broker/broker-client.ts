import type { z } from 'zod';
import type {
  AgentSettingsSchema,
  AuthenticateBody,
  CommandSchema,
  HeartbeatBody,
  RegisterBody,
  StartSessionBody,
  StopBody,
} from '../../../contract/src/agent-protocol/schemas';
import type { AgentCounters, EndReason } from '../../../contract/src/values';
import { BrokerRejectedError, HttpTransport, type TransportOptions } from './http-transport';
import { Outbox, type OutboxRecord, type OutboxUnwritable } from './outbox';

/*
 * Wire types come from the contract's zod schemas, the ones the broker validates with (type-only
 * imports), so a contract change breaks the agent's compile, not production.
 */
export type RegisterRequest = z.input<typeof RegisterBody>;
export type HeartbeatRequest = z.input<typeof HeartbeatBody>;
export type AuthenticateRequest = z.input<typeof AuthenticateBody>;
export type StartSessionRequest = z.input<typeof StartSessionBody>;
export type StopRequest = z.input<typeof StopBody>;
export type AgentSettings = z.output<typeof AgentSettingsSchema>;
export type AgentCommandMessage = z.output<typeof CommandSchema>;

export type AuthVerdict =
  | { ok: true; tenantId: string; username: string; authenticatorResponse?: string; sessionTimeoutSeconds?: number; idleTimeoutSeconds?: number; grant: string }
  | { ok: false; reason: string; retryable: boolean; lockedUntil?: string };

export interface StartedSession {
  readonly sessionId: string;
  readonly address: string;
  readonly gateway: string;
  readonly dns: string[];
  readonly poolId: string;
  /** The pool's CIDR (brokers before this field existed omit it). */
  readonly cidr?: string;
  /** The pool's block as the broker parsed it (brokers before this field existed omit it). */
  readonly block?: { readonly network: string; readonly prefixLength: number };
  readonly created: boolean;
}

/** A held session the broker no longer has active: the agent tears it down (reconciliation). */
export interface TearDownOrder {
  readonly sessionId: string;
  readonly reason: EndReason;
}

export interface HeartbeatReply {
  readonly commands: AgentCommandMessage[];
  readonly settingsRevision: number;
  readonly heartbeatIntervalSeconds: number;
  /** Present when the request carried `sessionIds` (brokers without reconciliation omit it). */
  readonly tearDown?: TearDownOrder[];
  /** This agent's command-nudge key, base64 (present when it reported a nudge port). */
  readonly nudgeKey?: string;
}

export interface RegisterReply {
  readonly agentId: string;
  /** The address the broker has on record (brokers before issue 14 omit it). */
  readonly publicAddress?: string;
  /** The capacity on record: the lower of the reported and the enrolled one. */
  readonly capacity?: number;
  readonly settings: AgentSettings;
  readonly tearDown?: TearDownOrder[];
  readonly sessionsStopped?: number;
  /** This agent's command-nudge key, base64 (present when it reported a nudge port). */
  readonly nudgeKey?: string;
}

export interface CallOptions {
  /** Checked when the call first gets its turn: false drops it unsent (BrokerCallAbandonedError). */
  readonly wanted?: () => boolean;
}

/** Whose session a report is about. */
export interface SessionOwner {
  readonly tenantId: string;
  readonly username: string;
}

/** What the agent's session logic needs from the broker; a fake implements it in tests. */
export interface Broker {
  register(request: RegisterRequest): Promise<RegisterReply>;
  heartbeat(request: HeartbeatRequest): Promise<HeartbeatReply>;
  settings(): Promise<AgentSettings>;
  authenticate(request: AuthenticateRequest, call?: CallOptions): Promise<AuthVerdict>;
  startSession(request: StartSessionRequest, call?: CallOptions): Promise<StartedSession>;
  /**
   * Kept in memory (the latest counters per session) and delivered by the running or next flush;
   * resolves at once. Not journaled: counters are cumulative and the stop report, which is
   * durable, carries the final ones.
   */
  reportInterim(sessionId: string, counters: AgentCounters): Promise<void>;
  /**
   * Queued durably; delivered now if possible, else by `flushOutbox` later. `owner` lets a start
   * that a quota refuses deliver its user's (tenant's) pending stops first and try again.
   */
  reportStop(sessionId: string, reason: EndReason, counters: AgentCounters, owner?: SessionOwner): Promise<void>;
  flushOutbox(): Promise<{ delivered: number; pending: number }>;
}

export interface BrokerClientOptions extends TransportOptions {
  readonly stateDir: string;
  readonly clock?: () => number;
  readonly onDropped?: (record: OutboxRecord, error: BrokerRejectedError) => void;
  /** The state directory cannot be written (at start, or later): reports are kept in memory only. */
  readonly onStateUnwritable?: (problem: OutboxUnwritable) => void;
}

/** Reports in flight at once while draining the outbox (the broker handles each independently). */
const DELIVERY_CONCURRENCY = 8;

/** The real Broker over HTTP, with the on-disk outbox for accounting and stop reports. */
export class BrokerClient implements Broker {
  private readonly transport: HttpTransport;
  private readonly outbox: Outbox;
  private readonly clock: () => number;
  private flushing: Promise<{ delivered: number; pending: number }> | undefined;
  private flushRequested = false;

  constructor(private readonly options: BrokerClientOptions) {
    this.transport = new HttpTransport(options);
    const opened = Outbox.open(options.stateDir);
    this.outbox = opened.outbox;
    if (options.onStateUnwritable) {
      if (opened.unwritable) options.onStateUnwritable(opened.unwritable);
      else this.outbox.onceUnwritable(options.onStateUnwritable);
    }
    this.clock = options.clock ?? Date.now;
  }

  register(request: RegisterRequest) {
    return this.transport.post<RegisterReply>('/v1/agent/register', request, { priority: 'high' });
  }

  heartbeat(request: HeartbeatRequest) {
    return this.transport.post<HeartbeatReply>('/v1/agent/heartbeat', request, { priority: 'high' });
  }

  settings() {
    return this.transport.get<AgentSettings>('/v1/agent/settings');
  }

  authenticate(request: AuthenticateRequest, call?: CallOptions) {
    // One attempt only: a repeated verification would count a failure twice toward the lockout.
    // Newest first: in a storm the clients that dialled last still have their patience left.
    return this.transport.post<AuthVerdict>('/v1/agent/authenticate', request, { retry: false, newestFirst: true, ...call });
  }

  async startSession(request: StartSessionRequest, call?: CallOptions): Promise<StartedSession> {
    const start = () => this.transport.post<StartedSession>('/v1/agent/sessions', request, { priority: 'high', ...call });
    try {
      return await start();
    } catch (error) {
      // Stop reports wait behind new sessions (they are background work), so a reconnecting user
      // can still count against a quota with the session it just left. Deliver the stops that
      // quota counts, then try once more.
      if (!(error instanceof BrokerRejectedError) || error.code !== 'quota-exceeded') throw error;
      const tenantWide = error.field === 'maxSessions';
      const owed = this.outbox
        .pending()
        .filter((r) => r.kind === 'stop' && r.owner?.tenantId === request.tenantId && (tenantWide || r.owner.username === request.username));
      if (owed.length === 0) throw error;
      await Promise.all(owed.map((r) => this.deliver(r, 'high').catch(() => undefined)));
      return start();
    }
  }

  async reportInterim(sessionId: string, counters: AgentCounters): Promise<void> {
    // 10,000 sessions report every minute: no fsync per report, and no caller waits on the queue.
    this.outbox.put({ kind: 'interim', sessionId, payload: { counters }, createdAt: this.clock() }, { durable: false });
    void this.flushOutbox();
  }

  async reportStop(sessionId: string, reason: EndReason, counters: AgentCounters, owner?: SessionOwner): Promise<void> {
    this.outbox.put({ kind: 'stop', sessionId, payload: { reason, counters }, createdAt: this.clock(), ...(owner ? { owner } : {}) });
    await this.flushOutbox();
  }

  get pendingReports(): number {
    return this.outbox.size;
  }

  /**
   * Delivers queued reports, oldest first, a few at a time; stops at the first transport failure
   * (the broker is down: try again later). A definite refusal (4xx, e.g. a session the broker never
   * knew) is dropped so one bad record cannot block the queue forever. A call made while a pass is
   * running gets one more pass after it, so a report queued mid-pass is not left for the next
   * heartbeat.
   */
  flushOutbox(): Promise<{ delivered: number; pending: number }> {
    if (this.flushing) {
      this.flushRequested = true;
      return this.flushing;
    }
    this.flushing = this.deliverUntilSettled().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async deliverUntilSettled(): Promise<{ delivered: number; pending: number }> {
    let delivered = 0;
    let reachable = true;
    do {
      this.flushRequested = false;
      const pass = await this.deliverPass();
      delivered += pass.delivered;
      reachable = pass.reachable;
    } while (this.flushRequested && reachable);
    return { delivered, pending: this.outbox.size };
  }

  private async deliverPass(): Promise<{ delivered: number; reachable: boolean }> {
    const queue = this.outbox.pending();
    let delivered = 0;
    let reachable = true;
    const worker = async () => {
      for (let record = queue.shift(); record && reachable; record = queue.shift()) {
        try {
          await this.deliver(record, 'background');
        } catch {
          reachable = false;
          return;
        }
        delivered++;
      }
    };
    await Promise.all(Array.from({ length: DELIVERY_CONCURRENCY }, worker));
    return { delivered, reachable };
  }

  /**
   * Sends one report and acks it; a definite refusal is dropped (acked) too, so one bad record
   * cannot block the queue forever. Throws when the broker could not be reached.
   */
  private async deliver(record: OutboxRecord, priority: 'high' | 'background'): Promise<void> {
    const path = `/v1/agent/sessions/${encodeURIComponent(record.sessionId)}/${record.kind}`;
    try {
      await this.transport.post(path, record.payload, { retry: false, priority });
    } catch (error) {
      if (!(error instanceof BrokerRejectedError)) throw error;
      this.options.onDropped?.(record, error);
    }
    this.outbox.ack(record);
  }
}
