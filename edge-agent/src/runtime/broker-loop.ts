/**
 * The agent's conversation with the broker outside of sessions: register at start (retried in the
 * background while the agent already listens), heartbeat every `heartbeatIntervalSeconds` with the
 * load, command acknowledgements and the session ids it holds (reconciliation: the broker stops
 * what the agent lost, the agent tears down what the broker stopped), hand commands to the agent,
 * and flush the report outbox after every successful heartbeat. A broker outage only produces (rate-limited) log lines.
 */
import type { Logger } from 'pino';
import type { AgentCommandMessage, AgentSettings, Broker } from '../broker/broker-client';
import type { TearDownOrder } from '../broker/broker-client';
import { BrokerRejectedError } from '../broker/http-transport';
import type { AgentCounters } from '../../../contract/src/values';
import { LogThrottle } from './rate-limit';
import type { TimerHandle, TimerService } from '../clock';

export interface BrokerLoopHost {
  snapshot(): { activeSessions: number; counters: AgentCounters };
  /** Carry out a command; it is acknowledged in the next heartbeat. */
  command(command: AgentCommandMessage): void;
  /** Broker session ids this agent serves now, sent for reconciliation (omit = no reconciliation). */
  heldSessionIds?(): string[];
  /** Sessions the broker no longer has active (reconciliation): tear them down. */
  tearDown?(orders: readonly TearDownOrder[]): void;
  /** New settings: at registration, and whenever a heartbeat shows a new settings revision. */
  settings?(settings: AgentSettings): void;
  /**
   * The broker refused this agent's credential as revoked (401 agent-revoked): it has stopped the
   * agent's sessions; tear them down and take no new ones. Called once; the loop stops.
   */
  revoked?(): void;
}

/** True for the broker's answer to a revoked agent's credential. */
export function isRevocation(error: unknown): boolean {
  return error instanceof BrokerRejectedError && error.status === 401 && error.code === 'agent-revoked';
}

/** Above this many held sessions the list is not sent (the broker caps it; see domain/reconcile.ts). */
export const MAX_HELD_IDS_SENT = 1000;

export interface BrokerLoopOptions {
  readonly broker: Broker;
  readonly timers: TimerService;
  readonly log: Logger;
  readonly host: BrokerLoopHost;
  readonly register: { publicAddress: string; capacity: number; version: string; networks?: readonly string[]; nudgePort?: number };
  /** Until the broker says otherwise. @default 30000 */
  readonly heartbeatIntervalMs?: number;
  /** First retry delay of a failed registration; doubles up to 30 s. @default 1000 */
  readonly registerRetryMs?: number;
}

export class BrokerLoop {
  registered = false;
  /** The broker answered 401 agent-revoked; the loop has stopped. */
  revoked = false;
  heartbeatIntervalMs: number;
  /** Consecutive failed heartbeats (0 = the broker answered the last one). */
  failures = 0;
  private readonly handled = new Set<string>();
  private readonly toAck = new Set<string>();
  private registerTimer: TimerHandle | undefined;
  private heartbeatTimer: TimerHandle | undefined;
  private stopped = false;
  private readonly throttle = new LogThrottle(60_000);
  private beating = false;
  /** Settings revision last handed to the host (undefined until registered). */
  private settingsRevision: number | undefined;
  /** A command check was asked for while a heartbeat was on the wire: run one more right after it. */
  private checkAgain = false;
  /** The id the broker knows this agent by (from the registration answer). */
  agentId: string | undefined;
  /** Command-nudge keys the broker handed out, newest first (the previous one survives a rotation). */
  private keys: Uint8Array[] = [];

  constructor(private readonly o: BrokerLoopOptions) {
    this.heartbeatIntervalMs = o.heartbeatIntervalMs ?? 30_000;
  }

  start(): void {
    void this.register(this.o.registerRetryMs ?? 1000);
    this.scheduleHeartbeat(0);
  }

  stop(): void {
    this.stopped = true;
    this.o.timers.clear(this.registerTimer);
    this.o.timers.clear(this.heartbeatTimer);
  }

  /** The command-nudge keys to accept, newest first (none until the broker handed one out). */
  nudgeKeys(): readonly Uint8Array[] {
    return this.keys;
  }

  /**
   * Fetch commands now (a genuine command nudge arrived): a heartbeat without the held-session list,
   * so it costs the broker no reconciliation. When a heartbeat is already on the wire the broker may
   * have listed the commands before the new one was queued, so one more runs right after it.
   */
  async checkCommands(): Promise<void> {
    if (this.stopped) return;
    if (this.beating) {
      this.checkAgain = true;
      return;
    }
    await this.heartbeat({ reconcile: false });
  }

  /** Send a heartbeat now (tests; also used right after registering). */
  async heartbeat(options: { reconcile?: boolean } = {}): Promise<void> {
    if (this.beating || this.stopped) return;
    this.beating = true;
    this.checkAgain = false;
    const acks = [...this.toAck];
    try {
      const { activeSessions, counters } = this.o.host.snapshot();
      const sessionIds = options.reconcile === false ? undefined : this.heldIds();
      const reply = await this.o.broker.heartbeat({ activeSessions, counters, ackCommandIds: acks, ...(sessionIds ? { sessionIds } : {}) });
      for (const id of acks) this.toAck.delete(id);
      if (this.failures > 0) this.o.log.info({ failures: this.failures }, 'broker reachable again');
      this.failures = 0;
      if (reply.heartbeatIntervalSeconds > 0) this.heartbeatIntervalMs = reply.heartbeatIntervalSeconds * 1000;
      this.learnNudgeKey(reply.nudgeKey);
      if (this.settingsRevision !== undefined && reply.settingsRevision !== this.settingsRevision) await this.refreshSettings();
      for (const command of reply.commands) {
        if (this.handled.has(command.commandId)) continue;
        this.remember(command.commandId);
        this.toAck.add(command.commandId);
        try {
          this.o.host.command(command);
        } catch (error) {
          this.o.log.error({ command: command.type, commandId: command.commandId, err: String(error) }, 'command failed');
        }
      }
      this.applyTearDown(reply.tearDown);
      const flushed = await this.o.broker.flushOutbox().catch(() => undefined);
      if (flushed && flushed.delivered > 0) this.o.log.debug(flushed, 'queued reports delivered');
    } catch (error) {
      if (isRevocation(error)) return this.onRevoked();
      this.failures++;
      if (this.throttle.allow('heartbeat', this.o.timers.now()) >= 0) {
        this.o.log.warn({ err: error instanceof Error ? error.message : String(error), failures: this.failures }, 'heartbeat failed: broker unreachable');
      }
    } finally {
      this.beating = false;
    }
    if (this.checkAgain) await this.checkCommands();
  }

  private learnNudgeKey(base64: string | undefined): void {
    if (base64 === undefined) return;
    const key = Buffer.from(base64, 'base64');
    if (key.length === 0 || (this.keys[0] !== undefined && Buffer.compare(this.keys[0], key) === 0)) return;
    this.keys = [key, ...this.keys.slice(0, 1)];
  }

  /** A revoked credential never works again (the broker refuses to rotate it): stop talking and tell the host. */
  private onRevoked(): void {
    if (this.stopped) return;
    this.stop();
    this.revoked = true;
    this.o.host.revoked?.();
  }

  private async refreshSettings(): Promise<void> {
    try {
      this.deliverSettings(await this.o.broker.settings());
    } catch (error) {
      this.o.log.warn({ err: error instanceof Error ? error.message : String(error) }, 'fetching new settings failed; will retry');
    }
  }

  private deliverSettings(settings: AgentSettings): void {
    this.settingsRevision = settings.revision;
    this.o.host.settings?.(settings);
  }

  private heldIds(): string[] | undefined {
    const ids = this.o.host.heldSessionIds?.();
    return ids && ids.length <= MAX_HELD_IDS_SENT ? ids : undefined;
  }

  private applyTearDown(orders: readonly TearDownOrder[] | undefined): void {
    if (!orders || orders.length === 0) return;
    this.o.log.warn({ sessions: orders.length, reasons: [...new Set(orders.map((o) => o.reason))] }, 'reconciliation: the broker has these sessions stopped; tearing them down');
    try {
      this.o.host.tearDown?.(orders);
    } catch (error) {
      this.o.log.error({ err: String(error) }, 'tearing down reconciled sessions failed');
    }
  }

  private remember(commandId: string): void {
    if (this.handled.size > 10_000) this.handled.clear();
    this.handled.add(commandId);
  }

  private scheduleHeartbeat(ms: number): void {
    if (this.stopped) return;
    this.heartbeatTimer = this.o.timers.set(ms, () => {
      void this.heartbeat().finally(() => this.scheduleHeartbeat(this.heartbeatIntervalMs));
    });
  }

  private async register(retryMs: number): Promise<void> {
    if (this.stopped) return;
    try {
      const sessionIds = this.heldIds();
      const { networks, nudgePort, ...register } = this.o.register;
      const reply = await this.o.broker.register({
        ...register,
        ...(networks ? { networks: [...networks] } : {}),
        ...(nudgePort !== undefined ? { nudgePort } : {}),
        ...(sessionIds ? { sessionIds } : {}),
      });
      const { settings } = reply;
      this.agentId = reply.agentId;
      this.learnNudgeKey(reply.nudgeKey);
      if (reply.publicAddress !== undefined && reply.publicAddress !== register.publicAddress) {
        this.o.log.warn({ reported: register.publicAddress, onRecord: reply.publicAddress }, 'the broker keeps the public address it has on record for this agent (enrolled or first registered); clients are sent there');
      }
      if (reply.capacity !== undefined && reply.capacity < register.capacity) {
        this.o.log.warn({ reported: register.capacity, onRecord: reply.capacity }, 'the broker caps this agent at its enrolled capacity');
      }
      if (reply.sessionsStopped) this.o.log.info({ sessionsStopped: reply.sessionsStopped }, 'reconciliation: the broker stopped sessions this agent no longer holds');
      this.applyTearDown(reply.tearDown);
      this.registered = true;
      this.deliverSettings(settings);
      if (settings.heartbeatIntervalSeconds > 0) this.heartbeatIntervalMs = settings.heartbeatIntervalSeconds * 1000;
      this.o.log.info({ heartbeatIntervalSeconds: settings.heartbeatIntervalSeconds, ...this.o.register }, 'registered with the broker');
    } catch (error) {
      if (this.stopped) return;
      if (isRevocation(error)) return this.onRevoked();
      this.o.log.warn({ err: error instanceof Error ? error.message : String(error), retryInMs: retryMs }, 'registration with the broker failed, retrying');
      this.registerTimer = this.o.timers.set(retryMs, () => void this.register(Math.min(retryMs * 2, 30_000)));
    }
  }
}
