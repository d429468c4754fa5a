/**
 * The command nudge: one UDP datagram the broker sends an agent right after queueing a command for
 * it, meaning only "fetch your commands now". It carries no command (the agent still fetches them
 * over its authenticated HTTPS heartbeat), so a lost nudge costs nothing but time: the heartbeat
 * stays the fallback. The datagram is authenticated with a key only the broker and this agent know
 * (HMAC-SHA256 over everything before the tag), names the agent, and carries its send time and a
 * random nonce, so a forged, misdirected, stale or replayed nudge is refused (`verifyNudge` and
 * `NudgeReplayGuard`). Pure: no sockets, no clock; both sides import it.
 *
 * Layout (big-endian), 61 + n bytes:
 *   0   4  magic "TBN1"
 *   4   8  sentAt, milliseconds since the epoch (unsigned)
 *   12 16  nonce (random)
 *   28  1  n = length of the agent id (1..64)
 *   29  n  agent id (ASCII)
 *   29+n 32 HMAC-SHA256(key, bytes 0 .. 29+n)
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const NUDGE_MAGIC = 'TBN1';
export const NUDGE_NONCE_BYTES = 16;
export const NUDGE_TAG_BYTES = 32;
export const NUDGE_KEY_BYTES = 32;
const HEADER_BYTES = 4 + 8 + NUDGE_NONCE_BYTES + 1;
export const NUDGE_MAX_AGENT_ID = 64;
/** The largest valid nudge; anything longer is refused before any crypto. */
export const NUDGE_MAX_BYTES = HEADER_BYTES + NUDGE_MAX_AGENT_ID + NUDGE_TAG_BYTES;
/** A nudge older (or further in the future) than this is stale: clocks of broker and agent may differ this much. */
export const NUDGE_MAX_AGE_MS = 30_000;
/** The UDP port agents listen on for nudges unless configured otherwise (0 turns nudges off). */
export const DEFAULT_NUDGE_PORT = 1717;

export interface Nudge {
  readonly agentId: string;
  readonly sentAt: number;
  /** NUDGE_NONCE_BYTES random bytes. */
  readonly nonce: Uint8Array;
}

export type NudgeRefusal = 'truncated' | 'too-long' | 'bad-magic' | 'bad-agent-id' | 'wrong-agent' | 'bad-tag' | 'stale' | 'future' | 'replayed';

/** Why a datagram is not a nudge to act on; a value, never thrown. */
export class NudgeError {
  constructor(
    readonly reason: NudgeRefusal,
    readonly message: string,
  ) {}
}

const AGENT_ID = /^[\x21-\x7e]{1,64}$/;

/** The datagram for `nudge`, signed with `key`. Throws only on a caller's bug (bad id, nonce or key size). */
export function encodeNudge(nudge: Nudge, key: Uint8Array): Uint8Array {
  if (!AGENT_ID.test(nudge.agentId)) throw new RangeError('nudge agent id must be 1-64 printable ASCII characters');
  if (nudge.nonce.length !== NUDGE_NONCE_BYTES) throw new RangeError(`nudge nonce must be ${NUDGE_NONCE_BYTES} bytes`);
  if (key.length !== NUDGE_KEY_BYTES) throw new RangeError(`nudge key must be ${NUDGE_KEY_BYTES} bytes`);
  if (!Number.isSafeInteger(nudge.sentAt) || nudge.sentAt < 0) throw new RangeError('nudge sentAt must be a non-negative integer');
  const id = Buffer.from(nudge.agentId, 'ascii');
  const out = Buffer.alloc(HEADER_BYTES + id.length + NUDGE_TAG_BYTES);
  out.write(NUDGE_MAGIC, 0, 'ascii');
  out.writeBigUInt64BE(BigInt(nudge.sentAt), 4);
  out.set(nudge.nonce, 12);
  out.writeUInt8(id.length, 28);
  out.set(id, HEADER_BYTES);
  const signed = HEADER_BYTES + id.length;
  out.set(tag(key, out.subarray(0, signed)), signed);
  return out;
}

/** The fields of a well-formed nudge (the tag is not checked here: see `verifyNudge`). */
export function decodeNudge(bytes: Uint8Array): (Nudge & { readonly signedLength: number }) | NudgeError {
  if (bytes.length > NUDGE_MAX_BYTES) return new NudgeError('too-long', `${bytes.length} bytes, at most ${NUDGE_MAX_BYTES}`);
  if (bytes.length < HEADER_BYTES + 1 + NUDGE_TAG_BYTES) return new NudgeError('truncated', `${bytes.length} bytes, at least ${HEADER_BYTES + 1 + NUDGE_TAG_BYTES}`);
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  if (b.toString('ascii', 0, 4) !== NUDGE_MAGIC) return new NudgeError('bad-magic', 'not a nudge (magic)');
  const idLength = b.readUInt8(28);
  if (b.length !== HEADER_BYTES + idLength + NUDGE_TAG_BYTES) return new NudgeError('truncated', `length ${b.length} does not match an agent id of ${idLength} bytes`);
  const agentId = b.toString('latin1', HEADER_BYTES, HEADER_BYTES + idLength);
  if (!AGENT_ID.test(agentId)) return new NudgeError('bad-agent-id', 'agent id is not printable ASCII');
  const sentAt = b.readBigUInt64BE(4);
  if (sentAt > BigInt(Number.MAX_SAFE_INTEGER)) return new NudgeError('future', 'sentAt out of range');
  return { agentId, sentAt: Number(sentAt), nonce: Uint8Array.from(b.subarray(12, 28)), signedLength: HEADER_BYTES + idLength };
}

export interface VerifyNudgeOptions {
  /** The receiving agent: a nudge for anyone else is refused. */
  readonly agentId: string;
  /** Keys to accept, newest first (the previous one stays valid while the broker's key rotates). */
  readonly keys: readonly Uint8Array[];
  readonly now: number;
  /** @default NUDGE_MAX_AGE_MS */
  readonly maxAgeMs?: number;
}

/**
 * A genuine, fresh nudge for this agent, or why not. Cheap checks first (length, magic, agent id,
 * time), the HMAC last, compared in constant time. Replays are the caller's `NudgeReplayGuard`.
 */
export function verifyNudge(bytes: Uint8Array, o: VerifyNudgeOptions): Nudge | NudgeError {
  const decoded = decodeNudge(bytes);
  if (decoded instanceof NudgeError) return decoded;
  if (decoded.agentId !== o.agentId) return new NudgeError('wrong-agent', `for agent ${decoded.agentId}`);
  const maxAge = o.maxAgeMs ?? NUDGE_MAX_AGE_MS;
  if (decoded.sentAt < o.now - maxAge) return new NudgeError('stale', `sent ${o.now - decoded.sentAt} ms ago`);
  if (decoded.sentAt > o.now + maxAge) return new NudgeError('future', `sent ${decoded.sentAt - o.now} ms in the future`);
  const signed = bytes.subarray(0, decoded.signedLength);
  const presented = bytes.subarray(decoded.signedLength);
  const genuine = o.keys.some((key) => key.length === NUDGE_KEY_BYTES && timingSafeEqual(tag(key, signed), presented));
  if (!genuine) return new NudgeError('bad-tag', 'not signed with this agent\'s nudge key');
  return { agentId: decoded.agentId, sentAt: decoded.sentAt, nonce: decoded.nonce };
}

/**
 * Refuses a nudge seen before. A nonce is remembered until its nudge would be stale anyway (twice
 * the age window, for both directions of clock skew), so the memory is bounded by the genuine
 * nudges of one window; past `maxEntries` the oldest are forgotten (only the broker can make
 * genuine nudges, so only the broker could fill it).
 */
export class NudgeReplayGuard {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly maxAgeMs = NUDGE_MAX_AGE_MS,
    private readonly maxEntries = 4096,
  ) {}

  /** True the first time this nonce is offered within the window (then remembered), false on a replay. */
  admit(nudge: Nudge, now: number): boolean {
    this.forgetBefore(now - 2 * this.maxAgeMs);
    const id = Buffer.from(nudge.nonce).toString('hex');
    if (this.seen.has(id)) return false;
    this.seen.set(id, now);
    while (this.seen.size > this.maxEntries) this.seen.delete(this.seen.keys().next().value as string);
    return true;
  }

  get size(): number {
    return this.seen.size;
  }

  private forgetBefore(cutoff: number): void {
    // Insertion order is arrival order, so the oldest come first.
    for (const [id, at] of this.seen) {
      if (at >= cutoff) break;
      this.seen.delete(id);
    }
  }
}

function tag(key: Uint8Array, signed: Uint8Array): Buffer {
  return createHmac('sha256', key).update(signed).digest();
}
