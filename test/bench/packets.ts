/** Byte builders for the traffic generators: IPv4/UDP packets and the L2TP data + PPP frames around them. */
import { internetChecksum } from '../../edge-agent/src/datapath/checksum';
import { encodeDataHeaderInto } from '../../edge-agent/src/l2tp';

/** `a.b.c.d` to a uint32 (no validation: the benchmark builds its own addresses). */
export function ipv4(text: string): number {
  return text.split('.').reduce((acc, part) => ((acc << 8) | Number(part)) >>> 0, 0);
}

/** An IPv4/UDP packet of exactly `size` bytes (>= 28), header checksum set, UDP checksum 0 (RFC 768: none). */
export function udpPacket(source: number, destination: number, size: number, port = 9): Buffer {
  const p = Buffer.alloc(size);
  p[0] = 0x45;
  p.writeUInt16BE(size, 2);
  p.writeUInt16BE(0x4000, 6); // DF
  p[8] = 64;
  p[9] = 17;
  p.writeUInt32BE(source, 12);
  p.writeUInt32BE(destination, 16);
  p.writeUInt16BE(internetChecksum(p, 0, 20), 10);
  p.writeUInt16BE(40000, 20);
  p.writeUInt16BE(port, 22);
  p.writeUInt16BE(size - 20, 24);
  return p;
}

/** Uncompressed PPP header for IPv4 (RFC 1661 §6.5/6.6 full form: FF 03 00 21). */
const PPP_IPV4 = Buffer.from([0xff, 0x03, 0x00, 0x21]);

/** L2TP data header (RFC 2661 §3.1, no length, no sequence) + PPP header, in front of `packet`. */
export function l2tpFrame(peerTunnelId: number, peerSessionId: number, packet: Uint8Array): Buffer {
  const out = Buffer.alloc(6 + 4 + packet.length);
  encodeDataHeaderInto(out, 0, peerTunnelId, peerSessionId, 4 + packet.length, false, -1, 0);
  PPP_IPV4.copy(out, 6);
  out.set(packet, 10);
  return out;
}

/** Bytes in front of the IP packet in frames built by `l2tpFrame`. */
export const FRAME_OVERHEAD = 10;
