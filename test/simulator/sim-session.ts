/**
 * One simulated dial-up user: a PPP client engine (authenticatee) on top of an L2TP session of a SimTunnel. Carries
 * out the engine's actions (frames out as L2TP data messages, timers), and offers an IPv4 interface over the link:
 * raw send/receive and ICMP echo (ping) with RTTs.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { EndReason } from '../../functions/src/domain/types';
import type { ResultCode } from '../../edge-agent/src/l2tp';
import { dataHeaderLength, encodeDataHeaderInto } from '../../edge-agent/src/l2tp';
import {
  CP_CODE,
  PPP_PROTOCOL,
  createPppClientSession,
  decodeFrameHeader,
  isPppDecodeError,
  writeFrameHeader,
  type PppAction,
  type PppClientCrypto,
  type PppClientSession,
  type PppClientState,
  type PppTimer,
} from '../../edge-agent/src/ppp';
import { decodeIcmpEcho, encodeIcmpEcho, ICMP_ECHO_REPLY, parseIpv4 } from '../../edge-agent/src/datapath';
import { NamedTimers } from './named-timers';
import type { LinkDownInfo, PingOptions, PingResult, SessionCounters, SessionResult, SimCredentials, SimTimeouts } from './types';

/** What a session needs from its tunnel. */
export interface SessionHost {
  readonly tunnelIndex: number;
  readonly localTunnelId: number;
  readonly peerTunnelId: number;
  send(bytes: Uint8Array): void;
  /** Close the L2TP session (CDN). */
  closeCall(localSessionId: number): void;
}

export type SessionPhase = 'placing' | 'l2tp-up' | 'up' | 'failed' | 'down';

type LinkDownWaiter = (info: LinkDownInfo) => void;
type PendingEcho = { sentAt: number; resolve: (rtt: number) => void };

const PPP_HEADER = 4; // 0xFF 0x03 + 2-byte protocol: always safe to send (RFC 1661 §6.5/6.6)

export class SimSession {
  phase: SessionPhase = 'placing';
  localSessionId = 0;
  peerSessionId = 0;
  address?: string;
  gateway?: string;
  dns: readonly string[] = [];
  setupMs?: number;
  failure?: string;
  linkDown?: LinkDownInfo;
  readonly counters: SessionCounters = { packetsOut: 0, bytesOut: 0, packetsIn: 0, bytesIn: 0 };

  private readonly engine: PppClientSession;
  private ppp?: PppClientState;
  private readonly timers: NamedTimers<PppTimer>;
  private startedAt = performance.now();
  private setupTimer?: NodeJS.Timeout;
  private readonly setupMsLimit: number;
  private sequencing = false;
  /** The L2TP session exists (placed and not yet closed by either side). */
  callOpen = false;
  private dataNs = 0;
  private closingLocally = false;
  private peerMessage?: string;
  private cdn?: ResultCode;
  private readonly ipHandlers = new Set<(packet: Uint8Array) => void>();
  private readonly echoes = new Map<number, PendingEcho>();
  private echoIdentifier = randomBytes(2).readUInt16BE(0);
  private readonly settledWaiters: Array<() => void> = [];
  private readonly downWaiters: LinkDownWaiter[] = [];

  constructor(
    readonly index: number,
    private readonly host: SessionHost,
    readonly credentials: SimCredentials,
    crypto: PppClientCrypto,
    timeouts: SimTimeouts,
    mru: number,
  ) {
    this.engine = createPppClientSession({
      username: credentials.username,
      password: credentials.password,
      crypto,
      random: (n) => randomBytes(n),
      authMethods: [credentials.method],
      mru,
      timings: {
        ...(timeouts.pppRestartMs !== undefined ? { restartMs: timeouts.pppRestartMs } : {}),
        ...(timeouts.echoIntervalMs !== undefined ? { echoIntervalMs: timeouts.echoIntervalMs } : {}),
      },
    });
    this.timers = new NamedTimers((timer) => this.stepPpp({ kind: 'timer', timer }));
    this.setupMsLimit = timeouts.setupMs ?? 30_000;
  }

  /** The call is being placed now: setup latency and the setup timeout count from here (not from queueing). */
  markPlaced(): void {
    this.startedAt = performance.now();
    clearTimeout(this.setupTimer);
    this.setupTimer = setTimeout(() => this.onSetupTimeout(), this.setupMsLimit);
    this.setupTimer.unref();
  }

  /** Resolves once setup succeeded or failed. */
  settled(): Promise<void> {
    if (this.phase !== 'placing' && this.phase !== 'l2tp-up') return Promise.resolve();
    return new Promise((resolve) => this.settledWaiters.push(resolve));
  }

  result(): SessionResult {
    return {
      index: this.index,
      tunnel: this.host.tunnelIndex,
      username: this.credentials.username,
      method: this.credentials.method,
      ok: this.address !== undefined && this.failure === undefined,
      ...(this.failure !== undefined ? { reason: this.failure } : {}),
      ...(this.address !== undefined ? { address: this.address, gateway: this.gateway, dns: this.dns } : {}),
      ...(this.setupMs !== undefined ? { setupMs: this.setupMs } : {}),
      localTunnelId: this.host.localTunnelId,
      peerTunnelId: this.host.peerTunnelId,
      localSessionId: this.localSessionId,
      peerSessionId: this.peerSessionId,
    };
  }

  // ---- driven by the tunnel ----

  /** The L2TP session is established (ICCN sent): start PPP (RFC 2661 §3: PPP runs over the session). */
  onCallUp(peerSessionId: number, sequencingRequired: boolean): void {
    if (this.phase !== 'placing') return;
    this.peerSessionId = peerSessionId;
    this.sequencing = sequencingRequired;
    this.phase = 'l2tp-up';
    const first = this.engine.start();
    this.ppp = first.state;
    this.apply(first.actions);
  }

  /** The L2TP session is gone (CDN either way, or the tunnel closed). */
  onCallDown(reason: string, resultCode?: ResultCode): void {
    if (resultCode && !this.closingLocally) this.cdn = resultCode;
    this.callOpen = false;
    if (this.ppp && this.ppp.phase !== 'dead') {
      this.stepPpp({ kind: 'lower-down', reason: 'tunnel-closed' });
    } else if (this.phase === 'placing') {
      this.fail(`l2tp:${reason}${resultCode ? `:${resultCode.resultCode}` : ''}`);
      this.finishDown({ reason: `l2tp:${reason}`, by: 'peer', ...(resultCode ? { cdn: resultCode } : {}) });
    }
  }

  /** A data message for us: the PPP frame is `buf[offset, offset + length)`. */
  receiveFrame(buf: Uint8Array, offset: number, length: number): void {
    const header = decodeFrameHeader(buf, offset);
    if (isPppDecodeError(header)) return;
    const end = offset + length;
    if (header.protocol === PPP_PROTOCOL.IPV4) {
      const packet = buf.subarray(header.payloadOffset, end);
      this.counters.packetsIn++;
      this.counters.bytesIn += packet.length;
      if (this.echoes.size > 0) this.matchEcho(packet);
      for (const handler of this.ipHandlers) handler(packet);
      return;
    }
    const payload = buf.subarray(header.payloadOffset, end);
    if (header.protocol === PPP_PROTOCOL.LCP && payload[0] === CP_CODE.TERMINATE_REQUEST && payload.length > 4) {
      this.peerMessage = Buffer.from(payload.subarray(4)).toString('utf8');
    }
    this.stepPpp({ kind: 'frame', protocol: header.protocol, payload });
  }

  // ---- public API ----

  /** Send one IPv4 packet over the link (no checks: the simulator may send anything, e.g. spoofed sources). */
  sendIpPacket(packet: Uint8Array): void {
    if (this.phase !== 'up') throw new Error(`session ${this.index} is not up (${this.phase})`);
    this.counters.packetsOut++;
    this.counters.bytesOut += packet.length;
    this.sendFrame(PPP_PROTOCOL.IPV4, packet);
  }

  /** Receive every IPv4 packet from the link; returns an unsubscribe function. The buffer is only valid during the call. */
  onIpPacket(handler: (packet: Uint8Array) => void): () => void {
    this.ipHandlers.add(handler);
    return () => this.ipHandlers.delete(handler);
  }

  /** ICMP echo from our PPP address to `destination`; replies are matched on identifier and sequence. */
  async ping(destination: string, options: PingOptions = {}): Promise<PingResult> {
    const count = options.count ?? 1;
    const dst = parseIpv4(destination);
    const src = this.address === undefined ? undefined : parseIpv4(this.address);
    if (dst === undefined || src === undefined) throw new Error(`ping: bad destination ${destination} or session not up`);
    const identifier = (this.echoIdentifier = (this.echoIdentifier + 1) & 0xffff);
    const payload = new Uint8Array(options.size ?? 56).fill(0xa5);
    const rtts: Array<Promise<number | undefined>> = [];
    const deadlineMs = options.timeoutMs ?? 2000;
    for (let sequence = 0; sequence < count; sequence++) {
      if (sequence > 0) await sleep(options.intervalMs ?? 100);
      if (this.phase !== 'up') break;
      const key = (identifier << 16) | sequence;
      rtts.push(
        new Promise<number | undefined>((resolve) => {
          const timer = setTimeout(() => {
            this.echoes.delete(key);
            resolve(undefined);
          }, deadlineMs);
          this.echoes.set(key, {
            sentAt: performance.now(),
            resolve: (rtt) => {
              clearTimeout(timer);
              resolve(rtt);
            },
          });
        }),
      );
      this.sendIpPacket(encodeIcmpEcho({ source: src, destination: dst, identifier, sequence, payload }));
    }
    const answered = (await Promise.all(rtts)).filter((r): r is number => r !== undefined && Number.isFinite(r));
    return { sent: rtts.length, received: answered.length, rttMs: answered };
  }

  /** Orderly hang-up: LCP Terminate-Request, then CDN (RFC 1661 §3.7, RFC 2661 §5.4.3). Resolves at link-down. */
  disconnect(timeoutMs = 10_000): Promise<LinkDownInfo> {
    if (this.linkDown) return Promise.resolve(this.linkDown);
    this.closingLocally = true;
    const done = this.waitForLinkDown(timeoutMs);
    if (this.ppp && this.ppp.phase !== 'dead') this.stepPpp({ kind: 'close', reason: 'user-request' });
    else {
      if (this.callOpen) this.closeCall();
      this.fail('user-request');
      this.finishDown({ reason: 'user-request', by: 'local' });
    }
    return done;
  }

  /** Resolves when the link goes down (by either side); rejects after `timeoutMs`. */
  waitForLinkDown(timeoutMs = 30_000): Promise<LinkDownInfo> {
    if (this.linkDown) return Promise.resolve(this.linkDown);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const at = this.downWaiters.indexOf(waiter);
        if (at >= 0) this.downWaiters.splice(at, 1);
        reject(new Error(`session ${this.index}: link still ${this.phase} after ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter: LinkDownWaiter = (info) => {
        clearTimeout(timer);
        resolve(info);
      };
      this.downWaiters.push(waiter);
    });
  }

  // ---- internals ----

  private stepPpp(event: Parameters<PppClientSession['step']>[1]): void {
    if (!this.ppp) return;
    const r = this.engine.step(this.ppp, event);
    this.ppp = r.state;
    this.apply(r.actions);
  }

  private apply(actions: readonly PppAction[]): void {
    for (const a of actions) {
      switch (a.kind) {
        case 'send-frame':
          this.sendFrame(a.protocol, a.payload);
          break;
        case 'set-timer':
          this.timers.set(a.timer, a.ms);
          break;
        case 'clear-timer':
          this.timers.clear(a.timer);
          break;
        case 'link-up':
          this.onLinkUp(a.address, a.gateway, a.dns);
          break;
        case 'link-down':
          this.onPppDown(a.reason);
          break;
        default:
          break; // server-only actions
      }
    }
  }

  private onLinkUp(address: string, gateway: string, dns: readonly string[]): void {
    if (this.phase !== 'l2tp-up') return;
    this.address = address;
    this.gateway = gateway;
    this.dns = dns;
    this.setupMs = performance.now() - this.startedAt;
    this.phase = 'up';
    clearTimeout(this.setupTimer);
    this.releaseSettled();
  }

  private onPppDown(reason: EndReason): void {
    this.timers.clearAll();
    const wasUp = this.phase === 'up';
    if (this.callOpen) this.closeCall();
    if (!wasUp) this.fail(reason);
    this.finishDown({
      reason,
      by: this.closingLocally ? 'local' : 'peer',
      ...(this.peerMessage !== undefined ? { peerMessage: this.peerMessage } : {}),
      ...(this.cdn !== undefined ? { cdn: this.cdn } : {}),
    });
  }

  private onSetupTimeout(): void {
    if (this.phase !== 'placing' && this.phase !== 'l2tp-up') return;
    this.fail('timeout');
    this.closingLocally = true;
    if (this.ppp && this.ppp.phase !== 'dead') this.stepPpp({ kind: 'lower-down', reason: 'error' });
    if (this.callOpen) this.closeCall();
    this.finishDown({ reason: 'timeout', by: 'local' });
  }

  private closeCall(): void {
    this.callOpen = false;
    this.host.closeCall(this.localSessionId);
  }

  private fail(reason: string): void {
    if (this.phase === 'failed' || this.phase === 'down') return;
    this.failure ??= reason;
    this.phase = 'failed';
    clearTimeout(this.setupTimer);
    this.releaseSettled();
  }

  private finishDown(info: LinkDownInfo): void {
    if (this.linkDown) return;
    this.timers.clearAll();
    this.linkDown = info;
    if (this.phase === 'up') this.phase = 'down';
    for (const pending of this.echoes.values()) pending.resolve(Number.NaN);
    this.echoes.clear();
    for (const waiter of this.downWaiters.splice(0)) waiter(info);
  }

  private releaseSettled(): void {
    for (const waiter of this.settledWaiters.splice(0)) waiter();
  }

  private matchEcho(packet: Uint8Array): void {
    const echo = decodeIcmpEcho(packet);
    if (!echo || echo.type !== ICMP_ECHO_REPLY) return;
    const key = (echo.identifier << 16) | echo.sequence;
    const pending = this.echoes.get(key);
    if (!pending) return;
    this.echoes.delete(key);
    pending.resolve(performance.now() - pending.sentAt);
  }

  /** One allocation per frame: L2TP data header + PPP header + payload. */
  private sendFrame(protocol: number, payload: Uint8Array): void {
    if (this.peerSessionId === 0) return;
    const hlen = dataHeaderLength(false, this.sequencing);
    const buf = new Uint8Array(hlen + PPP_HEADER + payload.length);
    const ns = this.sequencing ? this.dataNs : -1;
    if (this.sequencing) this.dataNs = (this.dataNs + 1) & 0xffff;
    encodeDataHeaderInto(buf, 0, this.host.peerTunnelId, this.peerSessionId, PPP_HEADER + payload.length, false, ns, 0);
    const at = writeFrameHeader(buf, hlen, protocol);
    buf.set(payload, at);
    this.host.send(buf);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
