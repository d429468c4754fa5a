/**
 * One negotiated layer (LCP, IPCP, ...): the §4 automaton plus the packets of RFC 1661 §5.1–5.6
 * (Configure-*, Terminate-*, Code-Reject). What to request and how to judge the peer's request is a
 * `LayerPolicy`; this module only does the bookkeeping every layer shares. Pure: each call returns the
 * new layer and a list of outputs the session turns into actions.
 */
import type { EndReason } from '../../../contract/src/values';
import { EMPTY, bytesEqual } from './bytes';
import { decodeOptions, encodeControlPacket, encodeOptions, type ControlPacket, type PppOption } from './control-packet';
import { PppDecodeError } from './errors';
import { DEFAULT_FSM_LIMITS, INITIAL_FSM, fsmStep, timeoutEvent, TIMER_STATES, type FsmData, type FsmEvent, type FsmLimits } from './fsm';
import { CP_CODE } from './protocol-numbers';

export type ReplyCode = typeof CP_CODE.CONFIGURE_ACK | typeof CP_CODE.CONFIGURE_NAK | typeof CP_CODE.CONFIGURE_REJECT;

export interface RequestReview<P> {
  readonly policy: P;
  readonly code: ReplyCode;
  /** Options for a Nak/Reject; ignored for an Ack (the request's own bytes are echoed, §5.2). */
  readonly options: readonly PppOption[];
  /** Give up on the link (e.g. a looped-back line, §6.4). */
  readonly fatal?: EndReason;
}

export interface PolicyUpdate<P> {
  readonly policy: P;
  readonly fatal?: EndReason;
}

/** What a layer negotiates. `P` is the policy's own immutable state. */
export interface LayerPolicy<P> {
  /** Options for our next Configure-Request. */
  requestOptions(policy: P): PppOption[];
  /** Judges the peer's Configure-Request. `nakAllowed` is false once Max-Failure Naks were sent. */
  reviewRequest(policy: P, options: readonly PppOption[], nakAllowed: boolean): RequestReview<P>;
  onNak(policy: P, options: readonly PppOption[]): PolicyUpdate<P>;
  onReject(policy: P, options: readonly PppOption[]): PolicyUpdate<P>;
}

export interface LayerState<P> {
  readonly fsm: FsmData;
  readonly policy: P;
  readonly nextId: number;
  /** Our outstanding Configure-Request: replies must carry its identifier (§5.2–5.4). */
  readonly sent?: { readonly identifier: number; readonly options: Uint8Array };
}

export type LayerOutput =
  | { readonly kind: 'send'; readonly packet: ControlPacket }
  | { readonly kind: 'timer'; readonly run: boolean }
  | { readonly kind: 'tlu' | 'tld' | 'tls' | 'tlf' }
  | { readonly kind: 'ser'; readonly request: ControlPacket }
  | { readonly kind: 'fatal'; readonly reason: EndReason }
  | { readonly kind: 'discarded'; readonly why: string };

export interface LayerResult<P> {
  readonly layer: LayerState<P>;
  readonly out: readonly LayerOutput[];
}

export interface LayerDefinition<P> {
  readonly policy: LayerPolicy<P>;
  readonly limits?: FsmLimits;
  /** Largest packet we may send the peer (its MRU); Code-Reject copies are cut to fit (§5.6). */
  readonly maxPacket?: number;
}

export function newLayer<P>(policy: P, firstId = 1): LayerState<P> {
  return { fsm: INITIAL_FSM, policy, nextId: firstId & 0xff };
}

interface EventContext {
  readonly received?: ControlPacket;
  readonly reply?: { readonly code: number; readonly data: Uint8Array };
}

/** Feeds one automaton event and performs its actions. */
export function layerEvent<P>(def: LayerDefinition<P>, layer: LayerState<P>, event: FsmEvent, ctx: EventContext = {}): LayerResult<P> {
  const r = fsmStep(layer.fsm, event, def.limits ?? DEFAULT_FSM_LIMITS);
  if (!r.defined) return { layer, out: [{ kind: 'discarded', why: `event ${event} impossible in ${layer.fsm.state}` }] };
  let l: LayerState<P> = { ...layer, fsm: r.fsm };
  const out: LayerOutput[] = [];
  const takeId = (): number => {
    const id = l.nextId;
    l = { ...l, nextId: (id + 1) & 0xff };
    return id;
  };
  for (const a of r.actions) {
    switch (a) {
      case 'scr': {
        const options = encodeOptions(def.policy.requestOptions(l.policy));
        const identifier = takeId();
        l = { ...l, sent: { identifier, options } };
        out.push({ kind: 'send', packet: { code: CP_CODE.CONFIGURE_REQUEST, identifier, data: options } });
        break;
      }
      case 'sca':
      case 'scn':
        if (ctx.reply && ctx.received) out.push({ kind: 'send', packet: { code: ctx.reply.code, identifier: ctx.received.identifier, data: ctx.reply.data } });
        break;
      case 'str':
        out.push({ kind: 'send', packet: { code: CP_CODE.TERMINATE_REQUEST, identifier: takeId(), data: EMPTY } });
        break;
      case 'sta':
        out.push({ kind: 'send', packet: { code: CP_CODE.TERMINATE_ACK, identifier: ctx.received?.identifier ?? takeId(), data: EMPTY } });
        break;
      case 'scj': {
        if (!ctx.received) break;
        // §5.6: the rejected packet is copied whole, truncated to the peer's MRU.
        const copy = encodeControlPacket(ctx.received).subarray(0, Math.max(0, (def.maxPacket ?? 1500) - 4));
        out.push({ kind: 'send', packet: { code: CP_CODE.CODE_REJECT, identifier: takeId(), data: copy } });
        break;
      }
      case 'ser':
        if (ctx.received) out.push({ kind: 'ser', request: ctx.received });
        break;
      case 'tlu':
      case 'tld':
      case 'tls':
      case 'tlf':
        out.push({ kind: a });
        break;
      case 'irc':
      case 'zrc':
        break; // counters are handled by fsmStep
    }
  }
  if (r.timer !== 'keep') out.push({ kind: 'timer', run: r.timer === 'start' });
  return { layer: l, out };
}

/** Restart timer expiry; ignored when the timer should not be running (a stale fire). */
export function layerTimeout<P>(def: LayerDefinition<P>, layer: LayerState<P>): LayerResult<P> {
  if (!TIMER_STATES.has(layer.fsm.state)) return { layer, out: [] };
  return layerEvent(def, layer, timeoutEvent(layer.fsm));
}

/**
 * Handles a received packet with codes 1–7; any other code is Code-Rejected (RUC). Callers handle
 * protocol-specific codes (LCP 8–11) before calling this.
 */
export function layerReceive<P>(def: LayerDefinition<P>, layer: LayerState<P>, packet: ControlPacket): LayerResult<P> {
  const limits = def.limits ?? DEFAULT_FSM_LIMITS;
  const discard = (why: string): LayerResult<P> => ({ layer, out: [{ kind: 'discarded', why }] });
  switch (packet.code) {
    case CP_CODE.CONFIGURE_REQUEST: {
      const options = decodeOptions(packet.data);
      if (options instanceof PppDecodeError) return discard(options.message);
      const review = def.policy.reviewRequest(layer.policy, options, layer.fsm.failureCount < limits.maxFailure);
      const l = { ...layer, policy: review.policy };
      if (review.fatal) return { layer: l, out: [{ kind: 'fatal', reason: review.fatal }] };
      const data = review.code === CP_CODE.CONFIGURE_ACK ? packet.data : encodeOptions(review.options);
      return layerEvent(def, l, review.code === CP_CODE.CONFIGURE_ACK ? 'rcr+' : 'rcr-', {
        received: packet,
        reply: { code: review.code, data },
      });
    }
    case CP_CODE.CONFIGURE_ACK:
      // §5.2: an Ack must match the outstanding request's identifier and options exactly.
      if (!layer.sent || packet.identifier !== layer.sent.identifier) return discard('Configure-Ack for another request');
      if (!bytesEqual(packet.data, layer.sent.options)) return discard('Configure-Ack options differ from the request');
      return layerEvent(def, layer, 'rca', { received: packet });
    case CP_CODE.CONFIGURE_NAK:
    case CP_CODE.CONFIGURE_REJECT: {
      if (!layer.sent || packet.identifier !== layer.sent.identifier) return discard('Configure-Nak/Reject for another request');
      const options = decodeOptions(packet.data);
      if (options instanceof PppDecodeError) return discard(options.message);
      const u =
        packet.code === CP_CODE.CONFIGURE_NAK ? def.policy.onNak(layer.policy, options) : def.policy.onReject(layer.policy, options);
      const l = { ...layer, policy: u.policy };
      if (u.fatal) return { layer: l, out: [{ kind: 'fatal', reason: u.fatal }] };
      return layerEvent(def, l, 'rcn', { received: packet });
    }
    case CP_CODE.TERMINATE_REQUEST:
      return layerEvent(def, layer, 'rtr', { received: packet });
    case CP_CODE.TERMINATE_ACK:
      return layerEvent(def, layer, 'rta', { received: packet });
    case CP_CODE.CODE_REJECT: {
      // §5.6: a rejected code we need (1–7) is fatal for the layer (RXJ-); anything else is RXJ+.
      const rejected = packet.data[0] ?? 0;
      return layerEvent(def, layer, rejected >= 1 && rejected <= 7 ? 'rxj-' : 'rxj+', { received: packet });
    }
    default:
      return layerEvent(def, layer, 'ruc', { received: packet });
  }
}

/**
 * Builds a reply from per-option verdicts with §5.3/5.4 precedence: any Reject wins (only the rejected
 * options are sent back), otherwise any Nak (only the nak'd options), otherwise Ack. Without
 * `nakAllowed` (Max-Failure reached, §4.6), Naks become Rejects of the offending options.
 */
export function composeReply<P>(
  policy: P,
  verdicts: readonly { readonly option: PppOption; readonly verdict: 'ack' | 'nak' | 'reject'; readonly suggestion?: PppOption }[],
  nakAllowed: boolean,
): RequestReview<P> {
  const rejects = verdicts.filter((v) => v.verdict === 'reject' || (v.verdict === 'nak' && !nakAllowed)).map((v) => v.option);
  if (rejects.length > 0) return { policy, code: CP_CODE.CONFIGURE_REJECT, options: rejects };
  const naks = verdicts.filter((v) => v.verdict === 'nak').map((v) => v.suggestion ?? v.option);
  if (naks.length > 0) return { policy, code: CP_CODE.CONFIGURE_NAK, options: naks };
  return { policy, code: CP_CODE.CONFIGURE_ACK, options: [] };
}
