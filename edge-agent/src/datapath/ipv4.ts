/**
 * IPv4 header checks and field accessors for the packet path (RFC 791 §3.1). The hot-path
 * function `checkIpv4Packet` returns a drop reason (an interned string) or undefined and never
 * throws or allocates; `decodeIpv4Header` is the codec form for everything else.
 */
import { readIpv4, writeIpv4 } from './address';
import { internetChecksum, onesComplementSum } from './checksum';

export const IPV4_MIN_HEADER = 20;
export const IP_PROTOCOL_ICMP = 1;
export const IP_PROTOCOL_TCP = 6;
export const IP_PROTOCOL_UDP = 17;

/** Why a packet was dropped by the data path. */
export type DropReason =
  | 'too-short' // fewer than 20 bytes, or shorter than its own header
  | 'not-ipv4' // version nibble is not 4 (e.g. IPv6 the kernel emits on the TUN)
  | 'bad-header-length' // IHL < 5
  | 'bad-total-length' // total length < IHL*4 or > bytes received
  | 'bad-checksum' // header checksum does not verify
  | 'spoofed-source' // source is not the address assigned to the session
  | 'no-route'; // no session owns the destination

/**
 * Validate the IPv4 header of packet[0..length): version, IHL, total length against the bytes
 * received, header checksum. Trailing bytes beyond total length are allowed (link padding);
 * callers that forward should use `ipv4TotalLength`.
 */
export function checkIpv4Packet(packet: Uint8Array, length = packet.length): DropReason | undefined {
  if (length < IPV4_MIN_HEADER || packet.length < length) return 'too-short';
  const b0 = packet[0]!;
  if (b0 >>> 4 !== 4) return 'not-ipv4';
  const headerLength = (b0 & 0x0f) << 2;
  if (headerLength < IPV4_MIN_HEADER) return 'bad-header-length';
  if (headerLength > length) return 'too-short';
  const totalLength = (packet[2]! << 8) | packet[3]!;
  if (totalLength < headerLength || totalLength > length) return 'bad-total-length';
  // A header whose checksum field is right sums to 0xffff (RFC 1071 §1).
  if (onesComplementSum(packet, 0, headerLength) !== 0xffff) return 'bad-checksum';
  return undefined;
}

/** Header length in bytes (IHL * 4). */
export function ipv4HeaderLength(packet: Uint8Array): number {
  return (packet[0]! & 0x0f) << 2;
}

export function ipv4TotalLength(packet: Uint8Array): number {
  return (packet[2]! << 8) | packet[3]!;
}

export function ipv4Protocol(packet: Uint8Array): number {
  return packet[9]!;
}

export function ipv4Source(packet: Uint8Array): number {
  return readIpv4(packet, 12);
}

export function ipv4Destination(packet: Uint8Array): number {
  return readIpv4(packet, 16);
}

/** Fragment offset in 8-byte units; non-zero means the transport header is not in this packet. */
export function ipv4FragmentOffset(packet: Uint8Array): number {
  return ((packet[6]! & 0x1f) << 8) | packet[7]!;
}

/** Recompute and store the header checksum in place. */
export function writeIpv4HeaderChecksum(packet: Uint8Array): void {
  const headerLength = ipv4HeaderLength(packet);
  packet[10] = 0;
  packet[11] = 0;
  const sum = internetChecksum(packet, 0, headerLength);
  packet[10] = sum >>> 8;
  packet[11] = sum & 0xff;
}

/** Decoded IPv4 header (the codec form; allocates, so not for the per-packet path). */
export interface Ipv4Header {
  readonly headerLength: number;
  readonly tos: number;
  readonly totalLength: number;
  readonly identification: number;
  readonly dontFragment: boolean;
  readonly moreFragments: boolean;
  readonly fragmentOffset: number;
  readonly ttl: number;
  readonly protocol: number;
  readonly checksum: number;
  readonly source: number;
  readonly destination: number;
}

export interface Ipv4DecodeError {
  readonly error: DropReason;
}

/** Decode and validate a header; an invalid packet yields `{ error }`, never an exception. */
export function decodeIpv4Header(packet: Uint8Array): Ipv4Header | Ipv4DecodeError {
  const error = checkIpv4Packet(packet);
  if (error) return { error };
  return {
    headerLength: ipv4HeaderLength(packet),
    tos: packet[1]!,
    totalLength: ipv4TotalLength(packet),
    identification: (packet[4]! << 8) | packet[5]!,
    dontFragment: (packet[6]! & 0x40) !== 0,
    moreFragments: (packet[6]! & 0x20) !== 0,
    fragmentOffset: ipv4FragmentOffset(packet),
    ttl: packet[8]!,
    protocol: ipv4Protocol(packet),
    checksum: (packet[10]! << 8) | packet[11]!,
    source: ipv4Source(packet),
    destination: ipv4Destination(packet),
  };
}

export function isIpv4DecodeError(value: Ipv4Header | Ipv4DecodeError): value is Ipv4DecodeError {
  return 'error' in value;
}

export interface Ipv4PacketFields {
  readonly source: number;
  readonly destination: number;
  readonly protocol: number;
  readonly payload: Uint8Array;
  readonly ttl?: number;
  readonly identification?: number;
  readonly dontFragment?: boolean;
}

/** Build a packet with a 20-byte header (no options) and a correct header checksum. */
export function encodeIpv4Packet(fields: Ipv4PacketFields): Buffer {
  const packet = Buffer.alloc(IPV4_MIN_HEADER + fields.payload.length);
  packet[0] = 0x45;
  packet.writeUInt16BE(packet.length, 2);
  packet.writeUInt16BE(fields.identification ?? 0, 4);
  packet[6] = fields.dontFragment ? 0x40 : 0;
  packet[8] = fields.ttl ?? 64;
  packet[9] = fields.protocol;
  writeIpv4(packet, 12, fields.source);
  writeIpv4(packet, 16, fields.destination);
  packet.set(fields.payload, IPV4_MIN_HEADER);
  writeIpv4HeaderChecksum(packet);
  return packet;
}
