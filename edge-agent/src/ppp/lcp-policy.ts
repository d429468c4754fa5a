/**
 * What the agent (server) and the simulator (client) ask for and accept in LCP (RFC 1661 §6).
 * Server: asks for MRU, Magic-Number and the tenant's preferred Auth-Protocol, walking down the
 * preference list when the client Naks; accepts ACCM/PFC/ACFC and any MRU >= 576; rejects everything
 * else (callback, multilink, ...). Client: asks for what Windows asks for and accepts the server's
 * Auth-Protocol when it is one it supports, otherwise Naks with its own preference (RFC 1994 §3).
 */
import type { AuthMethod, EndReason } from '../../../contract/src/values';
import type { PppOption } from './control-packet';
import { composeReply, type LayerPolicy, type PolicyUpdate, type RequestReview } from './control-layer';
import { PppDecodeError } from './errors';
import { authMethodOf, authProtocolOption, decodeLcpOption, encodeLcpOption } from './lcp';
import { DEFAULT_MRU, LCP_OPTION, MIN_MRU } from './protocol-numbers';

export interface LcpPolicyState {
  readonly role: 'server' | 'client';
  /** Our MRU, requested while `requestMru`. */
  readonly mru: number;
  readonly requestMru: boolean;
  readonly magic: number;
  readonly requestMagic: boolean;
  /** Server: auth methods still to offer, current first. Client: methods it can answer, preferred first. */
  readonly authMethods: readonly AuthMethod[];
  /** Client only: PFC/ACFC and extra raw options (e.g. Windows' callback) until rejected. */
  readonly requestCompression: boolean;
  readonly extraOptions: readonly PppOption[];
  /** What the peer told us (from the request we acked). */
  readonly peerMru: number;
  readonly peerMagic?: number;
  readonly peerPfc: boolean;
  readonly peerAcfc: boolean;
  /** Client: the auth method the server asked for and we acked. */
  readonly peerAuth?: AuthMethod;
  /** Consecutive requests that carried our own magic number (§6.4 loop detection). */
  readonly loopCount: number;
}

export interface LcpPolicyConfig {
  readonly random32: () => number;
  /** Loops seen in a row before the link is declared looped back. */
  readonly maxLoops: number;
}

const opt = encodeLcpOption;

/** Initial state for the server side (authenticator). */
export function serverLcpState(mru: number, magic: number, authMethods: readonly AuthMethod[]): LcpPolicyState {
  return {
    role: 'server',
    mru,
    requestMru: true,
    magic,
    requestMagic: true,
    authMethods,
    requestCompression: false,
    extraOptions: [],
    peerMru: DEFAULT_MRU,
    peerPfc: false,
    peerAcfc: false,
    loopCount: 0,
  };
}

/** Initial state for the client side (authenticatee). */
export function clientLcpState(
  mru: number,
  magic: number,
  authMethods: readonly AuthMethod[],
  extraOptions: readonly PppOption[] = [],
): LcpPolicyState {
  return { ...serverLcpState(mru, magic, authMethods), role: 'client', requestCompression: true, extraOptions };
}

export function lcpPolicy(config: LcpPolicyConfig): LayerPolicy<LcpPolicyState> {
  return {
    requestOptions(p) {
      const out: PppOption[] = [];
      if (p.requestMru) out.push(opt({ kind: 'mru', value: p.mru }));
      const auth = p.role === 'server' ? p.authMethods[0] : undefined;
      if (auth) out.push(opt(authProtocolOption(auth)));
      if (p.requestMagic) out.push(opt({ kind: 'magic-number', value: p.magic }));
      if (p.requestCompression) out.push(opt({ kind: 'pfc' }), opt({ kind: 'acfc' }));
      out.push(...p.extraOptions);
      return out;
    },

    reviewRequest(p, options, nakAllowed): RequestReview<LcpPolicyState> {
      let next: LcpPolicyState = { ...p, peerMru: DEFAULT_MRU, peerPfc: false, peerAcfc: false, peerMagic: undefined, peerAuth: undefined };
      let looped = false;
      const verdicts = options.map((raw) => {
        const o = decodeLcpOption(raw);
        if (o instanceof PppDecodeError) return { option: raw, verdict: 'reject' as const };
        switch (o.kind) {
          case 'mru':
            if (o.value < MIN_MRU) return { option: raw, verdict: 'nak' as const, suggestion: opt({ kind: 'mru', value: MIN_MRU }) };
            next = { ...next, peerMru: o.value };
            return { option: raw, verdict: 'ack' as const };
          case 'accm':
            return { option: raw, verdict: 'ack' as const }; // meaningless over L2TP (no async HDLC), harmless
          case 'pfc':
            next = { ...next, peerPfc: true };
            return { option: raw, verdict: 'ack' as const };
          case 'acfc':
            next = { ...next, peerAcfc: true };
            return { option: raw, verdict: 'ack' as const };
          case 'magic-number':
            if (p.requestMagic && o.value === p.magic) {
              // §6.4: maybe a looped-back link: pick a new number for ourselves and Nak with another.
              looped = true;
              return { option: raw, verdict: 'nak' as const, suggestion: opt({ kind: 'magic-number', value: config.random32() }) };
            }
            next = { ...next, peerMagic: o.value };
            return { option: raw, verdict: 'ack' as const };
          case 'auth-protocol': {
            if (p.role === 'server') return { option: raw, verdict: 'reject' as const }; // we do not authenticate to clients
            const method = authMethodOf(o);
            if (method && p.authMethods.includes(method)) {
              next = { ...next, peerAuth: method };
              return { option: raw, verdict: 'ack' as const };
            }
            const preferred = p.authMethods[0];
            if (!preferred) return { option: raw, verdict: 'reject' as const };
            return { option: raw, verdict: 'nak' as const, suggestion: opt(authProtocolOption(preferred)) };
          }
          default:
            return { option: raw, verdict: 'reject' as const };
        }
      });
      if (looped) {
        const loopCount = p.loopCount + 1;
        next = { ...next, magic: config.random32(), loopCount };
        if (loopCount > config.maxLoops) return { policy: next, code: 3, options: [], fatal: 'error' };
      } else {
        next = { ...next, loopCount: 0 };
      }
      return composeReply(next, verdicts, nakAllowed);
    },

    onNak(p, options): PolicyUpdate<LcpPolicyState> {
      let next = p;
      for (const raw of options) {
        const o = decodeLcpOption(raw);
        if (o instanceof PppDecodeError) continue;
        if (o.kind === 'mru' && next.requestMru) next = { ...next, mru: Math.max(MIN_MRU, Math.min(o.value, DEFAULT_MRU)) };
        else if (o.kind === 'magic-number' && next.requestMagic) next = { ...next, magic: config.random32() };
        else if (o.kind === 'auth-protocol' && next.role === 'server') {
          // RFC 1994 §3 / RFC 1661 §6.2: the peer names a method it prefers. Drop the refused one and take
          // the suggestion if the tenant allows it, else the next allowed method in preference order.
          const remaining = next.authMethods.slice(1);
          const wanted = authMethodOf(o);
          const ordered = wanted && remaining.includes(wanted) ? [wanted, ...remaining.filter((m) => m !== wanted)] : remaining;
          if (ordered.length === 0) return { policy: { ...next, authMethods: [] }, fatal: 'auth-failure' };
          next = { ...next, authMethods: ordered };
        }
      }
      return { policy: next };
    },

    onReject(p, options): PolicyUpdate<LcpPolicyState> {
      let next = p;
      for (const raw of options) {
        if (raw.type === LCP_OPTION.MRU) next = { ...next, requestMru: false };
        else if (raw.type === LCP_OPTION.MAGIC_NUMBER) next = { ...next, requestMagic: false };
        else if (raw.type === LCP_OPTION.PFC || raw.type === LCP_OPTION.ACFC) next = { ...next, requestCompression: false };
        else if (raw.type === LCP_OPTION.AUTH_PROTOCOL && next.role === 'server') {
          // A client that refuses to authenticate cannot be let in.
          return { policy: next, fatal: 'auth-failure' as EndReason };
        } else next = { ...next, extraOptions: next.extraOptions.filter((e) => e.type !== raw.type) };
      }
      return { policy: next };
    },
  };
}

/** The method the server is currently asking for (after LCP opened: the negotiated one). */
export function currentServerAuth(p: LcpPolicyState): AuthMethod | undefined {
  return p.authMethods[0];
}

