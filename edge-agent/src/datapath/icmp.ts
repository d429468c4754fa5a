/**
 * ICMP echo (RFC 792, type 8 request / type 0 reply) builders and parsers, used by tests and
 * diagnostics to push a ping through the data path and recognise the answer.
 */
import { internetChecksum } from './checksum';
import { checkIpv4Packet, encodeIpv4Packet, ipv4Destination, ipv4HeaderLength, ipv4Protocol, ipv4Source, ipv4TotalLength, IP_PROTOCOL_ICMP } from './ipv4';

export const ICMP_ECHO_REPLY = 0;
export const ICMP_ECHO_REQUEST = 8;

export interface IcmpEchoFields {
  readonly source: number;
  readonly destination: number;
  readonly identifier: number;
  readonly sequence: number;
  readonly payload?: Uint8Array;
  readonly ttl?: number;
}

/** Build a complete IPv4 packet carrying an ICMP echo request (or reply with `type`). */
export function encodeIcmpEcho(fields: IcmpEchoFields, type: number = ICMP_ECHO_REQUEST): Buffer {
  const data = fields.payload ?? new Uint8Array(0);
  const icmp = Buffer.alloc(8 + data.length);
  icmp[0] = type;
  icmp.writeUInt16BE(fields.identifier, 4);
  icmp.writeUInt16BE(fields.sequence, 6);
  icmp.set(data, 8);
  icmp.writeUInt16BE(internetChecksum(icmp, 0, icmp.length), 2);
  return encodeIpv4Packet({
    source: fields.source,
    destination: fields.destination,
    protocol: IP_PROTOCOL_ICMP,
    payload: icmp,
    ...(fields.ttl === undefined ? {} : { ttl: fields.ttl }),
  });
}

export interface IcmpEcho {
  readonly type: number;
  readonly source: number;
  readonly destination: number;
  readonly identifier: number;
  readonly sequence: number;
  readonly payload: Uint8Array;
}

/** Parse an IPv4 ICMP echo request/reply with valid IP and ICMP checksums; otherwise undefined. */
export function decodeIcmpEcho(packet: Uint8Array): IcmpEcho | undefined {
  if (checkIpv4Packet(packet) !== undefined || ipv4Protocol(packet) !== IP_PROTOCOL_ICMP) return undefined;
  const start = ipv4HeaderLength(packet);
  const end = ipv4TotalLength(packet);
  if (end - start < 8) return undefined;
  const type = packet[start]!;
  if ((type !== ICMP_ECHO_REQUEST && type !== ICMP_ECHO_REPLY) || packet[start + 1] !== 0) return undefined;
  if (internetChecksum(packet, start, end) !== 0) return undefined;
  return {
    type,
    source: ipv4Source(packet),
    destination: ipv4Destination(packet),
    identifier: (packet[start + 4]! << 8) | packet[start + 5]!,
    sequence: (packet[start + 6]! << 8) | packet[start + 7]!,
    payload: packet.subarray(start + 8, end),
  };
}

/** Whether `reply` is the echo reply to `request`: swapped addresses, same id, sequence and data. */
export function isEchoReplyTo(reply: Uint8Array, request: Uint8Array): boolean {
  const rep = decodeIcmpEcho(reply);
  const req = decodeIcmpEcho(request);
  if (!rep || !req || rep.type !== ICMP_ECHO_REPLY || req.type !== ICMP_ECHO_REQUEST) return false;
  return (
    rep.source === req.destination &&
    rep.destination === req.source &&
    rep.identifier === req.identifier &&
    rep.sequence === req.sequence &&
    Buffer.compare(rep.payload, req.payload) === 0
  );
}
