/**
 * Test-only packet tools for the TUN offload integration test (tun-offload.test.ts and its netns
 * child): an independent Internet checksum (RFC 1071) and IPv4/UDP/TCP verifiers, a builder for
 * the TCP segments the test writes into the TUN as the "client", a parser for the L2TP/PPP frames
 * the data path sends, and deterministic payloads. Deliberately shares no code with the agent's
 * datapath/ modules: a bug there must not be able to hide in its own verifier.
 */

/** One's-complement sum of 16-bit big-endian words (odd tail padded with zero), folded to 16 bits. */
export function sum16(bytes: Uint8Array, start = 0, end = bytes.length, initial = 0): number {
  let s = initial;
  let i = start;
  for (; i + 1 < end; i += 2) s += bytes[i]! * 256 + bytes[i + 1]!;
  if (i < end) s += bytes[i]! * 256;
  while (s > 0xffff) s = (s % 65536) + Math.floor(s / 65536);
  return s;
}

/** Sum of the IPv4 pseudo-header (RFC 793 §3.1, RFC 768) for an L4 segment of `length` bytes. */
function pseudoSum(ip: Uint8Array, protocol: number, length: number): number {
  const pseudo = new Uint8Array(12);
  pseudo.set(ip.subarray(12, 20), 0);
  pseudo[9] = protocol;
  pseudo[10] = length >> 8;
  pseudo[11] = length & 0xff;
  return sum16(pseudo);
}

const u16 = (b: Uint8Array, at: number) => b[at]! * 256 + b[at + 1]!;
const u32 = (b: Uint8Array, at: number) => ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;

export interface Ipv4View {
  readonly headerLength: number;
  readonly totalLength: number;
  readonly id: number;
  readonly protocol: number;
  readonly source: string;
  readonly destination: string;
  readonly l4: Uint8Array;
}

/** The IPv4 header's fields, or a reason it is not a well-formed packet of exactly `ip.length` bytes. */
export function checkIpv4(ip: Uint8Array): Ipv4View | string {
  if (ip.length < 20) return `short IPv4 packet (${ip.length} bytes)`;
  if (ip[0]! >> 4 !== 4) return `IP version ${ip[0]! >> 4}`;
  const headerLength = (ip[0]! & 0x0f) * 4;
  const totalLength = u16(ip, 2);
  if (totalLength !== ip.length) return `IPv4 total length ${totalLength} but the packet has ${ip.length} bytes`;
  if (sum16(ip, 0, headerLength) !== 0xffff) return `bad IPv4 header checksum 0x${u16(ip, 10).toString(16)}`;
  const addr = (at: number) => `${ip[at]}.${ip[at + 1]}.${ip[at + 2]}.${ip[at + 3]}`;
  return { headerLength, totalLength, id: u16(ip, 4), protocol: ip[9]!, source: addr(12), destination: addr(16), l4: ip.subarray(headerLength) };
}

/** Whether the TCP or UDP checksum over pseudo-header + segment verifies (UDP: 0, "none", is a failure). */
export function l4ChecksumValid(ip: Uint8Array): boolean {
  const headerLength = (ip[0]! & 0x0f) * 4;
  const protocol = ip[9]!;
  const l4 = ip.subarray(headerLength);
  if (protocol === 17 && u16(l4, 6) === 0) return false;
  return sum16(l4, 0, l4.length, pseudoSum(ip, protocol, l4.length)) === 0xffff;
}

export interface UdpView {
  readonly sourcePort: number;
  readonly destinationPort: number;
  readonly length: number;
  readonly payload: Uint8Array;
}

export function udpOf(ip: Ipv4View): UdpView {
  return { sourcePort: u16(ip.l4, 0), destinationPort: u16(ip.l4, 2), length: u16(ip.l4, 4), payload: ip.l4.subarray(8) };
}

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_CWR = 0x80;

export interface TcpView {
  readonly sourcePort: number;
  readonly destinationPort: number;
  readonly seq: number;
  readonly ack: number;
  readonly flags: number;
  readonly window: number;
  readonly options: Uint8Array;
  readonly payload: Uint8Array;
}

export function tcpOf(ip: Ipv4View): TcpView {
  const t = ip.l4;
  const offset = (t[12]! >> 4) * 4;
  return {
    sourcePort: u16(t, 0),
    destinationPort: u16(t, 2),
    seq: u32(t, 4),
    ack: u32(t, 8),
    flags: t[13]!,
    window: u16(t, 14),
    options: t.subarray(20, offset),
    payload: t.subarray(offset),
  };
}

/** The option of `kind` with exactly `length` bytes (kind and length included), as its data bytes. */
function findOption(options: Uint8Array, kind: number, length: number): Uint8Array | undefined {
  for (let i = 0; i < options.length; ) {
    const k = options[i]!;
    if (k === 0) return undefined;
    if (k === 1) {
      i++;
      continue;
    }
    const l = options[i + 1] ?? 0;
    if (l < 2) return undefined;
    if (k === kind && l === length) return options.subarray(i + 2, i + l);
    i += l;
  }
  return undefined;
}

/** The MSS option of a SYN (RFC 793 §3.1 kind 2), if any. */
export function mssOption(options: Uint8Array): number | undefined {
  const data = findOption(options, 2, 4);
  return data && u16(data, 0);
}

/** The Timestamps option (RFC 7323 §3, kind 8) as [TSval, TSecr], if any. */
export function timestamps(options: Uint8Array): [number, number] | undefined {
  const data = findOption(options, 8, 10);
  return data && [u32(data, 0), u32(data, 4)];
}

export interface TcpSpec {
  readonly source: readonly number[];
  readonly destination: readonly number[];
  readonly sourcePort: number;
  readonly destinationPort: number;
  readonly seq: number;
  readonly ack: number;
  readonly flags: number;
  readonly window: number;
  /** Option bytes, padded by the caller to a multiple of 4. */
  readonly options?: readonly number[];
  readonly payload?: Uint8Array;
}

/** A complete IPv4/TCP packet with both checksums computed here (what the test's "client" sends). */
export function buildTcp(spec: TcpSpec): Buffer {
  const options = spec.options ?? [];
  const payload = spec.payload ?? new Uint8Array(0);
  const tcpLength = 20 + options.length + payload.length;
  const ip = Buffer.alloc(20 + tcpLength);
  ip[0] = 0x45;
  ip.writeUInt16BE(ip.length, 2);
  ip.writeUInt16BE(0x4000, 6); // DF
  ip[8] = 64;
  ip[9] = 6;
  ip.set(spec.source, 12);
  ip.set(spec.destination, 16);
  ip.writeUInt16BE(0xffff - sum16(ip, 0, 20), 10);
  const t = ip.subarray(20);
  t.writeUInt16BE(spec.sourcePort, 0);
  t.writeUInt16BE(spec.destinationPort, 2);
  t.writeUInt32BE(spec.seq >>> 0, 4);
  t.writeUInt32BE(spec.ack >>> 0, 8);
  t[12] = ((20 + options.length) / 4) << 4;
  t[13] = spec.flags;
  t.writeUInt16BE(spec.window, 14);
  t.set(options, 20);
  t.set(payload, 20 + options.length);
  t.writeUInt16BE(0xffff - sum16(t, 0, t.length, pseudoSum(ip, 6, t.length)), 16);
  return ip;
}

export interface L2tpFrame {
  readonly flags: number;
  readonly tunnelId: number;
  readonly sessionId: number;
  /** Ns/Nr when the S bit is set (RFC 2661 §3.1), else -1. */
  readonly ns: number;
  readonly nr: number;
  /** The PPP header bytes as sent (address/control and protocol). */
  readonly ppp: Uint8Array;
  readonly ip: Uint8Array;
}

/** Parse an L2TP data message carrying uncompressed PPP (ff 03 00 21) around IPv4, or say why not. */
export function parseFrame(frame: Uint8Array): L2tpFrame | string {
  if (frame.length < 6) return 'frame shorter than an L2TP header';
  const flags = u16(frame, 0);
  if ((flags & 0x8000) !== 0) return 'T bit set on a data message';
  if ((flags & 0x000f) !== 2) return `L2TP version ${flags & 0x0f}`;
  let at = 2;
  if (flags & 0x4000) at += 2; // length field
  const tunnelId = u16(frame, at);
  const sessionId = u16(frame, at + 2);
  at += 4;
  let ns = -1;
  let nr = -1;
  if (flags & 0x0800) {
    ns = u16(frame, at);
    nr = u16(frame, at + 2);
    at += 4;
  }
  if (flags & 0x0200) at += 2 + u16(frame, at); // offset size + padding
  const ppp = frame.subarray(at, at + 4);
  if (ppp.length < 4 || ppp[0] !== 0xff || ppp[1] !== 0x03 || ppp[2] !== 0x00 || ppp[3] !== 0x21) return `PPP header ${Buffer.from(ppp).toString('hex')} is not ff03 0021`;
  return { flags, tunnelId, sessionId, ns, nr, ppp, ip: frame.subarray(at + 4) };
}

/** Deterministic pseudo-random bytes (xorshift32): any reordering, loss or duplication changes them. */
export function prng(length: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** The addresses and ports both sides of the test use. */
export const NET = {
  gateway: '10.99.0.1',
  client: '10.99.1.2',
  clientRoute: '10.99.1.0/24',
  /** Route and client of the TUN opened without offloads. */
  plainRoute: '10.99.2.0/24',
  plainClient: '10.99.2.2',
  mtu: 1400,
  /** 1400 - 20 (IPv4) - 20 (TCP): the MSS the kernel offers and the test's SYN-ACK offers back. */
  mss: 1360,
  /** The session's MSS limit: the data path clamps both SYNs to it, so the kernel's TSO cuts at it. */
  sessionMss: 1300,
  udpGsoSize: 1372,
  udpPort: 4500 + 9,
  tcpPort: 5001,
  forwardedTcpPort: 5002,
  /** The veth between the agent's namespace and the server's, for forwarded traffic. */
  forwarder: '10.98.0.1',
  server: '10.98.0.2',
  plainUdpSourcePort: 40001,
} as const;

/** The UDP GSO payload: 40 full segments and a short last one. */
export const UDP_SEGMENTS = { full: 40, last: 500 } as const;
export const udpPayload = () => prng(UDP_SEGMENTS.full * NET.udpGsoSize + UDP_SEGMENTS.last, 0x5eed1);
/** What the TCP client writes. */
export const TCP_BYTES = 256 * 1024;
export const tcpPayload = () => prng(TCP_BYTES, 0x7c9);
export const plainPayload = () => Buffer.from('needs-csum: a small datagram the kernel leaves to the device to checksum');
