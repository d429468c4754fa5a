/**
 * Events into and actions out of the PPP session engines. Actions are plain data the agent's
 * orchestration (or the simulator) carries out; the engines never do I/O.
 */
import type { AuthMethod, EndReason } from '../../../contract/src/values';
import type { FsmLimits } from './fsm';

/** Named timers; `set-timer` replaces a running timer of the same name. */
export type PppTimer = 'lcp' | 'ipcp' | 'auth' | 'echo';

/** What the authenticator hands the broker to verify; the agent never checks credentials itself. */
export type CredentialMaterial =
  | { readonly method: 'pap'; readonly password: string }
  | {
      readonly method: 'chap-md5';
      readonly identifier: number;
      readonly challenge: Uint8Array;
      readonly response: Uint8Array;
    }
  | {
      readonly method: 'mschapv2';
      readonly identifier: number;
      readonly authenticatorChallenge: Uint8Array;
      readonly peerChallenge: Uint8Array;
      readonly ntResponse: Uint8Array;
      readonly flags: number;
    };

export interface LinkUpInfo {
  /** The client's address (server: what the broker assigned; client: what the server Nak'd us). */
  readonly address: string;
  /** The server's own end of the link. */
  readonly gateway: string;
  readonly dns: readonly string[];
  /** Largest frame payload we may send to the peer (its MRU). */
  readonly peerMru: number;
  /** Peer accepts compressed headers (it acked nothing of ours; it asked for these in its request). */
  readonly peerPfc: boolean;
  readonly peerAcfc: boolean;
  /** Server: the authenticated user name as the client sent it. */
  readonly username?: string;
  readonly authMethod?: AuthMethod;
}

/** The broker's account of an authenticated peer; opaque to PPP, which only carries it along. */
export interface AuthenticatedPeer {
  readonly tenantId: string;
  readonly username: string;
  /** The broker's one-time grant that the session start must present. */
  readonly grant: string;
}

export type PppAction =
  | { readonly kind: 'send-frame'; readonly protocol: number; readonly payload: Uint8Array }
  | { readonly kind: 'set-timer'; readonly timer: PppTimer; readonly ms: number }
  | { readonly kind: 'clear-timer'; readonly timer: PppTimer }
  | {
      readonly kind: 'verify-credentials';
      readonly method: AuthMethod;
      /** As sent by the client (may carry a "DOMAIN\" prefix or "@realm"). */
      readonly username: string;
      readonly material: CredentialMaterial;
    }
  | {
      readonly kind: 'request-address';
      /** As sent by the client. */
      readonly username: string;
      readonly method: AuthMethod;
      /** Whom the verifier said authenticated (the auth-result's `principal`), handed back unread. */
      readonly principal: AuthenticatedPeer | undefined;
    }
  | ({ readonly kind: 'link-up' } & LinkUpInfo)
  | { readonly kind: 'link-down'; readonly reason: EndReason };

/** Events both engines accept. */
export type PppCommonEvent =
  /** A PPP frame from the peer, header already stripped (see decodeFrame/decodeFrameHeader). */
  | { readonly kind: 'frame'; readonly protocol: number; readonly payload: Uint8Array }
  | { readonly kind: 'timer'; readonly timer: PppTimer }
  /** Local close: LCP sends Terminate-Request, then link-down with this reason. */
  | { readonly kind: 'close'; readonly reason: EndReason }
  /** The L2TP session under us is gone: link-down at once, nothing sent. */
  | { readonly kind: 'lower-down'; readonly reason?: EndReason };

export type PppServerEvent =
  | PppCommonEvent
  | {
      readonly kind: 'auth-result';
      readonly ok: boolean;
      /** MS-CHAPv2: the 40 hex digits (or "S=" + 40 hex) of RFC 2759 §8.7. */
      readonly authenticatorResponse?: string;
      readonly message?: string;
      /** Who authenticated, in the verifier's terms: carried to `request-address` (PPP does not read it). */
      readonly principal?: AuthenticatedPeer;
    }
  | { readonly kind: 'address-assigned'; readonly address: string; readonly dns: readonly string[]; readonly gateway: string }
  | { readonly kind: 'address-refused'; readonly reason: EndReason };

export type PppClientEvent = PppCommonEvent;

export interface StepResult<S> {
  readonly state: S;
  readonly actions: readonly PppAction[];
}

/** Timings and limits shared by both engines (RFC 1661 §4.6 defaults). */
export interface PppTimings {
  /** Restart timer for Configure/Terminate-Request retransmission. Default 3000 ms. */
  readonly restartMs: number;
  readonly limits: FsmLimits;
  /** LCP Echo-Request interval once LCP is opened; 0 disables. Default 30 000 ms. */
  readonly echoIntervalMs: number;
  /** Unanswered Echo-Requests before the link is declared dead (reason lcp-timeout). Default 4. */
  readonly echoMaxMisses: number;
  /**
   * Skip our Echo-Request when the peer sent a control packet (other than an Echo-Reply) since the
   * last echo period: it is evidently alive (pppd's lcp-echo-adaptive). A peer that falls silent
   * is probed again and dropped no later than without this option, counted from the last packet
   * heard from it (echoMaxMisses + 1 periods), after one probe fewer. Server only. Default false.
   */
  readonly echoAdaptive?: boolean;
}

export const DEFAULT_TIMINGS: PppTimings = {
  restartMs: 3000,
  limits: { maxConfigure: 10, maxTerminate: 2, maxFailure: 5 },
  echoIntervalMs: 30_000,
  echoMaxMisses: 4,
};

/** Injected randomness: `n` random bytes. Tests pass a deterministic source. */
export type RandomBytes = (n: number) => Uint8Array;
