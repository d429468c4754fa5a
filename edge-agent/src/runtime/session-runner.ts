/**
 * One L2TP session's life after ICCN: the PPP server engine, the broker calls its actions ask for
 * (authenticate, start session), the data-path fields, accounting, and exactly one end with one
 * reason. The runner never touches sockets directly: it goes through its `SessionHost`.
 */
import type { Logger } from 'pino';
import type { AuthenticateRequest, Broker, StartedSession, StartSessionRequest } from '../broker/broker-client';
import { BrokerCallAbandonedError, BrokerRejectedError, BrokerUnavailableError } from '../broker/http-transport';
import { formatIpv4, mssForMtu, parseIpv4, type CounterSnapshot } from '../datapath';
import type { AuthenticatedPeer, PppAction, PppServerEvent, PppServerSession, PppServerState, PppTimer } from '../ppp';
import type { AuthMethod, EndReason } from '../../../contract/src/values';
import { formatCidr } from '../../../contract/src/ipv4';
import type { DataSession } from './data-path';
import { poolRouteOf, type PoolRoute } from './pool-route';
import type { PeerPath } from './tunnels';
import type { TimerHandle, TimerService } from '../clock';

/** What a runner needs from the agent. */
export interface SessionHost {
  readonly broker: Broker;
  readonly timers: TimerService;
  readonly uuid: () => string;
  /**
   * The PPP engine, shared by every session: it is pure (state in, state out), so one instance
   * serves 10,000 sessions instead of a dozen closures each.
   */
  readonly ppp: PppServerSession;
  readonly mtu: number;
  readonly interimIntervalMs: number;
  sendPpp(session: SessionRunner, protocol: number, payload: Uint8Array): void;
  /**
   * The broker gave the session `address`: claim it for this session, or say why it may not have it
   * (already a live session's, a pool gateway, or on this host's own networks). Never evicts.
   */
  claimAddress(session: SessionRunner, address: number, pool: PoolRoute): string | undefined;
  /**
   * Resolves once the pool's route and gateway are on the TUN (installed on the pool's first
   * session, at once afterwards): true, or false when they could not be installed. The session
   * hands its address to PPP only then, so its first packets can flow (issue 18).
   */
  poolReady(session: SessionRunner, pool: PoolRoute): Promise<boolean>;
  /** The link is up: route its address to it; false = refused. */
  linkUp(session: SessionRunner, pool: PoolRoute): boolean;
  /** The session ended: clear the call (CDN) if `clearCall`, unroute, report. Called once. */
  ended(session: SessionRunner, reason: EndReason, clearCall: boolean): void;
  /** The session's interim period is up: report its counters to the broker if they moved. */
  interim(session: SessionRunner): void;
  /** Packets in + out of the session so far (its RADIUS Idle-Timeout watches them). */
  packets(session: SessionRunner): number;
  /** The broker started the session after it had already ended here: report its stop. */
  startedAfterEnd(session: SessionRunner): void;
  /** The IPsec SA the session's L2TP came through, for the broker's record (none without IPsec). */
  ipsecSaOf?(session: SessionRunner): StartSessionRequest['ipsecSa'];
}

export interface SessionIds {
  readonly localTunnelId: number;
  readonly peerTunnelId: number;
  readonly localSessionId: number;
  readonly peerSessionId: number;
  /** The tunnel's peer path (shared: the tunnel updates its mark). */
  readonly peer: PeerPath;
  readonly sequencingRequired: boolean;
}

const PPP_TIMER_SLOT: Readonly<Record<PppTimer, number>> = { lcp: 0, ipcp: 1, auth: 2, echo: 3 };

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

const ipsecSaField = (sa: StartSessionRequest['ipsecSa']) => (sa ? { ipsecSa: sa } : {});

/** Broker refusal codes of POST /v1/agent/sessions mapped to the reason the session ends with. */
function refusalReason(error: unknown): EndReason {
  if (error instanceof BrokerRejectedError) {
    if (error.code === 'pool-exhausted' || error.code === 'quota-exceeded') return error.code;
    if (error.code === 'user-disabled' || error.code === 'method-not-allowed' || error.code === 'grant-invalid') return 'auth-failure';
  }
  return 'error';
}

export class SessionRunner implements DataSession {
  readonly localTunnelId: number;
  readonly localSessionId: number;
  peerTunnelId: number;
  peerSessionId: number;
  readonly peer: PeerPath;
  address = 0;
  forwarding = false;
  acfc = false;
  pfc = false;
  dataNs: number;
  mss: number;
  /** Idempotency key of the broker's session start. */
  readonly agentSessionRef: string;
  /** The broker's session id once started. */
  brokerSessionId: string | undefined;
  /** Whose session it is, from the start on (for the stop report). */
  tenantId: string | undefined;
  username: string | undefined;
  endReason: EndReason | undefined;
  /** The user name as the client sent it (log context until the broker's verdict). */
  private claimedUser: string | undefined;

  private state: PppServerState | undefined;
  /** Running PPP timers by PPP_TIMER_SLOT (an array: a Map costs ~200 bytes a session). */
  private readonly pppTimers: (TimerHandle | undefined)[] = [undefined, undefined, undefined, undefined];
  private interimTimer: TimerHandle | undefined;
  private callOpen = true;

  constructor(
    private readonly host: SessionHost,
    ids: SessionIds,
    readonly counterSlot: number,
    private readonly baseLog: Logger,
  ) {
    this.localTunnelId = ids.localTunnelId;
    this.localSessionId = ids.localSessionId;
    this.peerTunnelId = ids.peerTunnelId;
    this.peerSessionId = ids.peerSessionId;
    this.peer = ids.peer;
    this.dataNs = ids.sequencingRequired ? 0 : -1;
    this.mss = mssForMtu(host.mtu);
    this.agentSessionRef = host.uuid();
  }

  /**
   * A pino child with this session's context, made when a line is logged and not kept: a kept child
   * per session (three nested ones before) cost ~3 KiB each at 10,000 sessions, mostly the
   * prototype maps V8 builds for each logger in the chain. Sessions log a handful of lines in
   * their life, so making one per line costs nothing measurable.
   */
  get log(): Logger {
    return this.baseLog.child({
      tunnel: this.localTunnelId,
      peerTunnel: this.peerTunnelId,
      peer: `${this.peer.address}:${this.peer.port}`,
      ...(this.peer.mark !== 0 ? { mark: this.peer.mark } : {}),
      session: this.localSessionId,
      peerSession: this.peerSessionId,
      ...(this.claimedUser !== undefined ? { user: this.claimedUser } : {}),
      ...(this.brokerSessionId !== undefined ? { sessionId: this.brokerSessionId } : {}),
    });
  }

  /** Info lines are off in most deployments: skip building the child for them. */
  private info(fields: Record<string, unknown>, message: string): void {
    if (this.baseLog.isLevelEnabled('info')) this.log.info(fields, message);
  }

  get ended(): boolean {
    return this.endReason !== undefined;
  }

  /** Start LCP (the first Configure-Request). */
  start(): void {
    const { state, actions } = this.host.ppp.start();
    this.state = state;
    this.run(actions);
  }

  onPppFrame(protocol: number, payload: Uint8Array): void {
    // The datagram buffer is the socket's and reused after this returns, and engines may keep
    // payloads across events (a frame that arrives while the pool route is installed): a copy.
    // Not `payload.slice()`: on a Buffer that is a view.
    this.step({ kind: 'frame', protocol, payload: new Uint8Array(payload) });
  }

  /** Agent-initiated end (admin-disconnect, agent-shutdown): LCP Terminate-Request, then CDN. */
  close(reason: EndReason): void {
    this.step({ kind: 'close', reason });
  }

  /** The L2TP call is gone (peer CDN, tunnel closed): end at once, nothing more to send. */
  callCleared(reason: EndReason): void {
    this.callOpen = false;
    this.step({ kind: 'lower-down', reason });
  }

  /** End now without waiting for the peer (shutdown deadline). */
  abort(reason: EndReason): void {
    this.step({ kind: 'lower-down', reason });
  }

  counters(read: (slot: number) => CounterSnapshot): CounterSnapshot {
    return read(this.counterSlot);
  }

  private step(event: PppServerEvent): void {
    if (!this.state || this.ended) return;
    const { state, actions } = this.host.ppp.step(this.state, event);
    this.state = state;
    this.run(actions);
  }

  private run(actions: readonly PppAction[]): void {
    for (const action of actions) {
      switch (action.kind) {
        case 'send-frame':
          if (!this.ended) this.host.sendPpp(this, action.protocol, action.payload);
          break;
        case 'set-timer': {
          const slot = PPP_TIMER_SLOT[action.timer];
          this.host.timers.clear(this.pppTimers[slot]);
          const name = action.timer;
          this.pppTimers[slot] = this.host.timers.set(action.ms, () => {
            this.pppTimers[slot] = undefined;
            this.step({ kind: 'timer', timer: name });
          });
          break;
        }
        case 'clear-timer': {
          const slot = PPP_TIMER_SLOT[action.timer];
          this.host.timers.clear(this.pppTimers[slot]);
          this.pppTimers[slot] = undefined;
          break;
        }
        case 'verify-credentials':
          void this.verify(action);
          break;
        case 'request-address':
          void this.requestAddress(action.method, action.principal);
          break;
        case 'link-up':
          this.linkUp(action);
          break;
        case 'link-down':
          this.end(action.reason);
          break;
      }
    }
  }

  private async verify(action: Extract<PppAction, { kind: 'verify-credentials' }>): Promise<void> {
    const m = action.material;
    const username = action.username;
    // The session's ref binds the broker's grant to this session's start; the client's address is
    // what the broker counts failures against (with the user).
    const common = { username, agentSessionRef: this.agentSessionRef, peerAddress: this.peer.address };
    const request: AuthenticateRequest =
      m.method === 'pap'
        ? { method: 'pap', ...common, password: m.password }
        : m.method === 'chap-md5'
          ? { method: 'chap-md5', ...common, id: m.identifier, challenge: hex(m.challenge), response: hex(m.response) }
          : {
              method: 'mschapv2',
              ...common,
              id: m.identifier,
              authenticatorChallenge: hex(m.authenticatorChallenge),
              peerChallenge: hex(m.peerChallenge),
              ntResponse: hex(m.ntResponse),
            };
    this.claimedUser = username;
    let event: PppServerEvent;
    try {
      const verdict = await this.host.broker.authenticate(request, { wanted: () => !this.ended });
      if (verdict.ok) {
        this.info({ method: action.method, tenant: verdict.tenantId }, 'authenticated');
        // RADIUS Session-Timeout / Idle-Timeout (RFC 2865 §5.27, §5.28): armed once the link is up.
        this.sessionTimeoutMs = verdict.sessionTimeoutSeconds !== undefined ? verdict.sessionTimeoutSeconds * 1000 : undefined;
        this.idleTimeoutMs = verdict.idleTimeoutSeconds !== undefined ? verdict.idleTimeoutSeconds * 1000 : undefined;
        event = {
          kind: 'auth-result',
          ok: true,
          principal: { tenantId: verdict.tenantId, username: verdict.username, grant: verdict.grant },
          ...(verdict.authenticatorResponse ? { authenticatorResponse: verdict.authenticatorResponse } : {}),
        };
      } else {
        this.log.warn({ method: action.method, reason: verdict.reason }, 'authentication refused by the broker');
        event = { kind: 'auth-result', ok: false };
      }
    } catch (error) {
      if (error instanceof BrokerCallAbandonedError) return; // ended while queued: nobody to answer
      if (error instanceof BrokerUnavailableError) this.log.error({ err: error.message }, 'broker unreachable: refusing new session');
      else this.log.error({ err: String(error) }, 'authentication failed with an unexpected error: refusing the session');
      event = { kind: 'auth-result', ok: false, message: 'service unavailable' };
    }
    this.step(event);
  }

  private async requestAddress(method: AuthMethod, principal: AuthenticatedPeer | undefined): Promise<void> {
    if (principal === undefined) {
      // No broker verdict behind this success: the broker would refuse the start (grant-invalid).
      this.log.error('no grant from the authentication: refusing the session');
      this.step({ kind: 'address-refused', reason: 'auth-failure' });
      return;
    }
    this.tenantId = principal.tenantId;
    this.username = principal.username;
    let started: StartedSession;
    try {
      started = await this.host.broker.startSession({
        agentSessionRef: this.agentSessionRef,
        tunnelId: this.localTunnelId,
        l2tpSessionId: this.localSessionId,
        peerAddress: this.peer.address,
        ...ipsecSaField(this.host.ipsecSaOf?.(this)),
        tenantId: principal.tenantId,
        username: principal.username,
        authMethod: method,
        grant: principal.grant,
      }, { wanted: () => !this.ended });
    } catch (error) {
      if (error instanceof BrokerCallAbandonedError) return; // ended while queued: nothing was started
      const reason = refusalReason(error);
      if (error instanceof BrokerUnavailableError) this.log.error({ err: error.message }, 'broker unreachable: refusing new session');
      else this.log.warn({ reason, err: error instanceof Error ? error.message : String(error) }, 'session start refused by the broker');
      this.step({ kind: 'address-refused', reason });
      return;
    }
    this.brokerSessionId = started.sessionId;
    if (this.ended) {
      // Ended while the broker was allocating: give the address back at once.
      this.host.startedAfterEnd(this);
      return;
    }
    const address = parseIpv4(started.address);
    if (address === undefined) {
      this.log.error({ address: started.address }, 'broker returned an invalid address');
      this.step({ kind: 'address-refused', reason: 'error' });
      return;
    }
    const pool = poolRouteOf(started, address);
    const refusal = this.host.claimAddress(this, address, pool);
    if (refusal !== undefined) {
      // The broker recorded the start: ending reports its stop, which frees the lease there.
      this.log.error({ address: started.address, cidr: formatCidr(pool.block) }, `address refused: ${refusal}`);
      this.step({ kind: 'address-refused', reason: 'error' });
      return;
    }
    this.address = address;
    this.pool = pool;
    // Issue 18: IPCP must not open (and the client send) before the TUN routes this pool.
    const ready = await this.host.poolReady(this, pool);
    if (this.ended) return; // the broker has its stop report (brokerSessionId is set)
    if (!ready) {
      this.log.error({ address: started.address, cidr: formatCidr(pool.block) }, 'the pool\'s route could not be installed on the TUN: refusing the session');
      this.step({ kind: 'address-refused', reason: 'error' });
      return;
    }
    this.step({ kind: 'address-assigned', address: started.address, dns: started.dns, gateway: started.gateway });
  }

  private pool: PoolRoute | undefined;

  private linkUp(info: Extract<PppAction, { kind: 'link-up' }>): void {
    this.acfc = info.peerAcfc;
    this.pfc = info.peerPfc;
    this.mss = mssForMtu(Math.min(this.host.mtu, info.peerMru));
    this.forwarding = true;
    if (!this.host.linkUp(this, this.pool ?? poolRouteOf({ gateway: info.gateway }, this.address))) {
      this.end('error');
      return;
    }
    this.info({ address: formatIpv4(this.address), method: info.authMethod }, 'session up');
    this.armInterim();
    this.armLimits();
  }

  private sessionTimeoutMs: number | undefined;
  private idleTimeoutMs: number | undefined;
  private limitTimer: TimerHandle | undefined;
  private idleMark: { packets: number; since: number } | undefined;

  /**
   * The user's own limits from RADIUS: Session-Timeout ends the session that long after it came
   * up; Idle-Timeout once its packet count has not moved for that long (checked every quarter of
   * it, at least every second and at most every 30 s, so it ends at most that much late).
   */
  private armLimits(): void {
    const { timers } = this.host;
    const upAt = timers.now();
    const idle = this.idleTimeoutMs;
    const check = () => {
      this.limitTimer = undefined;
      if (this.ended) return;
      const now = timers.now();
      if (this.sessionTimeoutMs !== undefined && now - upAt >= this.sessionTimeoutMs) {
        this.info({ sessionTimeoutMs: this.sessionTimeoutMs }, 'RADIUS Session-Timeout reached: ending the session');
        this.close('session-timeout');
        return;
      }
      if (idle !== undefined) {
        const packets = this.host.packets(this);
        if (!this.idleMark || this.idleMark.packets !== packets) this.idleMark = { packets, since: now };
        else if (now - this.idleMark.since >= idle) {
          this.info({ idleTimeoutMs: idle }, 'RADIUS Idle-Timeout reached: ending the idle session');
          this.close('idle-timeout');
          return;
        }
      }
      arm(now);
    };
    const arm = (now: number) => {
      const untilSessionEnd = this.sessionTimeoutMs !== undefined ? Math.max(0, upAt + this.sessionTimeoutMs - now) : Infinity;
      const idleStep = idle !== undefined ? Math.max(1000, Math.min(idle / 4, 30_000)) : Infinity;
      const wait = Math.min(untilSessionEnd, idleStep);
      if (wait !== Infinity) this.limitTimer = timers.set(wait, check);
    };
    if (idle !== undefined) this.idleMark = { packets: this.host.packets(this), since: upAt };
    arm(upAt);
  }

  private armInterim(): void {
    if (this.host.interimIntervalMs <= 0) return;
    this.interimTimer = this.host.timers.set(this.host.interimIntervalMs, () => {
      this.interimTimer = undefined;
      if (this.ended || !this.brokerSessionId) return;
      this.host.interim(this);
      this.armInterim();
    });
  }

  /** Packets (in + out) in the last interim report sent; see SessionHost.interim. */
  reportedPackets = 0;

  private end(reason: EndReason): void {
    if (this.ended) return;
    this.endReason = reason;
    this.forwarding = false;
    for (let slot = 0; slot < this.pppTimers.length; slot++) {
      this.host.timers.clear(this.pppTimers[slot]);
      this.pppTimers[slot] = undefined;
    }
    this.host.timers.clear(this.interimTimer);
    this.host.timers.clear(this.limitTimer);
    this.info({ reason }, 'session ended');
    this.host.ended(this, reason, this.callOpen);
    this.callOpen = false;
  }
}
