/**
 * Reliable delivery of control messages, RFC 2661 §5.8 (and appendix A): Ns/Nr numbering, the peer's receive
 * window (slow start is not needed at these window sizes), delayed ZLB acks that outgoing messages piggy-back,
 * retransmission with exponential backoff and a give-up limit, duplicate re-acks and in-order delivery of
 * out-of-order arrivals. Pure: `stepReliable(state, event) -> { state, actions }`.
 */
import { encodePacket, type L2tpHeader } from './header';
import { seqAdd, seqBefore, seqDistance } from './sequence';

export interface ReliableConfig {
  /** Tunnel ID to put in outgoing headers (the peer's Assigned Tunnel ID; 0 until known). */
  readonly peerTunnelId: number;
  /** Peer's Receive Window Size AVP; §5.8 says 4 when absent. */
  readonly peerReceiveWindow: number;
  /** How many messages ahead of the expected Ns we hold for reordering (our advertised window). */
  readonly receiveWindow: number;
  /** First retransmission timeout. @default 1000 */
  readonly initialRtoMs: number;
  /** Backoff cap. @default 8000 */
  readonly maxRtoMs: number;
  /** Retransmissions of one message before giving up. @default 5 */
  readonly maxRetries: number;
  /** How long a received message waits for a piggy-back before a ZLB acks it. @default 100 */
  readonly ackDelayMs: number;
}

export const DEFAULT_RELIABLE_CONFIG: ReliableConfig = {
  peerTunnelId: 0,
  peerReceiveWindow: 4,
  receiveWindow: 8,
  initialRtoMs: 1000,
  maxRtoMs: 8000,
  maxRetries: 5,
  ackDelayMs: 100,
};

/** A control message body queued or in flight. */
export interface OutgoingControl {
  /** Session ID for the header (0 for tunnel messages, else the peer's session id). */
  readonly sessionId: number;
  /** Encoded AVPs (see `encodeControlMessage`). */
  readonly body: Uint8Array;
}

interface InFlight extends OutgoingControl {
  readonly ns: number;
}

interface Held {
  readonly header: L2tpHeader;
  readonly body: Uint8Array;
}

export interface ReliableState {
  readonly config: ReliableConfig;
  /** Ns of the next new message we send. */
  readonly ns: number;
  /** Ns we expect next from the peer (our Nr). */
  readonly nr: number;
  readonly inFlight: readonly InFlight[];
  readonly queue: readonly OutgoingControl[];
  readonly retries: number;
  readonly rtoMs: number;
  readonly held: readonly Held[];
  readonly ackPending: boolean;
  readonly failed: boolean;
}

export type ReliableTimer = 'retransmit' | 'ack';

export type ReliableEvent =
  | { readonly kind: 'received'; readonly header: L2tpHeader; readonly body: Uint8Array }
  | { readonly kind: 'send'; readonly message: OutgoingControl }
  | { readonly kind: 'timer'; readonly name: ReliableTimer }
  /** Send a pending ack now instead of after the delay (e.g. for a StopCCN, §5.7). */
  | { readonly kind: 'ack-now' }
  | { readonly kind: 'configure'; readonly peerTunnelId?: number; readonly peerReceiveWindow?: number };

export type ReliableAction =
  | { readonly kind: 'transmit'; readonly bytes: Uint8Array }
  | { readonly kind: 'set-timer'; readonly name: ReliableTimer; readonly ms: number }
  | { readonly kind: 'cancel-timer'; readonly name: ReliableTimer }
  | { readonly kind: 'deliver'; readonly header: L2tpHeader; readonly body: Uint8Array }
  | { readonly kind: 'failed'; readonly reason: string };

export interface ReliableStep {
  readonly state: ReliableState;
  readonly actions: ReliableAction[];
}

/** A fresh channel: Ns = Nr = 0 (§5.8: the first message of a tunnel has Ns 0). */
export function createReliable(config: Partial<ReliableConfig> = {}): ReliableState {
  const c = { ...DEFAULT_RELIABLE_CONFIG, ...config };
  return { config: c, ns: 0, nr: 0, inFlight: [], queue: [], retries: 0, rtoMs: c.initialRtoMs, held: [], ackPending: false, failed: false };
}

/** True when nothing is queued or unacknowledged. */
export function isReliableIdle(s: ReliableState): boolean {
  return s.inFlight.length === 0 && s.queue.length === 0;
}

type Mutable = { -readonly [K in keyof ReliableState]: ReliableState[K] };

function packet(s: Mutable, sessionId: number, ns: number, body: Uint8Array): Uint8Array {
  return encodePacket({ isControl: true, tunnelId: s.config.peerTunnelId, sessionId, ns, nr: s.nr }, body);
}

function clearAck(s: Mutable, actions: ReliableAction[]): void {
  if (s.ackPending) {
    s.ackPending = false;
    actions.push({ kind: 'cancel-timer', name: 'ack' });
  }
}

function sendZlb(s: Mutable, actions: ReliableAction[]): void {
  clearAck(s, actions);
  actions.push({ kind: 'transmit', bytes: packet(s, 0, s.ns, new Uint8Array(0)) });
}

/** Move queued messages into the peer's window. */
function flush(s: Mutable, actions: ReliableAction[]): void {
  const window = Math.max(1, s.config.peerReceiveWindow);
  while (s.queue.length > 0 && s.inFlight.length < window) {
    const [next, ...rest] = s.queue as [OutgoingControl, ...OutgoingControl[]];
    s.queue = rest;
    const entry: InFlight = { ...next, ns: s.ns };
    s.ns = seqAdd(s.ns, 1);
    if (s.inFlight.length === 0) {
      s.retries = 0;
      s.rtoMs = s.config.initialRtoMs;
      actions.push({ kind: 'set-timer', name: 'retransmit', ms: s.rtoMs });
    }
    s.inFlight = [...s.inFlight, entry];
    clearAck(s, actions); // piggy-backed: this message carries our Nr
    actions.push({ kind: 'transmit', bytes: packet(s, entry.sessionId, entry.ns, entry.body) });
  }
}

function onPeerNr(s: Mutable, nr: number, actions: ReliableAction[]): void {
  // Only Nr values within what we have sent acknowledge anything; others are stale or bogus.
  const oldest = s.inFlight[0];
  if (!oldest || seqDistance(oldest.ns, nr) > seqDistance(oldest.ns, s.ns)) return;
  const remaining = s.inFlight.filter((m) => !seqBefore(m.ns, nr));
  if (remaining.length === s.inFlight.length) return;
  s.inFlight = remaining;
  s.retries = 0;
  s.rtoMs = s.config.initialRtoMs;
  if (remaining.length > 0) actions.push({ kind: 'set-timer', name: 'retransmit', ms: s.rtoMs });
  else actions.push({ kind: 'cancel-timer', name: 'retransmit' });
}

function onReceived(s: Mutable, header: L2tpHeader, body: Uint8Array, actions: ReliableAction[]): void {
  const ns = header.ns ?? 0;
  onPeerNr(s, header.nr ?? 0, actions);
  if (body.length > 0) {
    if (ns === s.nr) {
      actions.push({ kind: 'deliver', header, body });
      s.nr = seqAdd(s.nr, 1);
      // Drain held messages that are now in order.
      for (;;) {
        const i = s.held.findIndex((h) => h.header.ns === s.nr);
        if (i < 0) break;
        const h = s.held[i] as Held;
        s.held = s.held.filter((_, j) => j !== i);
        actions.push({ kind: 'deliver', header: h.header, body: h.body });
        s.nr = seqAdd(s.nr, 1);
      }
      if (!s.ackPending) {
        s.ackPending = true;
        actions.push({ kind: 'set-timer', name: 'ack', ms: s.config.ackDelayMs });
      }
    } else if (seqBefore(ns, s.nr)) {
      // Duplicate: our ack was lost or is late. Re-ack at once, never re-deliver (§5.8).
      sendZlb(s, actions);
    } else if (seqDistance(s.nr, ns) < s.config.receiveWindow) {
      if (!s.held.some((h) => h.header.ns === ns)) s.held = [...s.held, { header, body }];
    }
    // Further ahead than our window: dropped; the peer retransmits.
  }
  flush(s, actions);
}

/** Advance the channel by one event. */
export function stepReliable(state: ReliableState, event: ReliableEvent): ReliableStep {
  const s: Mutable = { ...state };
  const actions: ReliableAction[] = [];
  if (s.failed) return { state, actions };
  switch (event.kind) {
    case 'received':
      onReceived(s, event.header, event.body, actions);
      break;
    case 'send':
      s.queue = [...s.queue, event.message];
      flush(s, actions);
      break;
    case 'ack-now':
      if (s.ackPending) sendZlb(s, actions);
      break;
    case 'configure': {
      const config = { ...s.config };
      if (event.peerTunnelId !== undefined) config.peerTunnelId = event.peerTunnelId;
      if (event.peerReceiveWindow !== undefined) config.peerReceiveWindow = Math.max(1, event.peerReceiveWindow);
      s.config = config;
      flush(s, actions);
      break;
    }
    case 'timer':
      if (event.name === 'ack') {
        if (s.ackPending) sendZlb(s, actions);
      } else if (s.inFlight.length > 0) {
        if (s.retries >= s.config.maxRetries) {
          s.failed = true;
          actions.push({ kind: 'cancel-timer', name: 'ack' });
          actions.push({ kind: 'failed', reason: `no acknowledgement after ${s.retries} retransmissions` });
          break;
        }
        s.retries += 1;
        s.rtoMs = Math.min(s.rtoMs * 2, s.config.maxRtoMs);
        clearAck(s, actions);
        for (const m of s.inFlight) actions.push({ kind: 'transmit', bytes: packet(s, m.sessionId, m.ns, m.body) });
        actions.push({ kind: 'set-timer', name: 'retransmit', ms: s.rtoMs });
      }
      break;
  }
  return { state: s, actions };
}
