/**
 * The parts of a PPP link both engines share: LCP and IPCP layers wired to timers and frames, the
 * LCP-only packets (Echo, Discard, Protocol-Reject: RFC 1661 §5.7–5.9), keepalive, and the single
 * link-down at the end. Role-specific behaviour (authentication, when IPCP starts, link-up) comes in
 * through `CoreHooks`. Functions take the state and an action list to append to, and return the
 * new state; the input state is never mutated.
 */
import type { EndReason } from '../../../contract/src/values';
import { u32 } from './bytes';
import { decodeControlPacket, encodeControlPacket, type ControlPacket } from './control-packet';
import { layerEvent, layerReceive, layerTimeout, type LayerDefinition, type LayerOutput, type LayerResult, type LayerState } from './control-layer';
import { PppDecodeError } from './errors';
import type { LcpPolicyState } from './lcp-policy';
import { CP_CODE, PPP_PROTOCOL } from './protocol-numbers';
import type { PppAction, PppTimer, PppTimings } from './session-types';

export type LinkPhase = 'establish' | 'authenticate' | 'network' | 'dead';

export interface CoreState<I> {
  readonly phase: LinkPhase;
  readonly lcp: LayerState<LcpPolicyState>;
  readonly ipcp: LayerState<I>;
  /** IPCP Configure-Request that arrived before IPCP could start (kept and replayed once). */
  readonly pendingIpcp?: Uint8Array;
  /** Why we are going down, fixed by the first cause. */
  readonly endReason?: EndReason;
  readonly echoMisses: number;
  /** The peer sent a control packet other than an Echo-Reply since the last echo period (echoAdaptive). */
  readonly heard?: boolean;
  readonly linkUp: boolean;
}

export interface CoreHooks<S extends CoreState<I>, I> {
  readonly timings: PppTimings;
  readonly lcpDef: LayerDefinition<LcpPolicyState>;
  readonly ipcpDef: LayerDefinition<I>;
  onLcpUp(s: S, out: PppAction[]): S;
  onLcpDown(s: S, out: PppAction[]): S;
  onIpcpUp(s: S, out: PppAction[]): S;
}

type Out = PppAction[];

function timerAction(timer: PppTimer, run: boolean, ms: number): PppAction {
  return run ? { kind: 'set-timer', timer, ms } : { kind: 'clear-timer', timer };
}

/** Applies a result of the LCP layer: frames, the restart timer, and this-layer-up/down/finished. */
export function applyLcp<S extends CoreState<I>, I>(h: CoreHooks<S, I>, s0: S, r: LayerResult<LcpPolicyState>, out: Out): S {
  let s: S = { ...s0, lcp: r.layer };
  for (const o of r.out) s = lcpOutput(h, s, o, out);
  return s;
}

function lcpOutput<S extends CoreState<I>, I>(h: CoreHooks<S, I>, s: S, o: LayerOutput, out: Out): S {
  switch (o.kind) {
    case 'send':
      out.push({ kind: 'send-frame', protocol: PPP_PROTOCOL.LCP, payload: encodeControlPacket(o.packet) });
      return s;
    case 'timer':
      out.push(timerAction('lcp', o.run, h.timings.restartMs));
      return s;
    case 'tlu': {
      // RFC 1661 §3.4–3.5: LCP opened, on to Authenticate (the hook decides whether there is any).
      if (h.timings.echoIntervalMs > 0) out.push({ kind: 'set-timer', timer: 'echo', ms: h.timings.echoIntervalMs });
      return h.onLcpUp({ ...s, phase: 'authenticate', echoMisses: 0 }, out);
    }
    case 'tld': {
      out.push({ kind: 'clear-timer', timer: 'echo' }, { kind: 'clear-timer', timer: 'auth' });
      let next = h.onLcpDown({ ...s, phase: s.phase === 'dead' ? 'dead' : 'establish' }, out);
      // §3.4: the network layers go down with the link.
      next = applyIpcp(h, next, layerEvent(h.ipcpDef, next.ipcp, 'down'), out);
      return { ...next, ipcp: { ...next.ipcp, fsm: { ...next.ipcp.fsm, state: 'initial' } }, linkUp: false };
    }
    case 'tlf':
      return finish(s, s.endReason ?? 'lcp-timeout', out);
    case 'ser':
      sendEchoReply(s, o.request, out);
      return s;
    case 'fatal':
      return closeLink(h, s, o.reason, out);
    case 'tls':
    case 'discarded':
      return s;
  }
}

/** §5.8: an Echo-Reply with our magic (0 when not negotiated) and the request's data. */
function sendEchoReply<I>(s: CoreState<I>, request: ControlPacket, out: Out): void {
  const magic = s.lcp.policy.requestMagic ? s.lcp.policy.magic : 0;
  const data = new Uint8Array(request.data.length);
  data.set(u32(magic), 0);
  data.set(request.data.subarray(4), 4);
  out.push({
    kind: 'send-frame',
    protocol: PPP_PROTOCOL.LCP,
    payload: encodeControlPacket({ code: CP_CODE.ECHO_REPLY, identifier: request.identifier, data }),
  });
}

/** Applies a result of the IPCP layer. */
export function applyIpcp<S extends CoreState<I>, I>(h: CoreHooks<S, I>, s0: S, r: LayerResult<I>, out: Out): S {
  let s: S = { ...s0, ipcp: r.layer };
  for (const o of r.out) {
    switch (o.kind) {
      case 'send':
        out.push({ kind: 'send-frame', protocol: PPP_PROTOCOL.IPCP, payload: encodeControlPacket(o.packet) });
        break;
      case 'timer':
        out.push(timerAction('ipcp', o.run, h.timings.restartMs));
        break;
      case 'tlu':
        if (!s.linkUp) s = h.onIpcpUp({ ...s, linkUp: true }, out);
        break;
      case 'tld':
        s = { ...s, linkUp: false };
        break;
      case 'tlf':
        // IPCP gave up or the peer terminated it: with no network protocol left the link is useless
        // (pppd does the same: "No network protocols running").
        if (s.phase === 'network') s = closeLink(h, s, 'user-request', out);
        break;
      case 'fatal':
        s = closeLink(h, s, o.reason, out);
        break;
      default:
        break;
    }
  }
  return s;
}

/** Brings IPCP up (Up + Open) and replays a Configure-Request that came early. */
export function startIpcp<S extends CoreState<I>, I>(h: CoreHooks<S, I>, s0: S, out: Out): S {
  let s: S = { ...s0, phase: 'network' };
  s = applyIpcp(h, s, layerEvent(h.ipcpDef, s.ipcp, 'up'), out);
  s = applyIpcp(h, s, layerEvent(h.ipcpDef, s.ipcp, 'open'), out);
  const pending = s.pendingIpcp;
  if (pending) {
    s = { ...s, pendingIpcp: undefined };
    s = receiveIpcp(h, s, pending, out);
  }
  return s;
}

/** Starts LCP (the lower layer is up as soon as the L2TP session exists): Up + Open. */
export function startLcp<S extends CoreState<I>, I>(h: CoreHooks<S, I>, s0: S, out: Out): S {
  let s = applyLcp(h, s0, layerEvent(h.lcpDef, s0.lcp, 'open'), out);
  s = applyLcp(h, s, layerEvent(h.lcpDef, s.lcp, 'up'), out);
  return s;
}

/** Local close: remember why, then LCP Close (Terminate-Request, §3.7). */
export function closeLink<S extends CoreState<I>, I>(h: CoreHooks<S, I>, s: S, reason: EndReason, out: Out): S {
  if (s.phase === 'dead') return s;
  const withReason: S = { ...s, endReason: s.endReason ?? reason };
  // Before LCP is even negotiating there is nobody to tell: finish at once.
  if (withReason.lcp.fsm.state === 'initial' || withReason.lcp.fsm.state === 'starting') return finish(withReason, reason, out);
  return applyLcp(h, withReason, layerEvent(h.lcpDef, withReason.lcp, 'close'), out);
}

/** The one place a session ends: clears every timer and emits the single link-down. */
export function finish<S extends CoreState<I>, I>(s: S, reason: EndReason, out: Out): S {
  if (s.phase === 'dead') return s;
  for (const timer of ['lcp', 'ipcp', 'auth', 'echo'] as const) out.push({ kind: 'clear-timer', timer });
  out.push({ kind: 'link-down', reason: s.endReason ?? reason });
  return { ...s, phase: 'dead', endReason: s.endReason ?? reason, linkUp: false };
}

/** echoAdaptive: note that the peer spoke (an Echo-Reply, the answer to our own probe, does not count). */
export function markHeard<S extends CoreState<I>, I>(h: CoreHooks<S, I>, s: S, protocol: number, payload: Uint8Array): S {
  if (!h.timings.echoAdaptive || s.heard || s.phase === 'dead') return s;
  if (protocol === PPP_PROTOCOL.LCP && payload[0] === CP_CODE.ECHO_REPLY) return s;
  return { ...s, heard: true };
}

/** Handles an LCP packet, including the LCP-only codes 8–11. */
export function receiveLcp<S extends CoreState<I>, I>(h: CoreHooks<S, I>, s: S, payload: Uint8Array, out: Out): S {
  const p = decodeControlPacket(payload);
  if (p instanceof PppDecodeError) return s; // §5: silently discard
  switch (p.code) {
    case CP_CODE.PROTOCOL_REJECT: {
      const rejected = ((p.data[0] ?? 0) << 8) | (p.data[1] ?? 0);
      // §5.7: the peer cannot speak IPCP: that NCP finishes (RXJ-). Anything else we can live without.
      if (rejected === PPP_PROTOCOL.IPCP) return applyIpcp(h, s, layerEvent(h.ipcpDef, s.ipcp, 'rxj-', { received: p }), out);
      return applyLcp(h, s, layerEvent(h.lcpDef, s.lcp, 'rxj+', { received: p }), out);
    }
    case CP_CODE.ECHO_REQUEST:
    case CP_CODE.ECHO_REPLY:
    case CP_CODE.DISCARD_REQUEST: {
      if (p.data.length < 4) return s;
      if (p.code === CP_CODE.ECHO_REPLY) return s.echoMisses === 0 ? s : { ...s, echoMisses: 0 };
      if (p.code !== CP_CODE.ECHO_REQUEST) return s;
      // The keepalive path, taken ~1,000 times a second at 10,000 sessions: in Opened, RXR is
      // just "ser" with no change of state (§4.1 table), so answer without a layer step and copies.
      if (s.lcp.fsm.state === 'opened') {
        sendEchoReply(s, p, out);
        return s;
      }
      return applyLcp(h, s, layerEvent(h.lcpDef, s.lcp, 'rxr', { received: p }), out);
    }
    case CP_CODE.TERMINATE_REQUEST: {
      // §5.5: the peer is closing the link; that is the user's doing unless we were already closing.
      const next: S = s.endReason ? s : { ...s, endReason: 'user-request' };
      return applyLcp(h, next, layerReceive(h.lcpDef, next.lcp, p), out);
    }
    default:
      return applyLcp(h, s, layerReceive(h.lcpDef, s.lcp, p), out);
  }
}

/** Handles an IPCP packet; one arriving before IPCP started is kept for later (last one wins). */
export function receiveIpcp<S extends CoreState<I>, I>(h: CoreHooks<S, I>, s: S, payload: Uint8Array, out: Out): S {
  // §3.5: NCP packets before the Network phase are silently discarded; we keep the latest request
  // so a client that sent it right after authentication does not wait a full restart period.
  const started = s.phase === 'network' && s.ipcp.fsm.state !== 'initial' && s.ipcp.fsm.state !== 'starting';
  if (!started) {
    const p = decodeControlPacket(payload);
    if (!(p instanceof PppDecodeError) && p.code === CP_CODE.CONFIGURE_REQUEST && s.phase !== 'establish')
      return { ...s, pendingIpcp: payload.slice() };
    return s;
  }
  const p = decodeControlPacket(payload);
  if (p instanceof PppDecodeError) return s;
  return applyIpcp(h, s, layerReceive(h.ipcpDef, s.ipcp, p), out);
}

/** A protocol nobody here speaks (CCP, IPV6CP, ...): LCP Protocol-Reject when opened (§5.7), else drop. */
export function rejectProtocol<S extends CoreState<I>, I>(h: CoreHooks<S, I>, s: S, protocol: number, payload: Uint8Array, out: Out): S {
  if (s.lcp.fsm.state !== 'opened') return s;
  const room = Math.max(0, s.lcp.policy.peerMru - 6);
  const data = new Uint8Array(2 + Math.min(payload.length, room));
  data[0] = (protocol >>> 8) & 0xff;
  data[1] = protocol & 0xff;
  data.set(payload.subarray(0, room), 2);
  const identifier = s.lcp.nextId;
  out.push({
    kind: 'send-frame',
    protocol: PPP_PROTOCOL.LCP,
    payload: encodeControlPacket({ code: CP_CODE.PROTOCOL_REJECT, identifier, data }),
  });
  return { ...s, lcp: { ...s.lcp, nextId: (identifier + 1) & 0xff } };
}

/** Timer dispatch for the shared timers. Returns undefined for timers the role handles ('auth'). */
export function coreTimer<S extends CoreState<I>, I>(h: CoreHooks<S, I>, s: S, timer: PppTimer, out: Out): S | undefined {
  switch (timer) {
    case 'lcp':
      return applyLcp(h, s, layerTimeout(h.lcpDef, s.lcp), out);
    case 'ipcp':
      return applyIpcp(h, s, layerTimeout(h.ipcpDef, s.ipcp), out);
    case 'echo':
      return echoTick(h, s, out);
    case 'auth':
      return undefined;
  }
}

/** Keepalive (RFC 1661 §5.8 Echo-Request): after `echoMaxMisses` unanswered requests, close with lcp-timeout. */
function echoTick<S extends CoreState<I>, I>(h: CoreHooks<S, I>, s: S, out: Out): S {
  if (s.lcp.fsm.state !== 'opened' || h.timings.echoIntervalMs <= 0) return s;
  if (h.timings.echoAdaptive && s.heard) {
    // The peer spoke during the last period: no probe. This tick counts as the first of the
    // silence, so a peer that stops now is dropped at the same tick as one that stopped right
    // after answering a probe (5 periods with the defaults); it gets one probe fewer.
    out.push({ kind: 'set-timer', timer: 'echo', ms: h.timings.echoIntervalMs });
    return { ...s, heard: false, echoMisses: 1 };
  }
  if (s.echoMisses >= h.timings.echoMaxMisses) return closeLink(h, s, 'lcp-timeout', out);
  const identifier = s.lcp.nextId;
  const magic = s.lcp.policy.requestMagic ? s.lcp.policy.magic : 0;
  out.push(
    { kind: 'send-frame', protocol: PPP_PROTOCOL.LCP, payload: encodeControlPacket({ code: CP_CODE.ECHO_REQUEST, identifier, data: u32(magic) }) },
    { kind: 'set-timer', timer: 'echo', ms: h.timings.echoIntervalMs },
  );
  return { ...s, echoMisses: s.echoMisses + 1, lcp: { ...s.lcp, nextId: (identifier + 1) & 0xff } };
}
