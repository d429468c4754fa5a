/** Configuration, state, events and actions of the tunnel engine (see tunnel.ts). */
import type { Accm, CallErrors, ResultCode } from './avp-catalog';
import type { ReliableConfig, ReliableState } from './reliable';

export type TunnelRole = 'lns' | 'lac';

export interface TunnelConfig {
  readonly role: TunnelRole;
  /** Our Assigned Tunnel ID (non-zero, unique among this agent's tunnels; the orchestration allocates it). */
  readonly localTunnelId: number;
  /** Host Name AVP we send. */
  readonly hostName: string;
  /** @default 'tunnel-broker' */
  readonly vendorName?: string;
  /** Tunnel secret (§5.1.1). When set we challenge the peer and can reveal hidden AVPs. */
  readonly secret?: Uint8Array;
  /** Receive Window Size we advertise and hold out-of-order messages for. @default 8 */
  readonly receiveWindowSize?: number;
  /** Send a HELLO after this much silence from the peer (§6.5). @default 60000 */
  readonly helloIntervalMs?: number;
  /** See `MessageDecodeOptions.permissiveMandatoryAvps`. @default true */
  readonly permissiveMandatoryAvps?: boolean;
  /** Framing Capabilities we advertise. @default 3 (sync | async) */
  readonly framingCapabilities?: number;
  /** Retransmission tuning (initialRtoMs, maxRtoMs, maxRetries, ackDelayMs). */
  readonly reliable?: Partial<Pick<ReliableConfig, 'initialRtoMs' | 'maxRtoMs' | 'maxRetries' | 'ackDelayMs'>>;
  /** Source of random octets (challenges, session ids). @default node:crypto randomBytes */
  readonly random?: (n: number) => Uint8Array;
}

export type TunnelPhase = 'idle' | 'wait-ctl-reply' | 'wait-ctl-conn' | 'established' | 'closing' | 'closed';

export type SessionPhase = 'wait-tunnel' | 'wait-reply' | 'wait-accept' | 'wait-connect' | 'established';

/** Facts about the peer learned from SCCRQ/SCCRP. */
export interface PeerInfo {
  readonly hostName?: string;
  readonly vendorName?: string;
  readonly firmwareRevision?: number;
  readonly framingCapabilities?: number;
  readonly bearerCapabilities?: number;
  /** As sent; undefined when absent (then §5.8's default of 4 applies). */
  readonly receiveWindowSize?: number;
}

export interface SessionState {
  readonly localSessionId: number;
  /** 0 until the peer assigns it (LAC side before ICRP). */
  readonly peerSessionId: number;
  readonly phase: SessionPhase;
  readonly callSerialNumber: number;
  readonly callingNumber?: string;
  readonly calledNumber?: string;
  readonly sequencingRequired?: boolean;
}

export interface TunnelState {
  readonly config: TunnelConfig;
  readonly phase: TunnelPhase;
  readonly localTunnelId: number;
  /** 0 until learned from SCCRQ/SCCRP. */
  readonly peerTunnelId: number;
  readonly channel: ReliableState;
  readonly peer: PeerInfo;
  /** Challenge we sent (§5.1.1) and must see answered. */
  readonly ourChallenge?: Uint8Array;
  /** Sessions by local session id. */
  readonly sessions: Readonly<Record<number, SessionState>>;
  readonly nextCallSerial: number;
}

/** Details of a call for the LAC side's ICRQ. */
export interface PlaceCall {
  readonly localSessionId?: number;
  readonly callSerialNumber?: number;
  readonly callingNumber?: string;
  readonly calledNumber?: string;
}

/** Why and how to close: result/error codes of §4.4.2. */
export interface CloseReason {
  readonly resultCode?: number;
  readonly errorCode?: number;
  readonly errorMessage?: string;
}

export type TunnelTimer = 'retransmit' | 'ack' | 'hello';

export type TunnelEvent =
  /** A control datagram for this tunnel (routed by the orchestration on Tunnel ID, or a new SCCRQ). */
  | { readonly kind: 'received'; readonly bytes: Uint8Array }
  | { readonly kind: 'timer'; readonly name: TunnelTimer }
  /** LAC: send SCCRQ. */
  | { readonly kind: 'open' }
  /** LAC: place an incoming call (ICRQ); waits for the tunnel if needed. */
  | ({ readonly kind: 'place-call' } & PlaceCall)
  /** LNS: the broker accepted the session announced by `session-requested`: send ICRP. */
  | { readonly kind: 'accept-session'; readonly localSessionId: number }
  /** LNS: the broker refused it: send CDN. */
  | ({ readonly kind: 'reject-session'; readonly localSessionId: number } & CloseReason)
  | ({ readonly kind: 'close-session'; readonly localSessionId: number } & CloseReason)
  | ({ readonly kind: 'close-tunnel' } & CloseReason);

export type TunnelAction =
  | { readonly kind: 'transmit'; readonly bytes: Uint8Array }
  /** (Re)arm a per-tunnel timer; a later set-timer of the same name replaces it. */
  | { readonly kind: 'set-timer'; readonly name: TunnelTimer; readonly ms: number }
  | { readonly kind: 'cancel-timer'; readonly name: TunnelTimer }
  | { readonly kind: 'tunnel-established'; readonly localTunnelId: number; readonly peerTunnelId: number; readonly peer: PeerInfo }
  /** LNS: a LAC asks for a session (ICRQ); answer with accept-session or reject-session. */
  | {
      readonly kind: 'session-requested';
      readonly localSessionId: number;
      readonly peerSessionId: number;
      readonly callSerialNumber: number;
      readonly callingNumber?: string;
      readonly calledNumber?: string;
    }
  /** LAC: an ICRQ went out (or waits for the tunnel) under this local session id. */
  | { readonly kind: 'call-placed'; readonly localSessionId: number }
  | {
      readonly kind: 'session-established';
      readonly localTunnelId: number;
      readonly peerTunnelId: number;
      readonly localSessionId: number;
      readonly peerSessionId: number;
      /** Peer asked for sequenced data messages (§4.4.5 Sequencing Required). */
      readonly sequencingRequired: boolean;
      readonly txConnectSpeed?: number;
      readonly framingType?: number;
      readonly initialReceivedLcpConfReq?: Uint8Array;
      readonly lastSentLcpConfReq?: Uint8Array;
      readonly lastReceivedLcpConfReq?: Uint8Array;
    }
  | {
      readonly kind: 'session-closed';
      readonly localSessionId: number;
      readonly peerSessionId: number;
      readonly reason: 'peer-disconnected' | 'local' | 'rejected' | 'tunnel-closed' | 'protocol-error';
      readonly resultCode?: ResultCode;
    }
  | {
      readonly kind: 'tunnel-closed';
      readonly localTunnelId: number;
      readonly peerTunnelId: number;
      readonly reason: 'peer-stopped' | 'local' | 'peer-unresponsive' | 'auth-failed' | 'protocol-error';
      readonly resultCode?: ResultCode;
    }
  /** SLI / WEN from the peer (§6.13, §6.14). */
  | { readonly kind: 'link-info'; readonly localSessionId: number; readonly accm?: Accm; readonly callErrors?: CallErrors }
  /** Something odd that was tolerated or dropped; for logs. */
  | { readonly kind: 'warning'; readonly message: string; readonly detail?: Record<string, unknown> };

export interface TunnelStep {
  readonly state: TunnelState;
  readonly actions: TunnelAction[];
}
