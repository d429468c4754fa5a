/**
 * Helpers for the orchestration's datagram demultiplexer: which tunnel engine gets a control packet.
 * A new SCCRQ arrives with Tunnel ID 0 (§5.1), and so do its retransmissions: key those on
 * (peer address, peer port, the SCCRQ's Assigned Tunnel ID) so duplicates reach the same engine.
 */
import { ATTR_MESSAGE_TYPE } from './avp-catalog';
import { decodeAvps } from './avp';
import { MessageType } from './constants';
import { L2tpDecodeError } from './errors';
import { decodePacket } from './header';

export type ControlRoute =
  /** For the existing tunnel whose local id is `tunnelId`. */
  | { readonly kind: 'tunnel'; readonly tunnelId: number }
  /** A connection request (Tunnel ID 0): create an LNS engine, unless one exists for this peer tunnel id. */
  | { readonly kind: 'new-tunnel'; readonly peerAssignedTunnelId: number }
  /** Data message: use `decodeDataHeader` instead. */
  | { readonly kind: 'data' };

/** Classify a datagram received on the L2TP port. */
export function routeDatagram(bytes: Uint8Array): ControlRoute | L2tpDecodeError {
  const packet = decodePacket(bytes);
  if (packet instanceof L2tpDecodeError) return packet;
  const { header, payload } = packet;
  if (!header.isControl) return { kind: 'data' };
  if (header.tunnelId !== 0) return { kind: 'tunnel', tunnelId: header.tunnelId };
  const avps = decodeAvps(payload);
  if (avps instanceof L2tpDecodeError) return avps;
  const first = avps[0];
  const isSccrq =
    first !== undefined &&
    first.vendorId === 0 &&
    first.attributeType === ATTR_MESSAGE_TYPE &&
    first.value.length === 2 &&
    first.value[1] === MessageType.SCCRQ &&
    first.value[0] === 0;
  const assigned = avps.find((a) => a.vendorId === 0 && a.attributeType === 9 && a.value.length === 2 && !a.hidden);
  if (!isSccrq || !assigned) {
    return new L2tpDecodeError('missing-required-avp', 'Tunnel ID 0 is only valid on an SCCRQ with an Assigned Tunnel ID', {
      avp: 'Assigned Tunnel ID',
    });
  }
  return { kind: 'new-tunnel', peerAssignedTunnelId: ((assigned.value[0] as number) << 8) | (assigned.value[1] as number) };
}
