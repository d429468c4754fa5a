/**
 * VICI packets (README "Packet layer"): a 1-byte type, then for named types an 8-bit-length name,
 * then for CMD_REQUEST, CMD_RESPONSE and EVENT the message. The 4-byte length header of the
 * transport layer is added by `encodePacket` and removed by the framer.
 */
import { ViciDecodeError, ViciEncodeError } from './errors';
import { decodeMessage, encodeMessage, encodeName, readName, type ViciMessage } from './message-codec';

export const PacketType = {
  CMD_REQUEST: 0,
  CMD_RESPONSE: 1,
  CMD_UNKNOWN: 2,
  EVENT_REGISTER: 3,
  EVENT_UNREGISTER: 4,
  EVENT_CONFIRM: 5,
  EVENT_UNKNOWN: 6,
  EVENT: 7,
} as const;

/** README "Transport protocol": segments are currently limited to 512KB of data. */
export const MAX_SEGMENT_LENGTH = 512 * 1024;

export type ViciPacket =
  | { readonly type: 'cmd-request'; readonly command: string; readonly message: ViciMessage }
  | { readonly type: 'cmd-response'; readonly message: ViciMessage }
  | { readonly type: 'cmd-unknown' }
  | { readonly type: 'event-register'; readonly event: string }
  | { readonly type: 'event-unregister'; readonly event: string }
  | { readonly type: 'event-confirm' }
  | { readonly type: 'event-unknown' }
  | { readonly type: 'event'; readonly event: string; readonly message: ViciMessage };

/** The payload of a packet (type, name, message), without the transport length. */
export function encodePacketPayload(packet: ViciPacket): Buffer {
  switch (packet.type) {
    case 'cmd-request':
      return Buffer.concat([Buffer.of(PacketType.CMD_REQUEST), encodeName(packet.command), encodeMessage(packet.message)]);
    case 'cmd-response':
      return Buffer.concat([Buffer.of(PacketType.CMD_RESPONSE), encodeMessage(packet.message)]);
    case 'cmd-unknown':
      return Buffer.of(PacketType.CMD_UNKNOWN);
    case 'event-register':
      return Buffer.concat([Buffer.of(PacketType.EVENT_REGISTER), encodeName(packet.event)]);
    case 'event-unregister':
      return Buffer.concat([Buffer.of(PacketType.EVENT_UNREGISTER), encodeName(packet.event)]);
    case 'event-confirm':
      return Buffer.of(PacketType.EVENT_CONFIRM);
    case 'event-unknown':
      return Buffer.of(PacketType.EVENT_UNKNOWN);
    case 'event':
      return Buffer.concat([Buffer.of(PacketType.EVENT), encodeName(packet.event), encodeMessage(packet.message)]);
  }
}

/** A whole transport segment: 4-byte big-endian length + payload. Throws ViciEncodeError above 512KB. */
export function encodePacket(packet: ViciPacket): Buffer {
  const payload = encodePacketPayload(packet);
  if (payload.length > MAX_SEGMENT_LENGTH) {
    throw new ViciEncodeError(`packet of ${payload.length} bytes exceeds the ${MAX_SEGMENT_LENGTH}-byte segment limit`);
  }
  const header = Buffer.alloc(4);
  header.writeUInt32BE(payload.length);
  return Buffer.concat([header, payload]);
}

/** Decodes one segment payload (as produced by the framer). Never throws. */
export function decodePacket(payload: Uint8Array): ViciPacket | ViciDecodeError {
  const buf = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  const type = buf[0];
  if (type === undefined) return new ViciDecodeError('truncated', 'empty packet', 0);
  const named = (): { value: string; next: number } | ViciDecodeError => readName(buf, 1);
  const message = (from: number): ViciMessage | ViciDecodeError => {
    const decoded = decodeMessage(buf.subarray(from));
    if (decoded instanceof ViciDecodeError) {
      return new ViciDecodeError(decoded.code, decoded.message, decoded.offset + from);
    }
    return decoded;
  };
  const bare = <T extends ViciPacket>(p: T): T | ViciDecodeError =>
    buf.length === 1 ? p : new ViciDecodeError('trailing-data', `packet type ${type} carries no data`, 1);
  const onlyName = <T extends ViciPacket>(make: (name: string) => T): T | ViciDecodeError => {
    const name = named();
    if (name instanceof ViciDecodeError) return name;
    if (name.next !== buf.length) return new ViciDecodeError('trailing-data', `packet type ${type} carries only a name`, name.next);
    return make(name.value);
  };
  switch (type) {
    case PacketType.CMD_REQUEST: {
      const name = named();
      if (name instanceof ViciDecodeError) return name;
      const m = message(name.next);
      return m instanceof ViciDecodeError ? m : { type: 'cmd-request', command: name.value, message: m };
    }
    case PacketType.CMD_RESPONSE: {
      const m = message(1);
      return m instanceof ViciDecodeError ? m : { type: 'cmd-response', message: m };
    }
    case PacketType.CMD_UNKNOWN:
      return bare({ type: 'cmd-unknown' });
    case PacketType.EVENT_REGISTER:
      return onlyName((event) => ({ type: 'event-register', event }));
    case PacketType.EVENT_UNREGISTER:
      return onlyName((event) => ({ type: 'event-unregister', event }));
    case PacketType.EVENT_CONFIRM:
      return bare({ type: 'event-confirm' });
    case PacketType.EVENT_UNKNOWN:
      return bare({ type: 'event-unknown' });
    case PacketType.EVENT: {
      const name = named();
      if (name instanceof ViciDecodeError) return name;
      const m = message(name.next);
      return m instanceof ViciDecodeError ? m : { type: 'event', event: name.value, message: m };
    }
    default:
      return new ViciDecodeError('unknown-packet-type', `unknown packet type ${type}`, 0);
  }
}
