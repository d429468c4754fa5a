/**
 * Incoming-call session handling inside a tunnel, RFC 2661 §7.4.2 (LNS answers ICRQ -> ICRP -> ICCN; the LAC
 * side sends them) and call clearing with CDN, §5.7/§6.12.
 */
import { CdnResult, Framing } from './constants';
import type { ControlMessage } from './message';
import type { L2tpHeader } from './header';
import { allocateSessionId, sendMessage, warn, type Ctx } from './tunnel-context';
import type { CloseReason, PlaceCall, SessionState, TunnelAction } from './tunnel-types';

type SessionClosedReason = Extract<TunnelAction, { kind: 'session-closed' }>['reason'];

function put(ctx: Ctx, session: SessionState): void {
  ctx.s.sessions = { ...ctx.s.sessions, [session.localSessionId]: session };
}

function drop(ctx: Ctx, localSessionId: number): void {
  const { [localSessionId]: _gone, ...rest } = ctx.s.sessions;
  ctx.s.sessions = rest;
}

/** Send CDN (when the peer knows the call) and forget the session. */
export function closeSession(ctx: Ctx, localSessionId: number, why: CloseReason, reason: SessionClosedReason): void {
  const session = ctx.s.sessions[localSessionId];
  if (!session) {
    warn(ctx, 'close of unknown session ignored', { localSessionId });
    return;
  }
  const resultCode = {
    resultCode: why.resultCode ?? CdnResult.Administrative,
    ...(why.errorCode !== undefined ? { errorCode: why.errorCode } : {}),
    ...(why.errorMessage !== undefined ? { errorMessage: why.errorMessage } : {}),
  };
  if (session.phase !== 'wait-tunnel') {
    sendMessage(ctx, { type: 'CDN', resultCode, assignedSessionId: localSessionId }, session.peerSessionId);
  }
  drop(ctx, localSessionId);
  ctx.actions.push({ kind: 'session-closed', localSessionId, peerSessionId: session.peerSessionId, reason, resultCode });
}

/** Every session ends with the tunnel (§5.7: StopCCN clears all calls without CDNs). */
export function dropAllSessions(ctx: Ctx): void {
  for (const session of Object.values(ctx.s.sessions)) {
    ctx.actions.push({
      kind: 'session-closed',
      localSessionId: session.localSessionId,
      peerSessionId: session.peerSessionId,
      reason: 'tunnel-closed',
    });
  }
  ctx.s.sessions = {};
}

/** LAC: start a call now, or once the tunnel is up. */
export function placeCall(ctx: Ctx, call: PlaceCall): void {
  const localSessionId = call.localSessionId ?? allocateSessionId(ctx);
  const callSerialNumber = call.callSerialNumber ?? ctx.s.nextCallSerial;
  ctx.s.nextCallSerial = (callSerialNumber + 1) >>> 0;
  const session: SessionState = {
    localSessionId,
    peerSessionId: 0,
    phase: 'wait-tunnel',
    callSerialNumber,
    ...(call.callingNumber !== undefined ? { callingNumber: call.callingNumber } : {}),
    ...(call.calledNumber !== undefined ? { calledNumber: call.calledNumber } : {}),
  };
  put(ctx, session);
  ctx.actions.push({ kind: 'call-placed', localSessionId });
  if (ctx.s.phase === 'established') sendIcrq(ctx, session);
}

/** LAC: send the ICRQ of a waiting call. */
export function sendIcrq(ctx: Ctx, session: SessionState): void {
  sendMessage(ctx, {
    type: 'ICRQ',
    assignedSessionId: session.localSessionId,
    callSerialNumber: session.callSerialNumber,
    bearerType: 0,
    ...(session.callingNumber !== undefined ? { callingNumber: session.callingNumber } : {}),
    ...(session.calledNumber !== undefined ? { calledNumber: session.calledNumber } : {}),
  });
  put(ctx, { ...session, phase: 'wait-reply' });
}

/** LNS: the broker's answer to `session-requested`. */
export function acceptSession(ctx: Ctx, localSessionId: number): void {
  const session = ctx.s.sessions[localSessionId];
  if (!session || session.phase !== 'wait-accept') {
    warn(ctx, 'accept of a session that is not awaiting one ignored', { localSessionId, phase: session?.phase });
    return;
  }
  sendMessage(ctx, { type: 'ICRP', assignedSessionId: localSessionId }, session.peerSessionId);
  put(ctx, { ...session, phase: 'wait-connect' });
}

function established(ctx: Ctx, session: SessionState, msg: ControlMessage | undefined): void {
  put(ctx, { ...session, phase: 'established', sequencingRequired: msg?.sequencingRequired === true });
  ctx.actions.push({
    kind: 'session-established',
    localTunnelId: ctx.s.localTunnelId,
    peerTunnelId: ctx.s.peerTunnelId,
    localSessionId: session.localSessionId,
    peerSessionId: session.peerSessionId,
    sequencingRequired: msg?.sequencingRequired === true,
    ...(msg?.txConnectSpeed !== undefined ? { txConnectSpeed: msg.txConnectSpeed } : {}),
    ...(msg?.framingType !== undefined ? { framingType: msg.framingType } : {}),
    ...(msg?.initialReceivedLcpConfReq ? { initialReceivedLcpConfReq: msg.initialReceivedLcpConfReq } : {}),
    ...(msg?.lastSentLcpConfReq ? { lastSentLcpConfReq: msg.lastSentLcpConfReq } : {}),
    ...(msg?.lastReceivedLcpConfReq ? { lastReceivedLcpConfReq: msg.lastReceivedLcpConfReq } : {}),
  });
}

/** Handle a session-scoped control message (ICRQ, ICRP, ICCN, CDN, WEN, SLI, OCxx). */
export function onSessionMessage(ctx: Ctx, header: L2tpHeader, msg: ControlMessage): void {
  const role = ctx.s.config.role;
  if (ctx.s.phase !== 'established') {
    warn(ctx, `${msg.type} before the tunnel is established ignored`, { phase: ctx.s.phase });
    return;
  }
  const session = ctx.s.sessions[header.sessionId];
  switch (msg.type) {
    case 'ICRQ': {
      if (role !== 'lns') return warn(ctx, 'ICRQ received by a LAC ignored');
      const peerSessionId = msg.assignedSessionId as number;
      const localSessionId = allocateSessionId(ctx);
      put(ctx, {
        localSessionId,
        peerSessionId,
        phase: 'wait-accept',
        callSerialNumber: msg.callSerialNumber as number,
        ...(msg.callingNumber !== undefined ? { callingNumber: msg.callingNumber } : {}),
        ...(msg.calledNumber !== undefined ? { calledNumber: msg.calledNumber } : {}),
      });
      ctx.actions.push({
        kind: 'session-requested',
        localSessionId,
        peerSessionId,
        callSerialNumber: msg.callSerialNumber as number,
        ...(msg.callingNumber !== undefined ? { callingNumber: msg.callingNumber } : {}),
        ...(msg.calledNumber !== undefined ? { calledNumber: msg.calledNumber } : {}),
      });
      return;
    }
    case 'ICRP': {
      if (!session || session.phase !== 'wait-reply') return warn(ctx, 'unexpected ICRP ignored', { sessionId: header.sessionId });
      const withPeer = { ...session, peerSessionId: msg.assignedSessionId as number };
      // Our LAC is a virtual one: synchronous framing, a nominal 100 Mb/s.
      sendMessage(ctx, { type: 'ICCN', txConnectSpeed: 100_000_000, framingType: Framing.Sync }, withPeer.peerSessionId);
      established(ctx, withPeer, undefined);
      return;
    }
    case 'ICCN':
      if (!session || session.phase !== 'wait-connect') return warn(ctx, 'unexpected ICCN ignored', { sessionId: header.sessionId });
      established(ctx, session, msg);
      return;
    case 'CDN': {
      // Some LACs clear a call before learning our id and send CDN with Session ID 0: match on their id then.
      const target =
        session ??
        Object.values(ctx.s.sessions).find((x) => x.peerSessionId !== 0 && x.peerSessionId === msg.assignedSessionId);
      if (!target) return warn(ctx, 'CDN for unknown session ignored', { sessionId: header.sessionId });
      drop(ctx, target.localSessionId);
      ctx.actions.push({
        kind: 'session-closed',
        localSessionId: target.localSessionId,
        peerSessionId: target.peerSessionId,
        reason: 'peer-disconnected',
        ...(msg.resultCode ? { resultCode: msg.resultCode } : {}),
      });
      return;
    }
    case 'WEN':
    case 'SLI':
      if (!session) return warn(ctx, `${msg.type} for unknown session ignored`, { sessionId: header.sessionId });
      ctx.actions.push({
        kind: 'link-info',
        localSessionId: session.localSessionId,
        ...(msg.accm ? { accm: msg.accm } : {}),
        ...(msg.callErrors ? { callErrors: msg.callErrors } : {}),
      });
      return;
    default:
      // OCRQ/OCRP/OCCN: outgoing calls are not offered by this LNS.
      warn(ctx, `${msg.type} not supported, ignored`);
  }
}
