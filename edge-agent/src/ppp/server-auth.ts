/**
 * The authenticator side of PAP (RFC 1334 §2), CHAP-MD5 (RFC 1994) and MS-CHAPv2 (RFC 2759). It never
 * judges credentials: it emits `verify-credentials` and later turns the orchestration's `auth-result`
 * into the reply packet the client expects.
 */
import type { AuthMethod } from '../../../contract/src/values';
import {
  decodeChapPacket,
  decodeMsChapV2ResponseValue,
  encodeChapPacket,
  formatMsChapV2Failure,
  formatMsChapV2Success,
  MSCHAPV2_CHALLENGE_LENGTH,
} from './chap';
import { PppDecodeError } from './errors';
import { decodePapPacket, encodePapPacket } from './pap';
import { PPP_PROTOCOL } from './protocol-numbers';
import type { PppAction, RandomBytes } from './session-types';

export interface ServerAuthConfig {
  readonly random: RandomBytes;
  /** CHAP Name field of our Challenge (RFC 1994 §4.1). */
  readonly name: string;
  /** CHAP: Challenge retransmission interval. */
  readonly retryMs: number;
  /** CHAP: Challenges sent before giving up. */
  readonly maxChallenges: number;
  /** PAP: how long to wait for the client's Authenticate-Request. */
  readonly papWaitMs: number;
}

export interface ServerAuthState {
  readonly method: AuthMethod;
  readonly status: 'waiting' | 'verifying' | 'succeeded' | 'failed';
  /** CHAP: identifier of the outstanding Challenge; PAP: of the request being verified. */
  readonly identifier: number;
  readonly challenge?: Uint8Array;
  readonly sends: number;
  readonly username?: string;
  /** Our last Success/Ack, resent if the client repeats its request (RFC 1334 §2.2.1, RFC 1994 §4.1). */
  readonly lastReply?: { readonly protocol: number; readonly payload: Uint8Array; readonly identifier: number };
}

export interface AuthStep {
  readonly auth: ServerAuthState;
  readonly actions: PppAction[];
  readonly outcome?: 'success' | 'failure';
}

function challengeFrame(cfg: ServerAuthConfig, a: ServerAuthState): PppAction {
  return {
    kind: 'send-frame',
    protocol: PPP_PROTOCOL.CHAP,
    payload: encodeChapPacket({ kind: 'challenge', identifier: a.identifier, value: a.challenge ?? new Uint8Array(0), name: cfg.name }),
  };
}

/** Enters the Authenticate phase for the negotiated method. */
export function authBegin(cfg: ServerAuthConfig, method: AuthMethod, identifier: number): AuthStep {
  if (method === 'pap') {
    const auth: ServerAuthState = { method, status: 'waiting', identifier: 0, sends: 0 };
    return { auth, actions: [{ kind: 'set-timer', timer: 'auth', ms: cfg.papWaitMs }] };
  }
  // RFC 2759 §3 requires exactly 16 octets for MS-CHAPv2; 16 is also a good CHAP-MD5 size (RFC 1994 §2.3).
  const challenge = cfg.random(MSCHAPV2_CHALLENGE_LENGTH).slice(0, MSCHAPV2_CHALLENGE_LENGTH);
  const auth: ServerAuthState = { method, status: 'waiting', identifier: identifier & 0xff, challenge, sends: 1 };
  return { auth, actions: [challengeFrame(cfg, auth), { kind: 'set-timer', timer: 'auth', ms: cfg.retryMs }] };
}

/** Auth timer: resend the Challenge, or give up (CHAP after maxChallenges, PAP after one wait). */
export function authTimeout(cfg: ServerAuthConfig, a: ServerAuthState): AuthStep {
  if (a.status !== 'waiting') return { auth: a, actions: [] };
  if (a.method === 'pap' || a.sends >= cfg.maxChallenges) return { auth: { ...a, status: 'failed' }, actions: [], outcome: 'failure' };
  const next = { ...a, sends: a.sends + 1 };
  return { auth: next, actions: [challengeFrame(cfg, next), { kind: 'set-timer', timer: 'auth', ms: cfg.retryMs }] };
}

/** A PAP or CHAP packet from the client. */
export function authReceive(a: ServerAuthState, protocol: number, payload: Uint8Array): AuthStep {
  const none: AuthStep = { auth: a, actions: [] };
  const repeatReply = (identifier: number): AuthStep =>
    a.lastReply && a.lastReply.identifier === identifier && a.lastReply.protocol === protocol
      ? { auth: a, actions: [{ kind: 'send-frame', protocol, payload: a.lastReply.payload }] }
      : none;
  if (protocol === PPP_PROTOCOL.PAP) {
    if (a.method !== 'pap') return none;
    const p = decodePapPacket(payload);
    if (p instanceof PppDecodeError || p.kind !== 'authenticate-request') return none;
    if (a.status === 'succeeded') return repeatReply(p.identifier);
    if (a.status !== 'waiting') return none; // duplicates while the broker is verifying are ignored
    return {
      auth: { ...a, status: 'verifying', identifier: p.identifier, username: p.peerId },
      actions: [
        { kind: 'clear-timer', timer: 'auth' },
        { kind: 'verify-credentials', method: 'pap', username: p.peerId, material: { method: 'pap', password: p.password } },
      ],
    };
  }
  if (protocol !== PPP_PROTOCOL.CHAP || a.method === 'pap') return none;
  const p = decodeChapPacket(payload);
  if (p instanceof PppDecodeError || p.kind !== 'response') return none;
  if (a.status === 'succeeded') return repeatReply(p.identifier);
  if (a.status !== 'waiting' || p.identifier !== a.identifier || !a.challenge) return none; // RFC 1994 §4.1: stale id
  let material;
  if (a.method === 'mschapv2') {
    const v = decodeMsChapV2ResponseValue(p.value);
    if (v instanceof PppDecodeError) return none;
    material = {
      method: 'mschapv2' as const,
      identifier: p.identifier,
      authenticatorChallenge: a.challenge,
      peerChallenge: v.peerChallenge.slice(),
      ntResponse: v.ntResponse.slice(),
      flags: v.flags,
    };
  } else {
    material = { method: 'chap-md5' as const, identifier: p.identifier, challenge: a.challenge, response: p.value.slice() };
  }
  return {
    auth: { ...a, status: 'verifying', username: p.name },
    actions: [{ kind: 'clear-timer', timer: 'auth' }, { kind: 'verify-credentials', method: a.method, username: p.name, material }],
  };
}

/** The broker's verdict, turned into Authenticate-Ack/Nak or CHAP Success/Failure in the client's form. */
export function authResult(
  cfg: ServerAuthConfig,
  a: ServerAuthState,
  result: { readonly ok: boolean; readonly authenticatorResponse?: string; readonly message?: string },
): AuthStep {
  if (a.status !== 'verifying') return { auth: a, actions: [] };
  const identifier = a.identifier;
  let protocol: number = PPP_PROTOCOL.CHAP;
  let payload: Uint8Array;
  if (a.method === 'pap') {
    protocol = PPP_PROTOCOL.PAP;
    payload = encodePapPacket({
      kind: result.ok ? 'authenticate-ack' : 'authenticate-nak',
      identifier,
      message: result.message ?? (result.ok ? 'Login ok' : 'Authentication failed'),
    });
  } else if (a.method === 'mschapv2') {
    if (result.ok && !result.authenticatorResponse) {
      // Without the authenticator response Windows/macOS reject the server (RFC 2759 §5): treat as failure.
      return authResult(cfg, a, { ok: false, message: 'missing authenticator response' });
    }
    const message = result.ok
      ? formatMsChapV2Success(result.authenticatorResponse ?? '', result.message ?? 'Access granted')
      : formatMsChapV2Failure({
          error: 691,
          retry: false,
          challenge: cfg.random(MSCHAPV2_CHALLENGE_LENGTH).slice(0, 16),
          version: 3,
          message: result.message ?? 'Authentication failed',
        });
    payload = encodeChapPacket({ kind: result.ok ? 'success' : 'failure', identifier, message });
  } else {
    payload = encodeChapPacket({
      kind: result.ok ? 'success' : 'failure',
      identifier,
      message: result.message ?? (result.ok ? 'Access granted' : 'Authentication failed'),
    });
  }
  const send: PppAction = { kind: 'send-frame', protocol, payload };
  if (!result.ok) return { auth: { ...a, status: 'failed' }, actions: [send], outcome: 'failure' };
  return { auth: { ...a, status: 'succeeded', lastReply: { protocol, payload, identifier } }, actions: [send], outcome: 'success' };
}
