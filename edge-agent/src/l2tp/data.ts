/**
 * Fast path for L2TP data messages (T=0), RFC 2661 §3.1. The PPP frame starts right after the header (and offset
 * pad); the PPP layer handles the 0xFF03 address/control bytes. Nothing here copies or allocates per packet when the
 * caller passes a reusable `out` object.
 */
import { FLAG_L, FLAG_O, FLAG_P, FLAG_S, FLAG_T } from './header';
import { L2tpDecodeError } from './errors';

/** Where the PPP frame of a data packet lies, plus header fields the data path may need. */
export interface DataHeaderView {
  tunnelId: number;
  sessionId: number;
  /** Index of the first PPP byte in the buffer. */
  payloadOffset: number;
  /** Number of PPP bytes (bounded by the Length field when present). */
  payloadLength: number;
  /** -1 when the S bit was clear. */
  ns: number;
  nr: number;
  priority: boolean;
}

/** A fresh view object to reuse across calls of `decodeDataHeader`. */
export function newDataHeaderView(): DataHeaderView {
  return { tunnelId: 0, sessionId: 0, payloadOffset: 0, payloadLength: 0, ns: -1, nr: -1, priority: false };
}

const NOT_DATA = new L2tpDecodeError('bad-control-flags', 'not a data message (T bit set)');
const TRUNCATED = new L2tpDecodeError('truncated', 'data header truncated');
const BAD_VERSION = new L2tpDecodeError('bad-version', 'L2TP version is not 2');
const BAD_LENGTH = new L2tpDecodeError('bad-length', 'Length/offset field overruns the datagram');

/**
 * Decode a data header of `buf[start, end)`. Returns `out` filled in (or a new view), or a shared, immutable error
 * value (no allocation on the error path either).
 */
export function decodeDataHeader(
  buf: Uint8Array,
  out: DataHeaderView = newDataHeaderView(),
  start = 0,
  end = buf.length,
): DataHeaderView | L2tpDecodeError {
  if (end - start < 6) return TRUNCATED;
  const flags = buf[start] as number;
  if ((flags & FLAG_T) !== 0) return NOT_DATA;
  if (((buf[start + 1] as number) & 0x0f) !== 2) return BAD_VERSION;
  let at = start + 2;
  let limit = end;
  if ((flags & FLAG_L) !== 0) {
    const length = ((buf[at] as number) << 8) | (buf[at + 1] as number);
    if (length > end - start) return BAD_LENGTH;
    limit = start + length;
    at += 2;
  }
  if (at + 4 > limit) return TRUNCATED;
  out.tunnelId = ((buf[at] as number) << 8) | (buf[at + 1] as number);
  out.sessionId = ((buf[at + 2] as number) << 8) | (buf[at + 3] as number);
  at += 4;
  if ((flags & FLAG_S) !== 0) {
    if (at + 4 > limit) return TRUNCATED;
    out.ns = ((buf[at] as number) << 8) | (buf[at + 1] as number);
    out.nr = ((buf[at + 2] as number) << 8) | (buf[at + 3] as number);
    at += 4;
  } else {
    out.ns = -1;
    out.nr = -1;
  }
  if ((flags & FLAG_O) !== 0) {
    if (at + 2 > limit) return TRUNCATED;
    at += 2 + (((buf[at] as number) << 8) | (buf[at + 1] as number));
    if (at > limit) return BAD_LENGTH;
  }
  out.priority = (flags & FLAG_P) !== 0;
  out.payloadOffset = at;
  out.payloadLength = limit - at;
  return out;
}

/** Header length `encodeDataHeaderInto` writes for these options (6, +2 with length, +4 with sequence). */
export function dataHeaderLength(withLength = false, withSequence = false): number {
  return 6 + (withLength ? 2 : 0) + (withSequence ? 4 : 0);
}

/**
 * Write a data header at `buf[at]` for a PPP frame of `payloadLength` bytes that follows it. Returns the header
 * length. The caller reserves `dataHeaderLength(...)` bytes of headroom before the frame. Pass `ns < 0` to omit
 * Ns/Nr (the usual case: sequencing is off unless the peer asked for it).
 */
export function encodeDataHeaderInto(
  buf: Uint8Array,
  at: number,
  tunnelId: number,
  sessionId: number,
  payloadLength: number,
  withLength = false,
  ns = -1,
  nr = 0,
): number {
  const withSequence = ns >= 0;
  const headerLength = 6 + (withLength ? 2 : 0) + (withSequence ? 4 : 0);
  buf[at] = (withLength ? FLAG_L : 0) | (withSequence ? FLAG_S : 0);
  buf[at + 1] = 2;
  let p = at + 2;
  if (withLength) {
    const total = headerLength + payloadLength;
    buf[p] = (total >>> 8) & 0xff;
    buf[p + 1] = total & 0xff;
    p += 2;
  }
  buf[p] = (tunnelId >>> 8) & 0xff;
  buf[p + 1] = tunnelId & 0xff;
  buf[p + 2] = (sessionId >>> 8) & 0xff;
  buf[p + 3] = sessionId & 0xff;
  if (withSequence) {
    buf[p + 4] = (ns >>> 8) & 0xff;
    buf[p + 5] = ns & 0xff;
    buf[p + 6] = (nr >>> 8) & 0xff;
    buf[p + 7] = nr & 0xff;
  }
  return headerLength;
}
