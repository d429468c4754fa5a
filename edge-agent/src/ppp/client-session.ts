/**
 * `PppClientSession`: the authenticatee side, for the simulator. It negotiates LCP like Windows does
 * (MRU, Magic, PFC, ACFC, plus optional extra raw options such as Callback to exercise rejects), answers
 * PAP / CHAP-MD5 / MS-CHAPv2 through injected synchronous crypto callbacks, takes the address and DNS
 * the server Naks it in IPCP and emits link-up. Pure like the server engine.
 */
import type { AuthMethod } from '../../../contract/src/values';
import { readU32 } from './bytes';
import { decodeChapPacket, encodeChapPacket, encodeMsChapV2ResponseValue, parseMsChapV2Success } from './chap';
import { newLayer, type LayerDefinition } from './control-layer';
import type { PppOption } from './control-packet';
import { PppDecodeError } from './errors';
import { clientIpcpPolicy, clientIpcpState, type ClientIpcpState } from './ipcp-policy';
import { clientLcpState, lcpPolicy, type LcpPolicyState } from './lcp-policy';
import { decodePapPacket, encodePapPacket } from './pap';
import { PPP_PROTOCOL } from './protocol-numbers';
import { closeLink, coreTimer, finish, receiveIpcp, receiveLcp, rejectProtocol, startIpcp, startLcp, type CoreHooks, type CoreState } from './session-core';
import { DEFAULT_TIMINGS, type PppAction, type PppClientEvent, type PppTimings, type RandomBytes, type StepResult } from './session-types';

/** Synchronous crypto the client needs; `createPppClientCrypto` builds one from a password. */
export interface PppClientCrypto {
  /** RFC 1994 §4.1: MD5(Identifier | secret | Challenge). */
  chapMd5(identifier: number, challenge: Uint8Array): Uint8Array;
  /** RFC 2759 §8.1 NT-Response and §8.7 expected authenticator response ("S=" + 40 hex). */
  msChapV2(authenticatorChallenge: Uint8Array, peerChallenge: Uint8Array, username: string): {
    readonly ntResponse: Uint8Array;
    readonly authenticatorResponse: string;
  };
}

export interface PppClientConfig {
  readonly username: string;
  /** Used for PAP; CHAP and MS-CHAPv2 go through `crypto`. */
  readonly password: string;
  readonly crypto: PppClientCrypto;
  readonly random: RandomBytes;
  /** Methods we agree to, preferred first (what we Nak with). Default all three. */
  readonly authMethods?: readonly AuthMethod[];
  readonly mru?: number;
  /** Extra LCP options to request, e.g. Windows' Callback {type 13, data [6]}. */
  readonly extraLcpOptions?: readonly PppOption[];
  /** Ask for primary/secondary DNS (RFC 1877). Default true. */
  readonly requestDns?: boolean;
  readonly timings?: Partial<PppTimings>;
  /** Wait for a CHAP Challenge this long before giving up. Default 30 000 ms. */
  readonly challengeWaitMs?: number;
}

export interface ClientAuthState {
  readonly method: AuthMethod;
  readonly status: 'waiting' | 'sent' | 'succeeded' | 'failed';
  readonly identifier: number;
  readonly sends: number;
  readonly expectedAuthenticatorResponse?: string;
  readonly lastResponse?: Uint8Array;
}

export interface PppClientState extends CoreState<ClientIpcpState> {
  readonly auth?: ClientAuthState;
}

export interface PppClientSession {
  start(): StepResult<PppClientState>;
  step(state: PppClientState, event: PppClientEvent): StepResult<PppClientState>;
}

type Hooks = CoreHooks<PppClientState, ClientIpcpState>;

/** Builds the client engine. */
export function createPppClientSession(config: PppClientConfig): PppClientSession {
  const timings: PppTimings = { ...DEFAULT_TIMINGS, ...config.timings };
  const random32 = () => readU32(config.random(4), 0);
  const lcpDef: LayerDefinition<LcpPolicyState> = { policy: lcpPolicy({ random32, maxLoops: 5 }), limits: timings.limits };
  const ipcpDef: LayerDefinition<ClientIpcpState> = { policy: clientIpcpPolicy, limits: timings.limits };
  const challengeWaitMs = config.challengeWaitMs ?? 30_000;

  const papRequest = (identifier: number): PppAction => ({
    kind: 'send-frame',
    protocol: PPP_PROTOCOL.PAP,
    payload: encodePapPacket({ kind: 'authenticate-request', identifier, peerId: config.username, password: config.password }),
  });

  const authSucceeded = (s: PppClientState, out: PppAction[]): PppClientState => {
    out.push({ kind: 'clear-timer', timer: 'auth' });
    const auth = s.auth ? { ...s.auth, status: 'succeeded' as const } : undefined;
    return startIpcp(hooks, { ...s, auth }, out);
  };
  const authFailed = (s: PppClientState, out: PppAction[]): PppClientState => {
    out.push({ kind: 'clear-timer', timer: 'auth' });
    const auth = s.auth ? { ...s.auth, status: 'failed' as const } : undefined;
    return closeLink(hooks, { ...s, auth }, 'auth-failure', out);
  };

  const hooks: Hooks = {
    timings,
    lcpDef,
    ipcpDef,
    onLcpUp(s, out) {
      const method = s.lcp.policy.peerAuth;
      if (!method) return startIpcp(hooks, s, out); // the server did not ask us to authenticate
      if (method === 'pap') {
        out.push(papRequest(1), { kind: 'set-timer', timer: 'auth', ms: timings.restartMs });
        return { ...s, auth: { method, status: 'sent', identifier: 1, sends: 1 } };
      }
      out.push({ kind: 'set-timer', timer: 'auth', ms: challengeWaitMs });
      return { ...s, auth: { method, status: 'waiting', identifier: -1, sends: 0 } };
    },
    onLcpDown: (s) => s,
    onIpcpUp(s, out) {
      const p = s.ipcp.policy;
      out.push({
        kind: 'link-up',
        address: p.address,
        gateway: p.peerAddress ?? '0.0.0.0',
        dns: p.dns.filter((d): d is string => d !== undefined && d !== '0.0.0.0'),
        peerMru: s.lcp.policy.peerMru,
        peerPfc: s.lcp.policy.peerPfc,
        peerAcfc: s.lcp.policy.peerAcfc,
        username: config.username,
        authMethod: s.auth?.method,
      });
      return s;
    },
  };

  const onAuthTimer = (s: PppClientState, out: PppAction[]): PppClientState => {
    const a = s.auth;
    if (!a || s.phase !== 'authenticate') return s;
    if (a.method === 'pap' && a.status === 'sent' && a.sends < timings.limits.maxConfigure) {
      // RFC 1334 §2.2.1: retransmit the Authenticate-Request (new identifier) until answered.
      const identifier = (a.identifier + 1) & 0xff;
      out.push(papRequest(identifier), { kind: 'set-timer', timer: 'auth', ms: timings.restartMs });
      return { ...s, auth: { ...a, identifier, sends: a.sends + 1 } };
    }
    if (a.status === 'waiting' || a.status === 'sent') return authFailed(s, out);
    return s;
  };

  const onPap = (s: PppClientState, payload: Uint8Array, out: PppAction[]): PppClientState => {
    const a = s.auth;
    const p = decodePapPacket(payload);
    if (!a || a.method !== 'pap' || a.status !== 'sent' || p instanceof PppDecodeError || p.identifier !== a.identifier) return s;
    if (p.kind === 'authenticate-ack') return authSucceeded(s, out);
    if (p.kind === 'authenticate-nak') return authFailed(s, out);
    return s;
  };

  const onChap = (s: PppClientState, payload: Uint8Array, out: PppAction[]): PppClientState => {
    const a = s.auth;
    const p = decodeChapPacket(payload);
    if (!a || a.method === 'pap' || p instanceof PppDecodeError) return s;
    if (p.kind === 'challenge') {
      if (a.status === 'succeeded' || a.status === 'failed') return s;
      if (a.status === 'sent' && p.identifier === a.identifier && a.lastResponse) {
        out.push({ kind: 'send-frame', protocol: PPP_PROTOCOL.CHAP, payload: a.lastResponse }); // retransmitted challenge
        return s;
      }
      let value: Uint8Array;
      let expected: string | undefined;
      if (a.method === 'mschapv2') {
        const peerChallenge = config.random(16).slice(0, 16);
        const r = config.crypto.msChapV2(p.value, peerChallenge, config.username);
        value = encodeMsChapV2ResponseValue({ peerChallenge, ntResponse: r.ntResponse, flags: 0 });
        expected = r.authenticatorResponse;
      } else {
        value = config.crypto.chapMd5(p.identifier, p.value);
      }
      const response = encodeChapPacket({ kind: 'response', identifier: p.identifier, value, name: config.username });
      out.push({ kind: 'send-frame', protocol: PPP_PROTOCOL.CHAP, payload: response }, { kind: 'set-timer', timer: 'auth', ms: challengeWaitMs });
      return { ...s, auth: { ...a, status: 'sent', identifier: p.identifier, sends: a.sends + 1, lastResponse: response, expectedAuthenticatorResponse: expected } };
    }
    if (a.status !== 'sent' || p.identifier !== a.identifier) return s;
    if (p.kind === 'failure') return authFailed(s, out);
    if (p.kind !== 'success') return s;
    if (a.method === 'mschapv2') {
      // RFC 2759 §8.8: the client authenticates the server too; a wrong or missing S= is a failure.
      const parsed = parseMsChapV2Success(p.message);
      const want = (a.expectedAuthenticatorResponse ?? '').replace(/^S=/, '').toUpperCase();
      if (parsed instanceof PppDecodeError || parsed.authenticatorResponse !== want) return authFailed(s, out);
    }
    return authSucceeded(s, out);
  };

  const onFrame = (s: PppClientState, protocol: number, payload: Uint8Array, out: PppAction[]): PppClientState => {
    switch (protocol) {
      case PPP_PROTOCOL.LCP:
        return receiveLcp(hooks, s, payload, out);
      case PPP_PROTOCOL.PAP:
        return s.phase === 'authenticate' ? onPap(s, payload, out) : s;
      case PPP_PROTOCOL.CHAP:
        return s.phase === 'authenticate' ? onChap(s, payload, out) : s;
      case PPP_PROTOCOL.IPCP:
        return receiveIpcp(hooks, s, payload, out);
      case PPP_PROTOCOL.IPV4:
        return s;
      default:
        return rejectProtocol(hooks, s, protocol, payload, out);
    }
  };

  return {
    start() {
      const out: PppAction[] = [];
      const initial: PppClientState = {
        phase: 'establish',
        lcp: newLayer(
          clientLcpState(config.mru ?? 1400, random32(), config.authMethods ?? ['mschapv2', 'chap-md5', 'pap'], config.extraLcpOptions),
          1,
        ),
        ipcp: newLayer(clientIpcpState(config.requestDns ?? true), 1),
        echoMisses: 0,
        linkUp: false,
      };
      return { state: startLcp(hooks, initial, out), actions: out };
    },
    step(s, e) {
      const out: PppAction[] = [];
      if (s.phase === 'dead') return { state: s, actions: out };
      let next = s;
      switch (e.kind) {
        case 'frame':
          next = onFrame(s, e.protocol, e.payload, out);
          break;
        case 'timer':
          next = coreTimer(hooks, s, e.timer, out) ?? onAuthTimer(s, out);
          break;
        case 'close':
          next = closeLink(hooks, s, e.reason, out);
          break;
        case 'lower-down':
          next = finish(s, e.reason ?? 'tunnel-closed', out);
          break;
      }
      return { state: next, actions: out };
    },
  };
}
