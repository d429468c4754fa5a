/**
 * What the agent does with a datagram on its command-nudge port (contract/src/command-nudge.ts):
 * a genuine, fresh, first-seen nudge for this agent makes it fetch its commands now; anything else
 * is dropped and counted. Fetches are rate-limited (at most one per `minIntervalMs`; nudges in
 * between are coalesced into one trailing fetch, so the last command queued is never left for the
 * heartbeat), and so is the HMAC work a flood of forged datagrams could cost (`verifyPerSecond`;
 * past it datagrams are dropped unverified, which at worst delays commands to the heartbeat).
 */
import type { Logger } from 'pino';
import { NudgeError, NudgeReplayGuard, verifyNudge, type NudgeRefusal } from '../../../contract/src/command-nudge';
import type { RemoteInfo } from '../io/udp';
import { LogThrottle, TokenBucket } from './rate-limit';
import type { TimerHandle, TimerService } from '../clock';

export interface CommandNudgeGateOptions {
  readonly timers: TimerService;
  readonly log: Logger;
  /** This agent's id as the broker knows it (undefined until registered: nudges are refused). */
  readonly agentId: () => string | undefined;
  /** The nudge keys to accept, newest first. */
  readonly keys: () => readonly Uint8Array[];
  /** Fetch commands now. */
  readonly fetch: () => Promise<void>;
  /** Least time between two nudge-triggered fetches. @default 500 */
  readonly minIntervalMs?: number;
  /**
   * Datagrams verified per second (burst as many); the rest are dropped unverified. Far above what
   * the broker sends one agent (one nudge per queued command), at ~5 µs of HMAC each. @default 2000
   */
  readonly verifyPerSecond?: number;
}

export interface CommandNudgeCounts {
  accepted: number;
  fetches: number;
  /** Accepted nudges folded into a fetch already planned. */
  coalesced: number;
  /** Dropped unverified: over the verification rate. */
  overRate: number;
  refused: Partial<Record<NudgeRefusal | 'not-registered', number>>;
}

export class CommandNudgeGate {
  readonly counts: CommandNudgeCounts = { accepted: 0, fetches: 0, coalesced: 0, overRate: 0, refused: {} };
  private readonly replay = new NudgeReplayGuard();
  private readonly verifyBucket: TokenBucket;
  private readonly throttle = new LogThrottle(60_000);
  private readonly minIntervalMs: number;
  private lastFetchAt = -Infinity;
  private planned: TimerHandle | undefined;
  private stopped = false;

  constructor(private readonly o: CommandNudgeGateOptions) {
    const perSecond = o.verifyPerSecond ?? 2000;
    this.verifyBucket = new TokenBucket(perSecond, perSecond, o.timers.now());
    this.minIntervalMs = o.minIntervalMs ?? 500;
  }

  /** One datagram from the nudge socket. Never throws. */
  onDatagram(bytes: Uint8Array, remote: RemoteInfo): void {
    if (this.stopped) return;
    const now = this.o.timers.now();
    if (!this.verifyBucket.take(now)) {
      this.counts.overRate++;
      this.warn('over-rate', remote, 'command nudges arrive faster than they are verified: dropping the excess unverified');
      return;
    }
    const agentId = this.o.agentId();
    if (agentId === undefined) return this.refuse('not-registered', remote, 'not registered yet');
    const nudge = verifyNudge(bytes, { agentId, keys: this.o.keys(), now });
    if (nudge instanceof NudgeError) return this.refuse(nudge.reason, remote, nudge.message);
    if (!this.replay.admit(nudge, now)) return this.refuse('replayed', remote, 'nonce seen before');
    this.counts.accepted++;
    this.plan(now);
  }

  stop(): void {
    this.stopped = true;
    this.o.timers.clear(this.planned);
    this.planned = undefined;
  }

  private plan(now: number): void {
    if (this.planned !== undefined) {
      this.counts.coalesced++;
      return;
    }
    const wait = this.lastFetchAt + this.minIntervalMs - now;
    if (wait <= 0) return this.fetchNow(now);
    this.planned = this.o.timers.set(wait, () => {
      this.planned = undefined;
      this.fetchNow(this.o.timers.now());
    });
  }

  private fetchNow(now: number): void {
    this.lastFetchAt = now;
    this.counts.fetches++;
    this.o.fetch().catch((error: unknown) => this.o.log.warn({ err: String(error) }, 'command fetch after a nudge failed'));
  }

  private refuse(reason: NudgeRefusal | 'not-registered', remote: RemoteInfo, detail: string): void {
    this.counts.refused[reason] = (this.counts.refused[reason] ?? 0) + 1;
    this.warn(`refused|${reason}`, remote, `command nudge refused (${reason}): ${detail}`);
  }

  private warn(key: string, remote: RemoteInfo, msg: string): void {
    const suppressed = this.throttle.allow(key, this.o.timers.now());
    if (suppressed >= 0) this.o.log.warn({ peer: `${remote.address}:${remote.port}`, suppressed }, msg);
  }
}
