/**
 * The tunnel engine, one per control connection, for both roles: RFC 2661 §7.2 (SCCRQ -> SCCRP -> SCCCN, StopCCN
 * in both directions, HELLO keepalive) with tunnel authentication (§5.1.1) and the sessions of tunnel-sessions.ts.
 * Pure: `stepTunnel(state, event) -> { state, actions }`; the orchestration does the I/O and timers.
 */
import { challengeResponse, verifyChallengeResponse } from './auth';
import { Framing, GeneralError, MessageType, StopCcnResult } from './constants';
import { L2tpDecodeError, L2tpError } from './errors';
import { decodePacket, type L2tpHeader } from './header';
import { decodeControlMessage, type ControlMessage } from './message';
import { createReliable, isReliableIdle } from './reliable';
import { random, runChannel, sendMessage, warn, type Ctx } from './tunnel-context';
import { acceptSession, closeSession, dropAllSessions, onSessionMessage, placeCall, sendIcrq } from './tunnel-sessions';
import type { CloseReason, PeerInfo, TunnelAction, TunnelConfig, TunnelEvent, TunnelState, TunnelStep } from './tunnel-types';

const DEFAULT_HELLO_MS = 60_000;
const DEFAULT_WINDOW = 8;
type TunnelClosedReason = Extract<TunnelAction, { kind: 'tunnel-closed' }>['reason'];

/** A new tunnel engine. An LNS then gets the peer's SCCRQ as a `received` event; a LAC gets `open`. */
export function createTunnel(config: TunnelConfig): TunnelState {
  if (!Number.isInteger(config.localTunnelId) || config.localTunnelId < 1 || config.localTunnelId > 0xffff) {
    throw new L2tpError('localTunnelId must be 1..65535', { localTunnelId: config.localTunnelId });
  }
  return {
    config,
    phase: 'idle',
    localTunnelId: config.localTunnelId,
    peerTunnelId: 0,
    channel: createReliable({ ...config.reliable, receiveWindow: config.receiveWindowSize ?? DEFAULT_WINDOW }),
    peer: {},
    sessions: {},
    nextCallSerial: 1,
  };
}

/** True once the engine has nothing left to do (closed and StopCCN acknowledged or abandoned): dispose of it. */
export function isTunnelDone(state: TunnelState): boolean {
  return state.phase === 'closed';
}

function helloMs(ctx: Ctx): number {
  return ctx.s.config.helloIntervalMs ?? DEFAULT_HELLO_MS;
}

function resultOf(why: CloseReason, fallback: number) {
  return {
    resultCode: why.resultCode ?? fallback,
    ...(why.errorCode !== undefined ? { errorCode: why.errorCode } : {}),
    ...(why.errorMessage !== undefined ? { errorMessage: why.errorMessage } : {}),
  };
}

/** End the tunnel: sessions go, StopCCN is sent when the peer can be addressed, `tunnel-closed` is reported. */
function closeTunnel(ctx: Ctx, reason: TunnelClosedReason, why: CloseReason, sendStop: boolean): void {
  if (ctx.s.phase === 'closing' || ctx.s.phase === 'closed') return;
  const resultCode = resultOf(why, StopCcnResult.GeneralClear);
  dropAllSessions(ctx);
  ctx.actions.push({ kind: 'cancel-timer', name: 'hello' });
  if (sendStop && ctx.s.peerTunnelId !== 0 && !ctx.s.channel.failed) {
    sendMessage(ctx, { type: 'StopCCN', assignedTunnelId: ctx.s.localTunnelId, resultCode });
    ctx.s.phase = 'closing';
  } else {
    ctx.s.phase = 'closed';
  }
  ctx.actions.push({
    kind: 'tunnel-closed',
    localTunnelId: ctx.s.localTunnelId,
    peerTunnelId: ctx.s.peerTunnelId,
    reason,
    resultCode,
  });
}

function learnPeer(ctx: Ctx, msg: ControlMessage): void {
  ctx.s.peerTunnelId = msg.assignedTunnelId as number;
  // Only the facts the peer sent (no undefined-valued keys), set one by one: every tunnel setup runs this.
  const peer: { -readonly [K in keyof PeerInfo]: PeerInfo[K] } = {};
  if (msg.hostName !== undefined) peer.hostName = msg.hostName;
  if (msg.vendorName !== undefined) peer.vendorName = msg.vendorName;
  if (msg.firmwareRevision !== undefined) peer.firmwareRevision = msg.firmwareRevision;
  if (msg.framingCapabilities !== undefined) peer.framingCapabilities = msg.framingCapabilities;
  if (msg.bearerCapabilities !== undefined) peer.bearerCapabilities = msg.bearerCapabilities;
  if (msg.receiveWindowSize !== undefined) peer.receiveWindowSize = msg.receiveWindowSize;
  ctx.s.peer = peer;
  runChannel(ctx, { kind: 'configure', peerTunnelId: ctx.s.peerTunnelId, peerReceiveWindow: msg.receiveWindowSize ?? 4 });
}

/** AVPs common to SCCRQ and SCCRP (§6.1, §6.2). */
function ourIdentity(ctx: Ctx): Omit<ControlMessage, 'type'> {
  const c = ctx.s.config;
  return {
    protocolVersion: { version: 1, revision: 0 },
    hostName: c.hostName,
    framingCapabilities: c.framingCapabilities ?? Framing.Sync | Framing.Async,
    assignedTunnelId: ctx.s.localTunnelId,
    receiveWindowSize: c.receiveWindowSize ?? DEFAULT_WINDOW,
    vendorName: c.vendorName ?? 'tunnel-broker',
    firmwareRevision: 0x0100,
  };
}

/** Answer the peer's Challenge, or refuse when we hold no secret (§5.1.1). Returns false when refused. */
function answerChallenge(ctx: Ctx, msg: ControlMessage, replyType: number, out: ControlMessage): boolean {
  if (!msg.challenge) return true;
  const secret = ctx.s.config.secret;
  if (!secret) {
    closeTunnel(ctx, 'auth-failed', { resultCode: StopCcnResult.NotAuthorized, errorMessage: 'no tunnel secret' }, true);
    return false;
  }
  out.challengeResponse = challengeResponse(replyType, secret, msg.challenge);
  return true;
}

function checkResponse(ctx: Ctx, msg: ControlMessage, type: typeof MessageType.SCCRP | typeof MessageType.SCCCN): boolean {
  const { ourChallenge } = ctx.s;
  const secret = ctx.s.config.secret;
  if (!ourChallenge || !secret) return true;
  if (verifyChallengeResponse(type, secret, ourChallenge, msg.challengeResponse)) return true;
  closeTunnel(ctx, 'auth-failed', { resultCode: StopCcnResult.NotAuthorized, errorMessage: 'bad challenge response' }, true);
  return false;
}

function becomeEstablished(ctx: Ctx): void {
  ctx.s.phase = 'established';
  ctx.actions.push({ kind: 'tunnel-established', localTunnelId: ctx.s.localTunnelId, peerTunnelId: ctx.s.peerTunnelId, peer: ctx.s.peer });
  ctx.actions.push({ kind: 'set-timer', name: 'hello', ms: helloMs(ctx) });
  // Calls placed while the tunnel came up go out in the order they were placed (serial order, not id order).
  const waiting = Object.values(ctx.s.sessions).filter((x) => x.phase === 'wait-tunnel');
  waiting.sort((a, b) => a.callSerialNumber - b.callSerialNumber);
  for (const session of waiting) sendIcrq(ctx, session);
}

function onMessage(ctx: Ctx, header: L2tpHeader, msg: ControlMessage): void {
  const { role } = ctx.s.config;
  const phase = ctx.s.phase;
  switch (msg.type) {
    case 'SCCRQ': {
      if (role !== 'lns' || phase !== 'idle') return warn(ctx, 'unexpected SCCRQ ignored', { phase });
      learnPeer(ctx, msg);
      if (msg.protocolVersion?.version !== 1) {
        closeTunnel(ctx, 'protocol-error', { resultCode: StopCcnResult.UnsupportedVersion }, true);
        return;
      }
      const reply: ControlMessage = { type: 'SCCRP', ...ourIdentity(ctx) };
      if (!answerChallenge(ctx, msg, MessageType.SCCRP, reply)) return;
      if (ctx.s.config.secret) reply.challenge = ctx.s.ourChallenge = random(ctx, 16);
      sendMessage(ctx, reply);
      ctx.s.phase = 'wait-ctl-conn';
      return;
    }
    case 'SCCRP': {
      if (role !== 'lac' || phase !== 'wait-ctl-reply') return warn(ctx, 'unexpected SCCRP ignored', { phase });
      learnPeer(ctx, msg);
      if (!checkResponse(ctx, msg, MessageType.SCCRP)) return;
      const reply: ControlMessage = { type: 'SCCCN' };
      if (!answerChallenge(ctx, msg, MessageType.SCCCN, reply)) return;
      sendMessage(ctx, reply);
      becomeEstablished(ctx);
      return;
    }
    case 'SCCCN':
      if (role !== 'lns' || phase !== 'wait-ctl-conn') return warn(ctx, 'unexpected SCCCN ignored', { phase });
      if (!checkResponse(ctx, msg, MessageType.SCCCN)) return;
      becomeEstablished(ctx);
      return;
    case 'StopCCN':
      // §5.7: acknowledge at once; the tunnel and all its sessions are gone.
      runChannel(ctx, { kind: 'ack-now' });
      if (phase === 'closing') {
        ctx.s.phase = 'closed';
        return;
      }
      closeTunnel(ctx, 'peer-stopped', msg.resultCode ?? {}, false);
      return;
    case 'HELLO':
      return; // the channel acknowledges it; nothing else to do (§6.5)
    default:
      onSessionMessage(ctx, header, msg);
  }
}

function onDecodeError(ctx: Ctx, header: L2tpHeader, err: L2tpDecodeError): void {
  if (err.code === 'unknown-message-type' && err.detail.mandatory !== true) {
    return warn(ctx, 'unknown optional message type ignored (§3.2)', err.detail);
  }
  const errorCode =
    err.code === 'unknown-mandatory-avp'
      ? GeneralError.UnknownMandatoryAvp
      : err.code === 'bad-avp-length' || err.code === 'truncated'
        ? GeneralError.BadLength
        : GeneralError.OutOfRange;
  const why = { resultCode: 2, errorCode, errorMessage: err.message.slice(0, 200) };
  // §4.2: a session message tears down only its session; anything else the whole tunnel.
  if (header.sessionId !== 0 && ctx.s.sessions[header.sessionId]) {
    warn(ctx, 'malformed session message: clearing the call', { code: err.code, message: err.message });
    closeSession(ctx, header.sessionId, why, 'protocol-error');
    return;
  }
  warn(ctx, 'malformed tunnel message: closing the tunnel', { code: err.code, message: err.message });
  closeTunnel(ctx, 'protocol-error', why, true);
}

function handleDelivered(ctx: Ctx): void {
  while (ctx.delivered.length > 0) {
    const { header, body } = ctx.delivered.shift() as { header: L2tpHeader; body: Uint8Array };
    if (ctx.s.phase === 'closed') continue;
    const msg = decodeControlMessage(body, {
      ...(ctx.s.config.secret ? { secret: ctx.s.config.secret } : {}),
      permissiveMandatoryAvps: ctx.s.config.permissiveMandatoryAvps ?? true,
    });
    if (msg instanceof L2tpDecodeError) {
      onDecodeError(ctx, header, msg);
      continue;
    }
    if (msg.resultCodeByteSwapped) warn(ctx, 'Result Code arrived byte-swapped; decoded leniently', { type: msg.type });
    if (msg.unknownAvps?.some((a) => a.mandatory)) {
      warn(ctx, 'ignored unknown mandatory AVPs (permissive mode)', {
        avps: msg.unknownAvps.filter((a) => a.mandatory).map((a) => `${a.vendorId}:${a.attributeType}`),
      });
    }
    onMessage(ctx, header, msg);
  }
}

/** Advance the tunnel engine by one event. */
export function stepTunnel(state: TunnelState, event: TunnelEvent): TunnelStep {
  const ctx: Ctx = { s: { ...state }, actions: [], delivered: [] };
  const { role } = state.config;
  switch (event.kind) {
    case 'received': {
      const packet = decodePacket(event.bytes);
      if (packet instanceof L2tpDecodeError) {
        warn(ctx, 'undecodable control packet dropped', { code: packet.code, message: packet.message });
        break;
      }
      if (!packet.header.isControl) {
        warn(ctx, 'data packet given to the control engine dropped');
        break;
      }
      runChannel(ctx, { kind: 'received', header: packet.header, body: packet.payload });
      if (ctx.s.phase === 'established') ctx.actions.push({ kind: 'set-timer', name: 'hello', ms: helloMs(ctx) });
      break;
    }
    case 'timer':
      if (event.name === 'hello') {
        if (ctx.s.phase === 'established') {
          sendMessage(ctx, { type: 'HELLO' });
          ctx.actions.push({ kind: 'set-timer', name: 'hello', ms: helloMs(ctx) });
        }
      } else {
        runChannel(ctx, { kind: 'timer', name: event.name });
      }
      break;
    case 'open': {
      if (role !== 'lac' || state.phase !== 'idle') throw new L2tpError('open is for an idle LAC tunnel', { phase: state.phase });
      const sccrq: ControlMessage = { type: 'SCCRQ', ...ourIdentity(ctx), bearerCapabilities: 0 };
      if (state.config.secret) sccrq.challenge = ctx.s.ourChallenge = random(ctx, 16);
      sendMessage(ctx, sccrq);
      ctx.s.phase = 'wait-ctl-reply';
      break;
    }
    case 'place-call':
      if (role !== 'lac') throw new L2tpError('place-call is for LAC tunnels');
      if (state.phase === 'closing' || state.phase === 'closed') warn(ctx, 'place-call on a closed tunnel ignored');
      else placeCall(ctx, event);
      break;
    case 'accept-session':
      acceptSession(ctx, event.localSessionId);
      break;
    case 'reject-session':
      closeSession(ctx, event.localSessionId, { resultCode: event.resultCode ?? 4, ...withoutKind(event) }, 'rejected');
      break;
    case 'close-session':
      closeSession(ctx, event.localSessionId, withoutKind(event), 'local');
      break;
    case 'close-tunnel':
      closeTunnel(ctx, 'local', withoutKind(event), true);
      break;
  }
  handleDelivered(ctx);
  if (ctx.channelFailed !== undefined) {
    if (ctx.s.phase !== 'closing' && ctx.s.phase !== 'closed') {
      warn(ctx, 'peer stopped acknowledging', { reason: ctx.channelFailed });
      closeTunnel(ctx, 'peer-unresponsive', { resultCode: StopCcnResult.GeneralError }, false);
    }
    ctx.s.phase = 'closed';
  }
  if (ctx.s.phase === 'closing' && isReliableIdle(ctx.s.channel)) ctx.s.phase = 'closed';
  if (ctx.s.phase === 'closed' && state.phase !== 'closed') {
    ctx.actions.push({ kind: 'cancel-timer', name: 'retransmit' }, { kind: 'cancel-timer', name: 'hello' });
  }
  return { state: ctx.s, actions: ctx.actions };
}

function withoutKind(e: CloseReason & { kind: string }): CloseReason {
  return {
    ...(e.resultCode !== undefined ? { resultCode: e.resultCode } : {}),
    ...(e.errorCode !== undefined ? { errorCode: e.errorCode } : {}),
    ...(e.errorMessage !== undefined ? { errorMessage: e.errorMessage } : {}),
  };
}
