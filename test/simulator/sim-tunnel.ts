/**
 * One simulated LAC: an L2TP tunnel engine in the LAC role (RFC 2661 §7.2 and §7.4.2, incoming calls) over a
 * SimEndpoint, with its timers, carrying the PPP sessions of SimSession. Data messages are routed to the session by
 * Session ID without copying.
 */
import {
  L2tpDecodeError,
  createTunnel,
  decodeDataHeader,
  newDataHeaderView,
  stepTunnel,
  FLAG_T,
  type ResultCode,
  type TunnelAction,
  type TunnelEvent,
  type TunnelState,
  type TunnelTimer,
} from '../../edge-agent/src/l2tp';
import { NamedTimers } from './named-timers';
import type { SimEndpoint, TunnelReceiver } from './sim-endpoint';
import type { SessionHost, SimSession } from './sim-session';
import type { SimEvent, SimTimeouts } from './types';

export interface SimTunnelOptions {
  readonly index: number;
  readonly endpoint: SimEndpoint;
  readonly localTunnelId: number;
  readonly timeouts: SimTimeouts;
  readonly secret?: Uint8Array;
  readonly onEvent?: (event: SimEvent) => void;
}

export class SimTunnel implements TunnelReceiver, SessionHost {
  readonly tunnelIndex: number;
  readonly localTunnelId: number;
  peerTunnelId = 0;
  /** Set once the tunnel is gone, with why. */
  closedReason?: string;
  private state: TunnelState;
  private readonly timers: NamedTimers<TunnelTimer>;
  private readonly byLocalId = new Map<number, SimSession>();
  private readonly view = newDataHeaderView();
  /** The session whose `place-call` is being stepped (its call-placed action names its id). */
  private placing?: SimSession;
  private readonly upWaiters: Array<(ok: boolean) => void> = [];
  private readonly closedWaiters: Array<() => void> = [];

  constructor(private readonly options: SimTunnelOptions) {
    this.tunnelIndex = options.index;
    this.localTunnelId = options.localTunnelId;
    this.state = createTunnel({
      role: 'lac',
      localTunnelId: options.localTunnelId,
      hostName: `sim-lac-${options.index}`,
      vendorName: 'tunnel-broker simulator',
      ...(options.secret ? { secret: options.secret } : {}),
      ...(options.timeouts.helloIntervalMs !== undefined ? { helloIntervalMs: options.timeouts.helloIntervalMs } : {}),
    });
    this.timers = new NamedTimers((name) => this.step({ kind: 'timer', name }));
  }

  /** Local UDP port of this tunnel's socket (benchmarks point a bare relay at it). */
  get localPort(): number {
    return this.options.endpoint.localPort;
  }

  get phase(): TunnelState['phase'] {
    return this.state.phase;
  }

  /** Send SCCRQ; resolves true at tunnel-established, false if the tunnel closed first. */
  open(): Promise<boolean> {
    const up = this.waitUp();
    this.step({ kind: 'open' });
    return up;
  }

  waitUp(): Promise<boolean> {
    if (this.state.phase === 'established') return Promise.resolve(true);
    if (this.closedReason !== undefined) return Promise.resolve(false);
    return new Promise((resolve) => this.upWaiters.push(resolve));
  }

  /** Place an incoming call (ICRQ; queued by the engine until the tunnel is up) for `session`. */
  placeCall(session: SimSession): void {
    session.markPlaced();
    if (this.closedReason !== undefined) {
      session.onCallDown(`tunnel-closed:${this.closedReason}`);
      return;
    }
    this.placing = session;
    try {
      this.step({ kind: 'place-call', callingNumber: `sim-${session.index}` });
    } finally {
      this.placing = undefined;
    }
  }

  /** StopCCN (RFC 2661 §5.7); resolves when the engine is done (acked or given up) or after `timeoutMs`. */
  close(timeoutMs: number): Promise<void> {
    if (this.state.phase === 'closed') return Promise.resolve();
    const done = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      timer.unref();
      this.closedWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    if (this.closedReason === undefined) this.step({ kind: 'close-tunnel', resultCode: 1 });
    return done.finally(() => this.dispose());
  }

  // ---- SessionHost ----

  send(bytes: Uint8Array): void {
    this.options.endpoint.send(bytes);
  }

  closeCall(localSessionId: number): void {
    if (!this.byLocalId.has(localSessionId)) return;
    // Result Code 3: "Session disconnected for administrative reasons" (§4.4.2, CDN).
    this.step({ kind: 'close-session', localSessionId, resultCode: 3 });
  }

  // ---- TunnelReceiver ----

  receive(datagram: Buffer): void {
    if (((datagram[0] as number) & FLAG_T) !== 0) {
      this.step({ kind: 'received', bytes: datagram });
      return;
    }
    const view = decodeDataHeader(datagram, this.view);
    if (view instanceof L2tpDecodeError) return;
    this.byLocalId.get(view.sessionId)?.receiveFrame(datagram, view.payloadOffset, view.payloadLength);
  }

  // ---- engine ----

  private step(event: TunnelEvent): void {
    const { state, actions } = stepTunnel(this.state, event);
    this.state = state;
    for (const action of actions) this.apply(action);
    if (state.phase === 'closed') this.onClosedPhase();
  }

  private apply(a: TunnelAction): void {
    switch (a.kind) {
      case 'transmit':
        this.options.endpoint.send(a.bytes);
        break;
      case 'set-timer':
        this.timers.set(a.name, a.ms);
        break;
      case 'cancel-timer':
        this.timers.clear(a.name);
        break;
      case 'tunnel-established':
        this.peerTunnelId = a.peerTunnelId;
        this.options.onEvent?.({ kind: 'tunnel-up', tunnel: this.tunnelIndex, peerTunnelId: a.peerTunnelId });
        for (const waiter of this.upWaiters.splice(0)) waiter(true);
        break;
      case 'call-placed':
        if (this.placing) {
          this.placing.localSessionId = a.localSessionId;
          this.placing.callOpen = true;
          this.byLocalId.set(a.localSessionId, this.placing);
        }
        break;
      case 'session-established':
        this.byLocalId.get(a.localSessionId)?.onCallUp(a.peerSessionId, a.sequencingRequired);
        break;
      case 'session-closed': {
        const session = this.byLocalId.get(a.localSessionId);
        this.byLocalId.delete(a.localSessionId);
        session?.onCallDown(a.reason, a.resultCode);
        break;
      }
      case 'tunnel-closed':
        this.closedReason = a.reason;
        this.options.onEvent?.({ kind: 'tunnel-down', tunnel: this.tunnelIndex, reason: a.reason, ...(a.resultCode ? { resultCode: a.resultCode } : {}) });
        for (const waiter of this.upWaiters.splice(0)) waiter(false);
        this.failOrphans(a.reason, a.resultCode);
        break;
      case 'warning':
        this.options.onEvent?.({ kind: 'warning', tunnel: this.tunnelIndex, message: a.message, ...(a.detail ? { detail: a.detail } : {}) });
        break;
      default:
        break; // LNS-only actions
    }
  }

  /** Sessions the engine dropped with the tunnel (it reports session-closed for known ones; this catches the rest). */
  private failOrphans(reason: string, resultCode?: ResultCode): void {
    for (const session of this.byLocalId.values()) session.onCallDown(`tunnel-closed:${reason}`, resultCode);
    this.byLocalId.clear();
  }

  private onClosedPhase(): void {
    this.timers.clearAll();
    for (const waiter of this.closedWaiters.splice(0)) waiter();
  }

  private dispose(): void {
    this.timers.clearAll();
    this.options.endpoint.detach(this.localTunnelId);
  }
}
