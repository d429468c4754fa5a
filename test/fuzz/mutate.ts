/**
 * Mutation operators over captured L2TP datagrams, and a stream that turns a corpus into an endless,
 * reproducible sequence of hostile datagrams: bit/byte flips, truncation, random extension,
 * duplicated ranges, splices of two packets, boundary values in the L2TP header (Length, Tunnel ID,
 * Session ID, Ns, Nr, Offset Size; RFC 2661 §3.1), in AVP headers (§4.1) and in PPP headers
 * (RFC 1661 §5), plus stream-level duplicates, reorders and verbatim replays.
 */
import type { CorpusPacket } from './corpus';
import type { Prng } from './prng';

export const MUTATIONS = ['flip-bits', 'set-bytes', 'truncate', 'extend', 'duplicate-range', 'splice', 'boundary-header', 'boundary-avp', 'boundary-ppp'] as const;
export type MutationName = (typeof MUTATIONS)[number];
export type StreamOp = 'mutated' | 'duplicate' | 'reorder' | 'replay';

const BOUNDARY_16 = [0, 1, 2, 5, 6, 7, 8, 11, 12, 0x7f, 0x80, 0xff, 0x100, 0x3ff, 0x400, 0x7fff, 0x8000, 0xfffe, 0xffff];
const BOUNDARY_8 = [0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff];

/** Byte offsets of the L2TP header fields present in `bytes` (by its flag bits, §3.1). */
export function headerFields(bytes: Uint8Array): { length?: number; tunnelId: number; sessionId: number; ns?: number; nr?: number; offsetSize?: number; end: number } | undefined {
  if (bytes.length < 6) return undefined;
  const flags = bytes[0]!;
  let p = 2;
  const out: { length?: number; tunnelId: number; sessionId: number; ns?: number; nr?: number; offsetSize?: number; end: number } = { tunnelId: 0, sessionId: 0, end: 0 };
  if (flags & 0x40) {
    out.length = p;
    p += 2;
  }
  out.tunnelId = p;
  out.sessionId = p + 2;
  p += 4;
  if (flags & 0x08) {
    out.ns = p;
    out.nr = p + 2;
    p += 4;
  }
  if (flags & 0x02) {
    out.offsetSize = p;
    p += 2;
  }
  if (p > bytes.length) return undefined;
  out.end = p;
  return out;
}

function put16(bytes: Uint8Array, at: number, value: number): void {
  if (at + 1 >= bytes.length) return;
  bytes[at] = (value >>> 8) & 0xff;
  bytes[at + 1] = value & 0xff;
}

function boundary16(rng: Prng, length: number): number {
  return rng.chance(0.2) ? Math.max(0, Math.min(0xffff, length + rng.range(-2, 2))) : rng.pick(BOUNDARY_16);
}

/** Offsets of the AVP headers of a control message (stops at the first impossible length). */
function avpOffsets(bytes: Uint8Array, start: number): number[] {
  const out: number[] = [];
  for (let p = start; p + 6 <= bytes.length; ) {
    out.push(p);
    const len = ((bytes[p]! & 0x03) << 8) | bytes[p + 1]!;
    if (len < 6) break;
    p += len;
  }
  return out;
}

/** Apply one named mutation; returns a new array (the input is never modified). */
export function applyMutation(rng: Prng, name: MutationName, input: Uint8Array, other: Uint8Array): Uint8Array {
  let b = Uint8Array.from(input);
  switch (name) {
    case 'flip-bits': {
      const n = rng.range(1, 8);
      for (let i = 0; i < n && b.length > 0; i++) b[rng.int(b.length)]! ^= 1 << rng.int(8);
      return b;
    }
    case 'set-bytes': {
      const n = rng.range(1, 4);
      for (let i = 0; i < n && b.length > 0; i++) b[rng.int(b.length)] = rng.chance(0.5) ? rng.pick(BOUNDARY_8) : rng.int(256);
      return b;
    }
    case 'truncate':
      return b.subarray(0, rng.int(b.length));
    case 'extend': {
      const extra = rng.chance(0.05) ? rng.range(256, 1400) : rng.range(1, 64);
      const out = new Uint8Array(b.length + extra);
      out.set(b);
      out.set(rng.bytes(extra), b.length);
      return out;
    }
    case 'duplicate-range': {
      if (b.length === 0) return b;
      const from = rng.int(b.length);
      const len = rng.range(1, Math.min(64, b.length - from));
      const at = rng.int(b.length + 1);
      const out = new Uint8Array(b.length + len);
      out.set(b.subarray(0, at));
      out.set(b.subarray(from, from + len), at);
      out.set(b.subarray(at), at + len);
      return out;
    }
    case 'splice': {
      const cut = rng.int(b.length + 1);
      const from = rng.int(other.length + 1);
      const out = new Uint8Array(cut + other.length - from);
      out.set(b.subarray(0, cut));
      out.set(other.subarray(from), cut);
      return out;
    }
    case 'boundary-header': {
      const h = headerFields(b);
      if (!h) return applyMutation(rng, 'set-bytes', b, other);
      const fields = [h.length, h.tunnelId, h.sessionId, h.ns, h.nr, h.offsetSize].filter((f): f is number => f !== undefined);
      put16(b, rng.pick(fields), boundary16(rng, b.length));
      // Sometimes flip a flag bit too, so that the fields move under the decoder.
      if (rng.chance(0.2)) b[rng.int(2)]! ^= rng.pick([0x80, 0x40, 0x08, 0x02, 0x01, 0x0f]);
      return b;
    }
    case 'boundary-avp': {
      const h = headerFields(b);
      const avps = h && (b[0]! & 0x80) !== 0 ? avpOffsets(b, h.end) : [];
      if (avps.length === 0) return applyMutation(rng, 'boundary-header', b, other);
      const at = rng.pick(avps);
      const which = rng.int(4);
      if (which === 0) {
        // The 10-bit AVP length (keep the M/H bits as they were, or toggle them).
        const len = rng.pick([0, 1, 5, 6, 7, 8, 0x3ff, b.length - at, b.length - at + 1]) & 0x3ff;
        b[at] = (b[at]! & 0xfc) | (len >>> 8) | (rng.chance(0.3) ? rng.pick([0x80, 0x40, 0x3c]) : 0);
        b[at + 1] = len & 0xff;
      } else if (which === 1) put16(b, at + 2, rng.pick([0, 1, 311, 0xffff])); // Vendor ID
      else if (which === 2) put16(b, at + 4, rng.pick([0, 1, 2, 3, 7, 9, 10, 11, 14, 15, 36, 39, 40, 0xffff])); // Attribute Type
      else if (at + 7 < b.length) put16(b, at + 6, boundary16(rng, b.length)); // first two value octets
      return b;
    }
    case 'boundary-ppp': {
      const h = headerFields(b);
      if (!h || (b[0]! & 0x80) !== 0 || h.end + 8 > b.length) return applyMutation(rng, 'flip-bits', b, other);
      const p = h.end + (b[h.end] === 0xff ? 2 : 0);
      const which = rng.int(4);
      if (which === 0) put16(b, p, rng.pick([0x0021, 0xc021, 0xc023, 0xc223, 0x8021, 0x80fd, 0x8057, 0x0000, 0xffff, 0x0001]));
      else if (which === 1) b[p + 2] = rng.pick([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 0xff]); // code
      else if (which === 2) put16(b, p + 4, boundary16(rng, b.length - p - 2)); // PPP length
      else b = b.subarray(0, Math.min(b.length, p + rng.range(0, 6)));
      return b;
    }
  }
}

export interface MutatedDatagram {
  readonly bytes: Uint8Array;
  readonly op: StreamOp;
  /** The corpus packet it came from (its index). */
  readonly source: number;
}

/** An endless, seeded stream of hostile datagrams derived from a corpus. */
export class MutationStream {
  private cursor = 0;
  readonly counts: Record<MutationName | StreamOp, number> = Object.fromEntries([...MUTATIONS, 'mutated', 'duplicate', 'reorder', 'replay'].map((k) => [k, 0])) as Record<MutationName | StreamOp, number>;

  constructor(
    private readonly corpus: readonly CorpusPacket[],
    private readonly rng: Prng,
  ) {
    if (corpus.length === 0) throw new Error('empty corpus');
  }

  /** One mutated copy of `bytes` (1 to 3 stacked mutations). */
  mutate(bytes: Uint8Array): Uint8Array {
    let out = bytes;
    const n = this.rng.chance(0.7) ? 1 : this.rng.range(2, 3);
    for (let i = 0; i < n; i++) {
      const name = this.rng.pick(MUTATIONS);
      this.counts[name]++;
      out = applyMutation(this.rng, name, out, this.rng.pick(this.corpus).bytes);
    }
    return out;
  }

  /** The next group of datagrams to send (usually one; two for a duplicate, 2..4 for a reorder). */
  next(): MutatedDatagram[] {
    const r = this.rng.u32() / 0x1_0000_0000;
    const source = this.cursor;
    const take = () => {
      const i = this.cursor;
      this.cursor = (this.cursor + 1) % this.corpus.length;
      return { i, bytes: this.corpus[i]!.bytes };
    };
    if (r < 0.05) {
      this.counts.replay++;
      return [{ bytes: take().bytes, op: 'replay', source }];
    }
    if (r < 0.12) {
      this.counts.duplicate++;
      const bytes = this.mutate(take().bytes);
      return [
        { bytes, op: 'duplicate', source },
        { bytes, op: 'duplicate', source },
      ];
    }
    if (r < 0.2) {
      this.counts.reorder++;
      const group = Array.from({ length: this.rng.range(2, 4) }, () => {
        const { i, bytes } = take();
        return { bytes: this.rng.chance(0.5) ? this.mutate(bytes) : bytes, op: 'reorder' as const, source: i };
      });
      for (let i = group.length - 1; i > 0; i--) {
        const j = this.rng.int(i + 1);
        [group[i], group[j]] = [group[j]!, group[i]!];
      }
      return group;
    }
    this.counts.mutated++;
    return [{ bytes: this.mutate(take().bytes), op: 'mutated', source }];
  }
}

/** Point a datagram at another tunnel/session (so mutations reach a live tunnel's engine). */
export function retarget(bytes: Uint8Array, tunnelId: number, sessionId?: number): Uint8Array {
  const h = headerFields(bytes);
  if (!h) return bytes;
  const out = Uint8Array.from(bytes);
  put16(out, h.tunnelId, tunnelId);
  if (sessionId !== undefined && (out[h.sessionId]! | out[h.sessionId + 1]!) !== 0) put16(out, h.sessionId, sessionId);
  return out;
}
