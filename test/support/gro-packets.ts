/**
 * IPv4/UDP and IPv4/TCP packets for the GRO tests (issue 21), checksums computed by this file's own
 * 16-bit loop (RFC 1071), never by the code under test; fields overridable to build refusals.
 */
export const CLIENT = '10.8.0.2';
export const SERVER = '203.0.113.5';

export function sum16(bytes: Uint8Array, initial = 0): number {
  let sum = initial;
  for (let i = 0; i < bytes.length; i += 2) sum += (bytes[i]! << 8) | (bytes[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

export function pattern(length: number, seed: number): Buffer {
  const b = Buffer.alloc(length);
  for (let i = 0; i < length; i++) b[i] = (i * 13 + seed * 29) & 0xff;
  return b;
}

export interface Ip {
  id: number;
  tos?: number;
  ttl?: number;
  /** Byte 6 of the header: DF 0x40 by default; MF 0x20. */
  flags?: number;
  fragment?: number;
  options?: number[];
  source?: string;
  destination?: string;
}

/** IPv4 around `l4`, its transport checksum (the field at `checksumAt` of `l4`) computed unless undefined. */
function ipv4(protocol: number, l4: Buffer, ip: Ip, checksumAt: number | undefined): Buffer {
  const options = ip.options ?? [];
  const ihl = 20 + options.length;
  const p = Buffer.alloc(ihl + l4.length);
  p[0] = 0x40 | (ihl / 4);
  p[1] = ip.tos ?? 0;
  p.writeUInt16BE(p.length, 2);
  p.writeUInt16BE(ip.id & 0xffff, 4);
  p[6] = (ip.flags ?? 0x40) | ((ip.fragment ?? 0) >> 8);
  p[7] = (ip.fragment ?? 0) & 0xff;
  p[8] = ip.ttl ?? 64;
  p[9] = protocol;
  p.set(parseIpv4ToBytes(ip.source ?? CLIENT), 12);
  p.set(parseIpv4ToBytes(ip.destination ?? SERVER), 16);
  p.set(options, 20);
  p.writeUInt16BE(~sum16(p.subarray(0, ihl)) & 0xffff, 10);
  p.set(l4, ihl);
  if (checksumAt !== undefined) {
    const pseudo = Buffer.alloc(12);
    p.copy(pseudo, 0, 12, 20);
    pseudo[9] = protocol;
    pseudo.writeUInt16BE(l4.length, 10);
    const c = ~sum16(l4, sum16(pseudo)) & 0xffff;
    p.writeUInt16BE(c === 0 && protocol === 17 ? 0xffff : c, ihl + checksumAt);
  }
  return p;
}

function parseIpv4ToBytes(address: string): number[] {
  return address.split('.').map(Number);
}

export function udp(payload: Buffer, ip: Ip & { sport?: number; dport?: number; noChecksum?: boolean }): Buffer {
  const l4 = Buffer.alloc(8 + payload.length);
  l4.writeUInt16BE(ip.sport ?? 40000, 0);
  l4.writeUInt16BE(ip.dport ?? 9, 2);
  l4.writeUInt16BE(l4.length, 4);
  payload.copy(l4, 8);
  return ipv4(17, l4, ip, ip.noChecksum ? undefined : 6);
}

export const ACK = 0x10;
export const PSH = 0x08;

export function tcp(payload: Buffer, f: Ip & { seq: number; tcpFlags?: number; ack?: number; window?: number; tcpOptions?: number[]; sport?: number; dport?: number }): Buffer {
  const options = f.tcpOptions ?? [];
  const l4 = Buffer.alloc(20 + options.length + payload.length);
  l4.writeUInt16BE(f.sport ?? 51000, 0);
  l4.writeUInt16BE(f.dport ?? 443, 2);
  l4.writeUInt32BE(f.seq >>> 0, 4);
  l4.writeUInt32BE(f.ack ?? 0x01020304, 8);
  l4[12] = ((20 + options.length) / 4) << 4;
  l4[13] = f.tcpFlags ?? ACK;
  l4.writeUInt16BE(f.window ?? 502, 14);
  l4.set(options, 20);
  payload.copy(l4, 20 + options.length);
  return ipv4(6, l4, f, 16);
}

/** UDP datagrams of one flow, ids from `id`, payload sizes as given. */
export function udpRun(sizes: number[], id = 100, over: Partial<Parameters<typeof udp>[1]> = {}): Buffer[] {
  return sizes.map((n, i) => udp(pattern(n, i), { id: id + i, ...over }));
}

/** TCP segments of one flow, contiguous from `seq`. */
export function tcpRun(sizes: number[], seq = 1000, id = 7): Buffer[] {
  let s = seq;
  return sizes.map((n, i) => {
    const p = tcp(pattern(n, i + 50), { id: id + i, seq: s });
    s += n;
    return p;
  });
}

