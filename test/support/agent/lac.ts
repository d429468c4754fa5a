/**
 * Test-only LAC + PPP client: the l2tp engine in the LAC role and `PppClientSession`, driven over a
 * DatagramSocket (FakeUdpNetwork in unit tests, a real socket in the integration test). One
 * `LacHost` (one socket) can hold several LACs, like clients behind one NAT: replies are routed to
 * the LAC by the Tunnel ID in the header.
 */
import {
  createTunnel,
  decodeDataHeader,
  decodePacket,
  encodeDataHeaderInto,
  L2tpDecodeError,
  newDataHeaderView,
  stepTunnel,
  type TunnelAction,
  type TunnelEvent,
  type TunnelState,
} from '../../../edge-agent/src/l2tp';
import {
  createPppClientSession,
  decodeFrame,
  isPppDecodeError,
  type LinkUpInfo,
  type PppAction,
  type PppClientConfig,
  type PppClientEvent,
  type PppClientSession,
  type PppClientState,
  type PppTimer,
} from '../../../edge-agent/src/ppp';
import type { DatagramSocket, RemoteInfo } from '../../../edge-agent/src/io/udp';
import type { TimerHandle, TimerService } from '../../../edge-agent/src/clock';

export class LacHost {
  private readonly lacs = new Map<number, TestLac>();
  private readonly view = newDataHeaderView();

  constructor(
    readonly socket: DatagramSocket,
    readonly server: RemoteInfo,
    readonly timers: TimerService,
  ) {
    socket.onMessage((data) => {
      let tunnelId: number;
      if ((data[0]! & 0x80) === 0) {
        const h = decodeDataHeader(data, this.view);
        if (h instanceof L2tpDecodeError) return;
        tunnelId = h.tunnelId;
      } else {
        const p = decodePacket(data);
        if (p instanceof L2tpDecodeError) return;
        tunnelId = p.header.tunnelId;
      }
      this.lacs.get(tunnelId)?.receive(Buffer.from(data));
    });
  }

  /** A new LAC with this local tunnel id; call `open()` to send SCCRQ. */
  lac(localTunnelId: number, random: (n: number) => Uint8Array): TestLac {
    const lac = new TestLac(this, localTunnelId, random);
    this.lacs.set(localTunnelId, lac);
    return lac;
  }

  send(bytes: Uint8Array): void {
    this.socket.send(bytes, this.server.port, this.server.address);
  }
}

export class TestLac {
  state: TunnelState;
  readonly events: TunnelAction[] = [];
  readonly calls = new Map<number, TestCall>();
  private readonly timers = new Map<string, TimerHandle>();
  private readonly view = newDataHeaderView();
  private waitingCall: TestCall | undefined;
  private disposed = false;

  constructor(
    readonly host: LacHost,
    readonly localTunnelId: number,
    readonly random: (n: number) => Uint8Array,
  ) {
    this.state = createTunnel({ role: 'lac', localTunnelId, hostName: 'test-lac', random });
  }

  get established(): boolean {
    return this.state.phase === 'established';
  }

  get closed(): boolean {
    return this.events.some((e) => e.kind === 'tunnel-closed');
  }

  open(): void {
    this.feed({ kind: 'open' });
  }

  /** Place a call whose PPP client uses `ppp`. */
  placeCall(ppp: PppClientConfig): TestCall {
    const call = new TestCall(this, ppp);
    this.waitingCall = call;
    this.feed({ kind: 'place-call' });
    this.waitingCall = undefined;
    return call;
  }

  close(): void {
    this.feed({ kind: 'close-tunnel', resultCode: 1 });
  }

  clearCall(call: TestCall): void {
    this.feed({ kind: 'close-session', localSessionId: call.localSessionId, resultCode: 3 });
  }

  receive(data: Buffer): void {
    if ((data[0]! & 0x80) !== 0) {
      this.feed({ kind: 'received', bytes: data });
      return;
    }
    const h = decodeDataHeader(data, this.view);
    if (h instanceof L2tpDecodeError) return;
    this.calls.get(h.sessionId)?.receiveFrame(data.subarray(h.payloadOffset, h.payloadOffset + h.payloadLength));
  }

  feed(event: TunnelEvent): void {
    if (this.disposed) return;
    const { state, actions } = stepTunnel(this.state, event);
    this.state = state;
    for (const a of actions) {
      switch (a.kind) {
        case 'transmit':
          this.host.send(a.bytes);
          break;
        case 'set-timer': {
          this.host.timers.clear(this.timers.get(a.name));
          const name = a.name;
          this.timers.set(name, this.host.timers.set(a.ms, () => this.feed({ kind: 'timer', name })));
          break;
        }
        case 'cancel-timer':
          this.host.timers.clear(this.timers.get(a.name));
          this.timers.delete(a.name);
          break;
        case 'call-placed':
          if (this.waitingCall) {
            this.waitingCall.localSessionId = a.localSessionId;
            this.calls.set(a.localSessionId, this.waitingCall);
          }
          this.events.push(a);
          break;
        case 'session-established': {
          const call = this.calls.get(a.localSessionId);
          if (call) {
            call.peerTunnelId = a.peerTunnelId;
            call.peerSessionId = a.peerSessionId;
            call.startPpp();
          }
          this.events.push(a);
          break;
        }
        case 'session-closed': {
          const call = this.calls.get(a.localSessionId);
          if (call) call.l2tpClosed(a);
          this.events.push(a);
          break;
        }
        default:
          this.events.push(a);
      }
    }
  }

  /** Stop every timer (end of test). */
  /** Clears its timers for good: a packet that arrives later (the server answering) arms none. */
  dispose(): void {
    this.disposed = true;
    for (const t of this.timers.values()) this.host.timers.clear(t);
    this.timers.clear();
    for (const c of this.calls.values()) c.dispose();
  }
}

export class TestCall {
  localSessionId = 0;
  peerTunnelId = 0;
  peerSessionId = 0;
  ppp: PppClientState | undefined;
  up: LinkUpInfo | undefined;
  down: string | undefined;
  /** The CDN (or tunnel end) that cleared the call. */
  cleared: Extract<TunnelAction, { kind: 'session-closed' }> | undefined;
  /** IPv4 packets the LNS sent us. */
  readonly received: Uint8Array[] = [];
  readonly pppLog: PppAction[] = [];
  private hungUp = false;
  private disposed = false;
  private readonly engine: PppClientSession;
  private readonly timers = new Map<PppTimer, TimerHandle>();

  constructor(
    readonly lac: TestLac,
    config: PppClientConfig,
  ) {
    this.engine = createPppClientSession(config);
  }

  startPpp(): void {
    const { state, actions } = this.engine.start();
    this.ppp = state;
    this.run(actions);
  }

  receiveFrame(frame: Uint8Array): void {
    const f = decodeFrame(frame);
    if (isPppDecodeError(f)) return;
    if (f.protocol === 0x0021) {
      this.received.push(Uint8Array.from(f.payload));
      return;
    }
    this.step({ kind: 'frame', protocol: f.protocol, payload: Uint8Array.from(f.payload) });
  }

  l2tpClosed(a: Extract<TunnelAction, { kind: 'session-closed' }>): void {
    this.cleared = a;
    this.step({ kind: 'lower-down', reason: 'tunnel-closed' });
  }

  /** Send an IPv4 packet; `compress` uses ACFC + PFC (1-byte protocol, no FF 03). */
  sendIpv4(packet: Uint8Array, compress = false): void {
    const ppp = compress ? Uint8Array.of(0x21) : Uint8Array.of(0xff, 0x03, 0x00, 0x21);
    this.sendRaw(Buffer.concat([ppp, packet]));
  }

  /** Send raw PPP bytes in an L2TP data message for this call. */
  sendRaw(pppFrame: Uint8Array): void {
    const out = Buffer.alloc(6 + pppFrame.length);
    encodeDataHeaderInto(out, 0, this.peerTunnelId, this.peerSessionId, pppFrame.length);
    out.set(pppFrame, 6);
    this.lac.host.send(out);
  }

  /** PPP close from the client side (LCP Terminate-Request). */
  hangUp(): void {
    this.hungUp = true;
    this.step({ kind: 'close', reason: 'user-request' });
  }

  dispose(): void {
    this.disposed = true;
    for (const t of this.timers.values()) this.lac.host.timers.clear(t);
    this.timers.clear();
  }

  private step(event: PppClientEvent): void {
    if (!this.ppp || this.disposed) return;
    const { state, actions } = this.engine.step(this.ppp, event);
    this.ppp = state;
    this.run(actions);
  }

  private run(actions: readonly PppAction[]): void {
    for (const a of actions) {
      this.pppLog.push(a);
      switch (a.kind) {
        case 'send-frame': {
          const frame = Buffer.alloc(4 + a.payload.length);
          frame[0] = 0xff;
          frame[1] = 0x03;
          frame.writeUInt16BE(a.protocol, 2);
          frame.set(a.payload, 4);
          this.sendRaw(frame);
          break;
        }
        case 'set-timer': {
          this.lac.host.timers.clear(this.timers.get(a.timer));
          const name = a.timer;
          this.timers.set(name, this.lac.host.timers.set(a.ms, () => this.step({ kind: 'timer', timer: name })));
          break;
        }
        case 'clear-timer':
          this.lac.host.timers.clear(this.timers.get(a.timer));
          this.timers.delete(a.timer);
          break;
        case 'link-up':
          this.up = a;
          break;
        case 'link-down':
          this.down = a.reason;
          // A client that hung up clears its call; otherwise it waits for the LNS's CDN.
          if (!this.cleared && this.hungUp) this.lac.clearCall(this);
          break;
        default:
          break;
      }
    }
  }
}

/** Resolve once `condition()` holds, yielding to the event loop between checks. */
export async function waitFor(condition: () => boolean, what = 'condition', iterations = 3000): Promise<void> {
  for (let i = 0; i < iterations; i++) {
    if (condition()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`timed out waiting for ${what}`);
}
