/** Plumbing shared by the tunnel and session handlers: a mutable working copy of the state plus the actions. */
import { randomBytes } from 'node:crypto';
import { encodeControlMessage, type ControlMessage } from './message';
import { stepReliable, type ReliableEvent } from './reliable';
import type { L2tpHeader } from './header';
import type { TunnelAction, TunnelState } from './tunnel-types';

export type MutableTunnel = { -readonly [K in keyof TunnelState]: TunnelState[K] };

export interface Ctx {
  s: MutableTunnel;
  actions: TunnelAction[];
  /** Messages the channel delivered, in order, not yet handled. */
  delivered: Array<{ header: L2tpHeader; body: Uint8Array }>;
  channelFailed?: string;
}

/** Feed the reliable channel; its transmit/timer actions pass through, deliveries are queued for handling. */
export function runChannel(ctx: Ctx, event: ReliableEvent): void {
  const { state, actions } = stepReliable(ctx.s.channel, event);
  ctx.s.channel = state;
  for (const a of actions) {
    if (a.kind === 'deliver') ctx.delivered.push({ header: a.header, body: a.body });
    else if (a.kind === 'failed') ctx.channelFailed = a.reason;
    else ctx.actions.push(a);
  }
}

/** Encode and reliably send a control message; `sessionId` is the header's (peer's) session id. */
export function sendMessage(ctx: Ctx, msg: ControlMessage, sessionId = 0): void {
  runChannel(ctx, { kind: 'send', message: { sessionId, body: encodeControlMessage(msg) } });
}

export function random(ctx: Ctx, n: number): Uint8Array {
  return ctx.s.config.random ? ctx.s.config.random(n) : new Uint8Array(randomBytes(n));
}

/** A non-zero session id unused in this tunnel. */
export function allocateSessionId(ctx: Ctx): number {
  for (;;) {
    const b = random(ctx, 2);
    const id = (((b[0] as number) << 8) | (b[1] as number)) & 0xffff;
    if (id !== 0 && !ctx.s.sessions[id]) return id;
  }
}

export function warn(ctx: Ctx, message: string, detail?: Record<string, unknown>): void {
  ctx.actions.push(detail ? { kind: 'warning', message, detail } : { kind: 'warning', message });
}
