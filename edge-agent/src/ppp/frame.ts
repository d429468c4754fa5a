/**
 * PPP frame header codec as carried over L2TP (RFC 2661 §3 carries the PPP frame without HDLC
 * flags/FCS). The header is the optional 0xFF 0x03 Address/Control pair (omitted when ACFC is in use,
 * RFC 1661 §6.6) and a 1- or 2-byte Protocol field (1 byte when PFC is in use, RFC 1661 §6.5: the
 * first octet of every 2-byte protocol is even, so an odd first octet means a compressed field).
 */
import { PppDecodeError } from './errors';

export interface FrameHeader {
  readonly protocol: number;
  /** Index in the buffer where the payload starts. */
  readonly payloadOffset: number;
}

export interface PppFrame {
  readonly protocol: number;
  /** A view into the decoded buffer (not a copy). */
  readonly payload: Uint8Array;
}

export interface FrameEncodeOptions {
  /** Omit 0xFF 0x03 (only when the peer acked ACFC). Default false: always safe to send. */
  readonly acfc?: boolean;
  /** Send a 1-byte protocol when it fits (only when the peer acked PFC). Default false. */
  readonly pfc?: boolean;
}

/**
 * Fast path for the data plane: reads the header at `offset` without copying.
 * Receivers must accept uncompressed headers even after negotiating compression (RFC 1661 §6.5/6.6),
 * so this accepts every form regardless of what was negotiated.
 */
export function decodeFrameHeader(buf: Uint8Array, offset = 0): FrameHeader | PppDecodeError {
  let at = offset;
  if (buf[at] === 0xff) {
    if (buf[at + 1] !== 0x03) return new PppDecodeError('bad-value', 'address 0xFF not followed by control 0x03', at + 1);
    at += 2;
  }
  const first = buf[at];
  if (first === undefined) return new PppDecodeError('truncated', 'frame has no protocol field', at);
  if ((first & 1) === 1) return { protocol: first, payloadOffset: at + 1 };
  const second = buf[at + 1];
  if (second === undefined) return new PppDecodeError('truncated', 'protocol field cut short', at + 1);
  // RFC 1661 §2: the least significant bit of the last protocol octet is always 1.
  if ((second & 1) === 0) return new PppDecodeError('bad-value', 'protocol field low octet is even', at + 1);
  return { protocol: (first << 8) | second, payloadOffset: at + 2 };
}

/** Decodes a whole frame into protocol and a payload view. */
export function decodeFrame(buf: Uint8Array): PppFrame | PppDecodeError {
  const h = decodeFrameHeader(buf, 0);
  if (h instanceof PppDecodeError) return h;
  return { protocol: h.protocol, payload: buf.subarray(h.payloadOffset) };
}

/** Size of the header `encodeFrame` writes for these options and protocol. */
export function frameHeaderLength(protocol: number, options: FrameEncodeOptions = {}): number {
  const pfc = options.pfc === true && protocol < 0x100;
  return (options.acfc === true ? 0 : 2) + (pfc ? 1 : 2);
}

/** Writes the header into `out` at `offset` and returns the payload offset (for zero-copy senders). */
export function writeFrameHeader(out: Uint8Array, offset: number, protocol: number, options: FrameEncodeOptions = {}): number {
  let at = offset;
  if (options.acfc !== true) {
    out[at++] = 0xff;
    out[at++] = 0x03;
  }
  // Only protocols below 0x100 (e.g. IPv4 0x0021) can be compressed; LCP must never be (RFC 1661 §6.5).
  if (options.pfc === true && protocol < 0x100) {
    out[at++] = protocol;
  } else {
    out[at++] = (protocol >>> 8) & 0xff;
    out[at++] = protocol & 0xff;
  }
  return at;
}

/** Encodes a frame (header + payload copy). Control traffic always uses the default, uncompressed form. */
export function encodeFrame(protocol: number, payload: Uint8Array, options: FrameEncodeOptions = {}): Uint8Array {
  const out = new Uint8Array(frameHeaderLength(protocol, options) + payload.length);
  const at = writeFrameHeader(out, 0, protocol, options);
  out.set(payload, at);
  return out;
}
