/**
 * The packet format shared by LCP, the NCPs, PAP and CHAP: Code, Identifier, Length, Data
 * (RFC 1661 §5, RFC 1334 §2.2, RFC 1994 §4), and the option list format of §6 (Type, Length, Data).
 */
import { EMPTY, concatBytes, readU16 } from './bytes';
import { PppDecodeError } from './errors';

export interface ControlPacket {
  readonly code: number;
  readonly identifier: number;
  readonly data: Uint8Array;
}

/** One configuration option kept raw: the codecs for LCP/IPCP interpret `data`. */
export interface PppOption {
  readonly type: number;
  readonly data: Uint8Array;
}

/**
 * RFC 1661 §5: octets beyond Length are padding and ignored; a Length below 4 or beyond the
 * received bytes makes the packet invalid (silently discarded by the caller).
 */
export function decodeControlPacket(buf: Uint8Array): ControlPacket | PppDecodeError {
  if (buf.length < 4) return new PppDecodeError('truncated', `control packet of ${buf.length} bytes`, 0);
  const length = readU16(buf, 2);
  if (length < 4) return new PppDecodeError('bad-length', `control packet Length ${length} < 4`, 2);
  if (length > buf.length) return new PppDecodeError('bad-length', `control packet Length ${length} > ${buf.length} received`, 2);
  return { code: buf[0] ?? 0, identifier: buf[1] ?? 0, data: buf.subarray(4, length) };
}

export function encodeControlPacket(packet: ControlPacket): Uint8Array {
  const length = 4 + packet.data.length;
  const out = new Uint8Array(length);
  out[0] = packet.code;
  out[1] = packet.identifier & 0xff;
  out[2] = (length >>> 8) & 0xff;
  out[3] = length & 0xff;
  out.set(packet.data, 4);
  return out;
}

/** RFC 1661 §6: each option is Type, Length (>= 2, covering type and length), Data. */
export function decodeOptions(buf: Uint8Array): PppOption[] | PppDecodeError {
  const out: PppOption[] = [];
  let at = 0;
  while (at < buf.length) {
    if (at + 2 > buf.length) return new PppDecodeError('truncated', 'option header cut short', at);
    const type = buf[at] ?? 0;
    const length = buf[at + 1] ?? 0;
    if (length < 2) return new PppDecodeError('bad-option', `option ${type} has Length ${length}`, at + 1);
    if (at + length > buf.length) return new PppDecodeError('bad-option', `option ${type} overruns the packet`, at + 1);
    out.push({ type, data: buf.subarray(at + 2, at + length) });
    at += length;
  }
  return out;
}

export function encodeOptions(options: readonly PppOption[]): Uint8Array {
  if (options.length === 0) return EMPTY;
  return concatBytes(options.flatMap((o) => [Uint8Array.of(o.type, o.data.length + 2), o.data]));
}

export function encodeOption(option: PppOption): Uint8Array {
  return encodeOptions([option]);
}
