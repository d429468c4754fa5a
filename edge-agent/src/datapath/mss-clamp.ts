/**
 * TCP MSS clamping (the effect of iptables TCPMSS --clamp-mss-to-pmtu): PPP over L2TP over IPsec
 * leaves a smaller MTU than Ethernet, and ICMP "fragmentation needed" is often filtered, so SYN
 * and SYN-ACK segments in both directions get their MSS option (RFC 9293 §3.7.1, kind 2, length 4)
 * lowered to at most `mtu - 40` (20 bytes IPv4 + 20 bytes TCP header). The TCP checksum is patched
 * incrementally (RFC 1624) instead of recomputed over the segment and pseudo-header.
 */
import { updateChecksum16 } from './checksum';
import { ipv4FragmentOffset, ipv4HeaderLength, ipv4Protocol, ipv4TotalLength, IP_PROTOCOL_TCP } from './ipv4';

const TCP_FLAG_SYN = 0x02;
const TCP_OPTION_END = 0;
const TCP_OPTION_NOP = 1;
const TCP_OPTION_MSS = 2;

/** The MSS that fits an IPv4 MTU without options. */
export function mssForMtu(mtu: number): number {
  return mtu - 40;
}

/**
 * If `packet` (a validated IPv4 packet) is a TCP SYN whose MSS option exceeds `maxMss`, rewrite
 * it in place and fix the TCP checksum. Returns true when the packet changed. Malformed TCP
 * headers or options are left untouched (the receiver will judge them).
 */
export function clampTcpMss(packet: Uint8Array, maxMss: number): boolean {
  if (ipv4Protocol(packet) !== IP_PROTOCOL_TCP || ipv4FragmentOffset(packet) !== 0) return false;
  const tcp = ipv4HeaderLength(packet);
  const end = Math.min(ipv4TotalLength(packet), packet.length);
  if (end - tcp < 20) return false;
  if ((packet[tcp + 13]! & TCP_FLAG_SYN) === 0) return false;
  const optionsEnd = tcp + ((packet[tcp + 12]! >>> 4) << 2);
  if (optionsEnd > end || optionsEnd < tcp + 20) return false;
  let i = tcp + 20;
  while (i < optionsEnd) {
    const kind = packet[i]!;
    if (kind === TCP_OPTION_END) return false;
    if (kind === TCP_OPTION_NOP) {
      i++;
      continue;
    }
    if (i + 1 >= optionsEnd) return false;
    const length = packet[i + 1]!;
    if (length < 2 || i + length > optionsEnd) return false;
    if (kind === TCP_OPTION_MSS && length === 4) {
      const at = i + 2;
      const mss = (packet[at]! << 8) | packet[at + 1]!;
      if (mss <= maxMss) return false;
      const checksum = (packet[tcp + 16]! << 8) | packet[tcp + 17]!;
      // The checksum sums 16-bit words aligned to the TCP header start. A field at an odd offset
      // (after a single NOP) straddles two words; by RFC 1071 §2(B) byte-order independence its
      // contribution is the byte-swapped value, so update with swapped old and new words.
      const odd = ((at - tcp) & 1) === 1;
      const updated = odd ? updateChecksum16(checksum, swap16(mss), swap16(maxMss)) : updateChecksum16(checksum, mss, maxMss);
      packet[at] = maxMss >>> 8;
      packet[at + 1] = maxMss & 0xff;
      packet[tcp + 16] = updated >>> 8;
      packet[tcp + 17] = updated & 0xff;
      return true;
    }
    i += length;
  }
  return false;
}

function swap16(value: number): number {
  return ((value & 0xff) << 8) | (value >>> 8);
}
