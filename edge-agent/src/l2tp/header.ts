/**
 * L2TP header codec, RFC 2661 §3.1:
 *
 *   |T|L|x|x|S|x|O|P|x|x|x|x|  Ver  |          Length (opt)         |
 *   |           Tunnel ID           |           Session ID          |
 *   |             Ns (opt)          |             Nr (opt)          |
 *   |      Offset Size (opt)        |    Offset pad... (opt)
 */
import { L2TP_VERSION } from './constants';
import { L2tpDecodeError, L2tpError } from './errors';

export const FLAG_T = 0x80;
export const FLAG_L = 0x40;
export const FLAG_S = 0x08;
export const FLAG_O = 0x02;
export const FLAG_P = 0x01;

/** A decoded header. Optional fields are present exactly when their flag bit was set. */
export interface L2tpHeader {
  /** T bit: control message (true) or data message (false). */
  readonly isControl: boolean;
  /** P bit (data messages only): the receiver should give this packet preferential treatment. */
  readonly priority: boolean;
  /** Value of the Length field when the L bit was set. */
  readonly length?: number;
  readonly tunnelId: number;
  readonly sessionId: number;
  readonly ns?: number;
  readonly nr?: number;
  /** Offset Size when the O bit was set; the pad is skipped. */
  readonly offsetSize?: number;
  /** Bytes from the start of the packet to the payload (includes the offset pad). */
  readonly headerLength: number;
}

/** A decoded packet: header plus a zero-copy view of the payload (AVPs for control, PPP frame for data). */
export interface L2tpPacket {
  readonly header: L2tpHeader;
  readonly payload: Uint8Array;
}

function u16(buf: Uint8Array, at: number): number {
  return ((buf[at] as number) << 8) | (buf[at + 1] as number);
}

/**
 * Decode a header. Control messages must have T, L and S set and O, P clear (§3.1). The Length field may be less
 * than the datagram (trailing bytes are ignored) but never more, nor less than the header itself.
 */
export function decodeHeader(buf: Uint8Array): L2tpHeader | L2tpDecodeError {
  if (buf.length < 6) return new L2tpDecodeError('truncated', `header needs at least 6 bytes, got ${buf.length}`);
  const flags = buf[0] as number;
  const version = (buf[1] as number) & 0x0f;
  if (version !== L2TP_VERSION) {
    return new L2tpDecodeError('bad-version', `L2TP version ${version} is not 2`, { version });
  }
  const isControl = (flags & FLAG_T) !== 0;
  const hasLength = (flags & FLAG_L) !== 0;
  const hasSequence = (flags & FLAG_S) !== 0;
  const hasOffset = (flags & FLAG_O) !== 0;
  const priority = (flags & FLAG_P) !== 0;
  if (isControl && (!hasLength || !hasSequence || hasOffset || priority)) {
    return new L2tpDecodeError('bad-control-flags', 'control message needs L and S set and O, P clear', { flags });
  }
  let at = 2;
  const fixed = 6 + (hasLength ? 2 : 0) + (hasSequence ? 4 : 0) + (hasOffset ? 2 : 0);
  if (buf.length < fixed) {
    return new L2tpDecodeError('truncated', `header needs ${fixed} bytes, got ${buf.length}`);
  }
  let length: number | undefined;
  if (hasLength) {
    length = u16(buf, at);
    at += 2;
  }
  const tunnelId = u16(buf, at);
  const sessionId = u16(buf, at + 2);
  at += 4;
  let ns: number | undefined;
  let nr: number | undefined;
  if (hasSequence) {
    ns = u16(buf, at);
    nr = u16(buf, at + 2);
    at += 4;
  }
  let offsetSize: number | undefined;
  if (hasOffset) {
    offsetSize = u16(buf, at);
    at += 2 + offsetSize;
  }
  const end = length ?? buf.length;
  if (length !== undefined && length > buf.length) {
    return new L2tpDecodeError('bad-length', `Length field ${length} exceeds datagram of ${buf.length}`, { length });
  }
  if (at > end) {
    return new L2tpDecodeError('bad-length', `header of ${at} bytes overruns packet end ${end}`, { length });
  }
  const header: L2tpHeader = { isControl, priority, tunnelId, sessionId, headerLength: at };
  const mutable = header as { -readonly [K in keyof L2tpHeader]: L2tpHeader[K] };
  if (length !== undefined) mutable.length = length;
  if (ns !== undefined) mutable.ns = ns;
  if (nr !== undefined) mutable.nr = nr;
  if (offsetSize !== undefined) mutable.offsetSize = offsetSize;
  return header;
}

/** Decode a whole packet; the payload is a subarray (no copy) ending at the Length field when present. */
export function decodePacket(buf: Uint8Array): L2tpPacket | L2tpDecodeError {
  const header = decodeHeader(buf);
  if (header instanceof L2tpDecodeError) return header;
  const end = header.length ?? buf.length;
  return { header, payload: buf.subarray(header.headerLength, end) };
}

/** What to put in an outgoing header. */
export interface HeaderFields {
  readonly isControl: boolean;
  readonly tunnelId: number;
  readonly sessionId: number;
  /** Write the Length field; forced on for control messages. */
  readonly withLength?: boolean;
  /** Ns/Nr; required for control messages, optional for data. */
  readonly ns?: number;
  readonly nr?: number;
  /** Offset Size (data only); that many zero bytes of pad follow. */
  readonly offsetSize?: number;
  readonly priority?: boolean;
}

function checkU16(name: string, v: number | undefined): void {
  if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > 0xffff)) {
    throw new L2tpError(`${name} must be a 16-bit unsigned integer`, { [name]: v });
  }
}

/** Encode a packet (header + payload) into a fresh buffer. */
export function encodePacket(fields: HeaderFields, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const { isControl, tunnelId, sessionId, ns, nr, offsetSize } = fields;
  checkU16('tunnelId', tunnelId);
  checkU16('sessionId', sessionId);
  checkU16('ns', ns);
  checkU16('nr', nr);
  checkU16('offsetSize', offsetSize);
  if (isControl && (ns === undefined || nr === undefined)) {
    throw new L2tpError('control messages need ns and nr');
  }
  if (isControl && (offsetSize !== undefined || fields.priority)) {
    throw new L2tpError('control messages carry no offset and no priority bit');
  }
  if ((ns === undefined) !== (nr === undefined)) throw new L2tpError('ns and nr go together');
  const hasLength = isControl || fields.withLength === true;
  const hasSequence = ns !== undefined;
  const hasOffset = offsetSize !== undefined;
  const headerLength =
    6 + (hasLength ? 2 : 0) + (hasSequence ? 4 : 0) + (hasOffset ? 2 + (offsetSize as number) : 0);
  const total = headerLength + payload.length;
  if (hasLength && total > 0xffff) throw new L2tpError('packet too long for the Length field', { total });
  const out = new Uint8Array(total);
  out[0] =
    (isControl ? FLAG_T : 0) |
    (hasLength ? FLAG_L : 0) |
    (hasSequence ? FLAG_S : 0) |
    (hasOffset ? FLAG_O : 0) |
    (fields.priority ? FLAG_P : 0);
  out[1] = L2TP_VERSION;
  let at = 2;
  const put = (v: number): void => {
    out[at] = v >>> 8;
    out[at + 1] = v & 0xff;
    at += 2;
  };
  if (hasLength) put(total);
  put(tunnelId);
  put(sessionId);
  if (hasSequence) {
    put(ns as number);
    put(nr as number);
  }
  if (hasOffset) {
    put(offsetSize as number);
    at += offsetSize as number;
  }
  out.set(payload, at);
  return out;
}
