/**
 * The L2TP control plane of the LNS: one tunnel engine per control connection, demultiplexed from
 * the shared UDP socket, with timers per tunnel and the limits that keep a flood from hurting
 * established tunnels: SCCRQ rate per peer address, tunnels per peer address, half-open tunnels
 * (no SCCCN yet) that expire, and a per-tunnel control message rate.
 *
 * New tunnels are keyed by (peer address, peer port, packet mark, the peer's Assigned Tunnel ID) so
 * that several clients behind one NAT, even all from port 1701 and with the same Assigned Tunnel
 * ID, each get their own tunnel, and a retransmitted SCCRQ reaches the engine the first one
 * created (RFC 2661 §5.1, §7.2). The mark is the IPsec SA's (docs/ipsec.md, "Several clients
 * behind one NAT"); once the tunnel exists our Tunnel ID finds it, and the tunnel follows the mark
 * of the latest datagram it received, so its replies leave through the SA the client uses now.
 */
import type { Logger } from 'pino';
import type { RemoteInfo } from '../io/udp';
import { createTunnel, isTunnelDone, stepTunnel, type CloseReason, type TunnelAction, type TunnelEvent, type TunnelState, type TunnelTimer } from '../l2tp';
import { KeyedBuckets, LogThrottle, TokenBucket } from './rate-limit';
import type { TimerHandle, TimerService } from '../clock';
import { TunnelActivity } from './tunnel-activity';

export interface TunnelLimits {
  /** Tunnels (established or not) from one peer address; NATs put many clients behind one. @default 256 */
  readonly maxTunnelsPerPeer: number;
  /** Tunnels still waiting for SCCCN, agent-wide. @default 1024 */
  readonly maxHalfOpen: number;
  /** A tunnel without SCCCN after this long is dropped. @default 30000 */
  readonly halfOpenTimeoutMs: number;
  /** New-tunnel requests (SCCRQ) per peer address: burst and per second. @default 20, 5 */
  readonly sccrqBurst: number;
  readonly sccrqPerSecond: number;
  /** Control messages per established tunnel: burst and per second. @default 200, 50 */
  readonly controlBurst: number;
  readonly controlPerSecond: number;
  /** Keep a finished tunnel this long to re-acknowledge a repeated StopCCN (§5.7). @default 31000 */
  readonly lingerMs: number;
}

export const DEFAULT_TUNNEL_LIMITS: TunnelLimits = {
  maxTunnelsPerPeer: 256,
  maxHalfOpen: 1024,
  halfOpenTimeoutMs: 30_000,
  sccrqBurst: 20,
  sccrqPerSecond: 5,
  controlBurst: 200,
  controlPerSecond: 50,
  lingerMs: 31_000,
};

/**
 * Where a tunnel's datagrams go: the peer's address and port, and the packet mark of the IPsec SA
 * its latest datagram came through (0: none). Shared by the tunnel and its sessions.
 */
export interface PeerPath {
  readonly address: string;
  readonly port: number;
  mark: number;
}

/**
 * Record the mark a peer's datagram arrived with; true when it changed. The latest one wins: a
 * rekey within an IKE_SA keeps the SA's marks, but a new IKE_SA (the client re-authenticating, or
 * reconnecting IPsec under a live L2TP tunnel) brings new ones, and replies must follow it.
 */
export function followMark(peer: PeerPath, mark: number): boolean {
  if (peer.mark === mark) return false;
  peer.mark = mark;
  return true;
}

/** Whether a datagram with `mark` may be taken for this peer: no downgrade from a marked SA to plaintext. */
export function markAllowed(peer: PeerPath, mark: number): boolean {
  return mark !== 0 || peer.mark === 0;
}

export interface TunnelEntry {
  state: TunnelState;
  readonly localTunnelId: number;
  readonly peer: PeerPath;
  readonly peerKey: string;
  /** The peer's Assigned Tunnel ID from its SCCRQ. */
  readonly peerAssignedTunnelId: number;
  /** A pino child with the tunnel's context, made per use (see SessionRunner.log). */
  readonly log: Logger;
  readonly timers: Map<TunnelTimer, TimerHandle>;
  readonly bucket: TokenBucket;
  established: boolean;
  /** Counted in the per-peer and half-open totals (until done). */
  live: boolean;
  halfOpenTimer: TimerHandle | undefined;
  lingerTimer: TimerHandle | undefined;
}

class LiveTunnel implements TunnelEntry {
  readonly timers = new Map<TunnelTimer, TimerHandle>();
  established = false;
  live = true;
  halfOpenTimer: TimerHandle | undefined = undefined;
  lingerTimer: TimerHandle | undefined = undefined;

  constructor(
    public state: TunnelState,
    readonly localTunnelId: number,
    readonly peer: PeerPath,
    readonly peerKey: string,
    readonly peerAssignedTunnelId: number,
    private readonly baseLog: Logger,
    readonly bucket: TokenBucket,
  ) {}

  get log(): Logger {
    return this.baseLog.child({ tunnel: this.localTunnelId, peerTunnel: this.peerAssignedTunnelId, peer: `${this.peer.address}:${this.peer.port}`, ...(this.peer.mark !== 0 ? { mark: this.peer.mark } : {}) });
  }
}

/** What the agent does with session-level tunnel events. */
export interface TunnelListener {
  sessionRequested(tunnel: TunnelEntry, action: Extract<TunnelAction, { kind: 'session-requested' }>): void;
  sessionEstablished(tunnel: TunnelEntry, action: Extract<TunnelAction, { kind: 'session-established' }>): void;
  sessionClosed(tunnel: TunnelEntry, action: Extract<TunnelAction, { kind: 'session-closed' }>): void;
}

export interface TunnelManagerOptions {
  readonly hostName: string;
  readonly secret?: Uint8Array;
  readonly helloIntervalMs?: number;
  readonly limits?: Partial<TunnelLimits>;
  readonly random: (n: number) => Uint8Array;
  readonly timers: TimerService;
  readonly send: (bytes: Uint8Array, peer: PeerPath) => void;
  readonly log: Logger;
  readonly listener: TunnelListener;
  /**
   * IPsec is required: a tunnel whose datagrams came through a marked SA takes no unmarked one
   * (it bypassed IPsec, e.g. sent while the client's SAs were down). @default false
   */
  readonly refuseUnmarked?: boolean;
  /** Period of the info-level 'tunnel activity' line. @default 60000 */
  readonly activityLogMs?: number;
}

export class TunnelManager {
  readonly limits: TunnelLimits;
  private readonly tunnels = new Map<number, TunnelEntry>();
  private readonly byPeerKey = new Map<string, TunnelEntry>();
  private readonly perAddress = new Map<string, number>();
  private halfOpen = 0;
  private readonly sccrqBuckets: KeyedBuckets;
  private readonly throttle = new LogThrottle();
  /** Control datagrams dropped by a limit, by reason. */
  readonly dropped = { rate: 0, 'per-peer': 0, 'half-open': 0, 'unknown-tunnel': 0, 'wrong-peer': 0, 'no-tunnel-id': 0, unprotected: 0 };

  private readonly activity: TunnelActivity;

  constructor(private readonly o: TunnelManagerOptions) {
    this.limits = { ...DEFAULT_TUNNEL_LIMITS, ...o.limits };
    this.sccrqBuckets = new KeyedBuckets(this.limits.sccrqBurst, this.limits.sccrqPerSecond);
    this.activity = new TunnelActivity(o.timers, o.log, () => this.tunnels.size, o.activityLogMs);
  }

  get size(): number {
    return this.tunnels.size;
  }

  get(localTunnelId: number): TunnelEntry | undefined {
    return this.tunnels.get(localTunnelId);
  }

  entries(): IterableIterator<TunnelEntry> {
    return this.tunnels.values();
  }

  /** A control message for an existing tunnel. */
  onTunnelMessage(bytes: Uint8Array, remote: RemoteInfo, tunnelId: number): void {
    const entry = this.tunnels.get(tunnelId);
    if (!entry) return this.drop('unknown-tunnel', remote, { tunnel: tunnelId });
    // The tunnel id is 16 random bits: bind it to the peer that created it so it cannot be hijacked.
    if (entry.peer.address !== remote.address || entry.peer.port !== remote.port) return this.drop('wrong-peer', remote, { tunnel: tunnelId });
    const mark = remote.mark ?? 0;
    if (this.o.refuseUnmarked && !markAllowed(entry.peer, mark)) return this.drop('unprotected', remote, { tunnel: tunnelId });
    if (!entry.bucket.take(this.o.timers.now())) return this.drop('rate', remote, { tunnel: tunnelId });
    this.followMark(entry, mark);
    this.step(entry, { kind: 'received', bytes });
  }

  /** An SCCRQ (Tunnel ID 0). */
  onConnectRequest(bytes: Uint8Array, remote: RemoteInfo, peerAssignedTunnelId: number): void {
    const mark = remote.mark ?? 0;
    const peerKey = `${remote.address}|${remote.port}|${mark}|${peerAssignedTunnelId}`;
    const existing = this.byPeerKey.get(peerKey);
    if (existing) {
      // A retransmitted SCCRQ: the engine that answered the first one acknowledges it.
      if (existing.bucket.take(this.o.timers.now())) this.step(existing, { kind: 'received', bytes });
      return;
    }
    const now = this.o.timers.now();
    if (!this.sccrqBuckets.take(remote.address, now)) return this.drop('rate', remote);
    if (this.halfOpen >= this.limits.maxHalfOpen) return this.drop('half-open', remote);
    if ((this.perAddress.get(remote.address) ?? 0) >= this.limits.maxTunnelsPerPeer) return this.drop('per-peer', remote);
    const localTunnelId = this.allocateTunnelId();
    if (localTunnelId === undefined) return this.drop('no-tunnel-id', remote);
    const state = createTunnel({
      role: 'lns',
      localTunnelId,
      hostName: this.o.hostName,
      random: this.o.random,
      ...(this.o.secret ? { secret: this.o.secret } : {}),
      ...(this.o.helloIntervalMs !== undefined ? { helloIntervalMs: this.o.helloIntervalMs } : {}),
    });
    const entry = new LiveTunnel(state, localTunnelId, { address: remote.address, port: remote.port, mark }, peerKey, peerAssignedTunnelId, this.o.log, new TokenBucket(this.limits.controlBurst, this.limits.controlPerSecond, now));
    this.tunnels.set(localTunnelId, entry);
    this.byPeerKey.set(peerKey, entry);
    this.perAddress.set(remote.address, (this.perAddress.get(remote.address) ?? 0) + 1);
    this.halfOpen++;
    entry.halfOpenTimer = this.o.timers.set(this.limits.halfOpenTimeoutMs, () => {
      entry.halfOpenTimer = undefined;
      if (entry.established || !entry.live) return;
      entry.log.warn('tunnel not completed (no SCCCN) in time: dropped');
      this.remove(entry);
    });
    if (this.o.log.isLevelEnabled('debug')) entry.log.debug('tunnel requested');
    this.step(entry, { kind: 'received', bytes });
  }

  /** A datagram of this tunnel (control, or data of one of its sessions) arrived with `mark`. */
  followMark(entry: TunnelEntry, mark: number): void {
    const before = entry.peer.mark;
    if (followMark(entry.peer, mark) && this.o.log.isLevelEnabled('info')) entry.log.info({ previousMark: before }, 'tunnel follows a new IPsec SA mark');
  }

  acceptSession(entry: TunnelEntry, localSessionId: number): void {
    this.step(entry, { kind: 'accept-session', localSessionId });
  }

  rejectSession(entry: TunnelEntry, localSessionId: number, why: CloseReason): void {
    this.step(entry, { kind: 'reject-session', localSessionId, ...why });
  }

  closeSession(localTunnelId: number, localSessionId: number, why: CloseReason): void {
    const entry = this.tunnels.get(localTunnelId);
    if (entry && entry.live) this.step(entry, { kind: 'close-session', localSessionId, ...why });
  }

  /** StopCCN to every tunnel (shutdown). */
  closeAll(why: CloseReason): void {
    for (const entry of [...this.tunnels.values()]) if (entry.live) this.step(entry, { kind: 'close-tunnel', ...why });
  }

  /** Forget everything and cancel every timer (after closeAll, at the very end). */
  dispose(): void {
    for (const entry of [...this.tunnels.values()]) this.remove(entry);
    this.activity.flush();
  }

  private step(entry: TunnelEntry, event: TunnelEvent): void {
    const { state, actions } = stepTunnel(entry.state, event);
    entry.state = state;
    for (const action of actions) this.carryOut(entry, action);
    if (entry.live && isTunnelDone(entry.state)) this.finish(entry);
  }

  private carryOut(entry: TunnelEntry, action: TunnelAction): void {
    const timers = this.o.timers;
    switch (action.kind) {
      case 'transmit':
        this.o.send(action.bytes, entry.peer);
        return;
      case 'set-timer': {
        timers.clear(entry.timers.get(action.name));
        const name = action.name;
        entry.timers.set(
          name,
          timers.set(action.ms, () => {
            entry.timers.delete(name);
            if (this.tunnels.get(entry.localTunnelId) === entry) this.step(entry, { kind: 'timer', name });
          }),
        );
        return;
      }
      case 'cancel-timer':
        timers.clear(entry.timers.get(action.name));
        entry.timers.delete(action.name);
        return;
      case 'tunnel-established':
        entry.established = true;
        this.halfOpen--;
        timers.clear(entry.halfOpenTimer);
        entry.halfOpenTimer = undefined;
        this.activity.tunnelEstablished();
        if (this.o.log.isLevelEnabled('debug')) entry.log.debug({ peerHost: action.peer.hostName, vendor: action.peer.vendorName }, 'tunnel established');
        return;
      case 'session-requested':
        this.o.listener.sessionRequested(entry, action);
        return;
      case 'session-established':
        this.o.listener.sessionEstablished(entry, action);
        return;
      case 'session-closed':
        this.o.listener.sessionClosed(entry, action);
        return;
      case 'tunnel-closed': {
        this.activity.tunnelClosed(action.reason);
        // A clean StopCCN either way is routine (counted in the activity line); trouble gets its own line.
        const routine = action.reason === 'peer-stopped' || action.reason === 'local';
        if (this.o.log.isLevelEnabled(routine ? 'debug' : 'info')) entry.log[routine ? 'debug' : 'info']({ reason: action.reason, result: action.resultCode }, 'tunnel closed');
        return;
      }
      case 'warning':
        entry.log.warn(action.detail ?? {}, action.message);
        return;
      case 'link-info':
      case 'call-placed':
        return;
    }
  }

  /** The engine is done: stop counting it, keep it a while to re-acknowledge a repeated StopCCN. */
  private finish(entry: TunnelEntry): void {
    this.uncount(entry);
    for (const handle of entry.timers.values()) this.o.timers.clear(handle);
    entry.timers.clear();
    entry.lingerTimer = this.o.timers.set(this.limits.lingerMs, () => this.remove(entry));
  }

  private uncount(entry: TunnelEntry): void {
    if (!entry.live) return;
    entry.live = false;
    if (!entry.established) this.halfOpen--;
    const n = (this.perAddress.get(entry.peer.address) ?? 1) - 1;
    if (n <= 0) this.perAddress.delete(entry.peer.address);
    else this.perAddress.set(entry.peer.address, n);
    this.o.timers.clear(entry.halfOpenTimer);
  }

  private remove(entry: TunnelEntry): void {
    if (entry.live) {
      // Sessions of a tunnel dropped without ceremony still end properly.
      const { state, actions } = stepTunnel(entry.state, { kind: 'close-tunnel', resultCode: 2, errorMessage: 'dropped' });
      entry.state = state;
      for (const a of actions) if (a.kind === 'session-closed') this.o.listener.sessionClosed(entry, a);
    }
    this.uncount(entry);
    for (const handle of entry.timers.values()) this.o.timers.clear(handle);
    entry.timers.clear();
    this.o.timers.clear(entry.lingerTimer);
    if (this.tunnels.get(entry.localTunnelId) === entry) this.tunnels.delete(entry.localTunnelId);
    if (this.byPeerKey.get(entry.peerKey) === entry) this.byPeerKey.delete(entry.peerKey);
  }

  private allocateTunnelId(): number | undefined {
    for (let i = 0; i < 64; i++) {
      const b = this.o.random(2);
      const id = ((b[0]! << 8) | b[1]!) & 0xffff;
      if (id !== 0 && !this.tunnels.has(id)) return id;
    }
    for (let id = 1; id <= 0xffff; id++) if (!this.tunnels.has(id)) return id;
    return undefined;
  }

  private drop(reason: keyof TunnelManager['dropped'], remote: RemoteInfo, detail: Record<string, unknown> = {}): void {
    this.dropped[reason]++;
    const suppressed = this.throttle.allow(`${reason}|${remote.address}`, this.o.timers.now());
    if (suppressed >= 0) {
      this.o.log.warn({ ...detail, peer: `${remote.address}:${remote.port}`, ...(remote.mark ? { mark: remote.mark } : {}), reason, suppressed }, 'control message dropped');
    }
  }
}
