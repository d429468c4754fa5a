/**
 * Ingress checks for packets a client sends over its PPP link before they reach the TUN: a
 * client may only use the address IPCP assigned it (RFC 1332 §3.3), otherwise one tenant could
 * forge traffic as another (BCP 38 source address validation at the edge).
 */
import { checkIpv4Packet, ipv4Source, type DropReason } from './ipv4';

/** Whether the packet's source address equals the session's assigned address. */
export function isSourceAllowed(packet: Uint8Array, assignedAddress: number): boolean {
  return ipv4Source(packet) === assignedAddress;
}

/**
 * Full ingress verdict for packet[0..length) from a client: a valid IPv4 header whose source is
 * `assignedAddress`. Returns undefined to forward, or the drop reason.
 */
export function checkClientPacket(packet: Uint8Array, assignedAddress: number, length = packet.length): DropReason | undefined {
  const invalid = checkIpv4Packet(packet, length);
  if (invalid) return invalid;
  return isSourceAllowed(packet, assignedAddress) ? undefined : 'spoofed-source';
}
