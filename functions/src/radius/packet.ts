/**
 * The RADIUS packet format (RFC 2865 §3, §5): Code, Identifier, Length, a 16-byte Authenticator,
 * then Type-Length-Value attributes. Pure: bytes in, a packet or a `RadiusCodecError` out, and the
 * reverse. Attribute values stay raw bytes here; attributes.ts reads and builds typed values.
 */
import { AUTHENTICATOR_LENGTH, HEADER_LENGTH, MAX_ATTRIBUTE_VALUE, MAX_PACKET_LENGTH, MIN_PACKET_LENGTH } from './constants';
import { RadiusCodecError } from './errors';

/** One attribute as on the wire: its Type and its Value (without Type and Length octets). */
export interface RadiusAttribute {
  readonly type: number;
  readonly value: Buffer;
}

/** A decoded packet. `attributes` keeps wire order (RFC 2865 §5: order matters for same-type attributes). */
export interface RadiusPacket {
  readonly code: number;
  readonly identifier: number;
  readonly authenticator: Buffer;
  readonly attributes: readonly RadiusAttribute[];
}

/**
 * Decodes one datagram. Octets past the Length field are padding and ignored (RFC 2865 §3); a
 * datagram shorter than its Length, a Length outside 20..4096, or an attribute that overruns the
 * packet is an error value. Values are copied, so a reused receive buffer cannot change them.
 */
export function decodePacket(bytes: Uint8Array): RadiusPacket | RadiusCodecError {
  if (bytes.length < HEADER_LENGTH) {
    return new RadiusCodecError('truncated', `${bytes.length} bytes cannot hold a RADIUS header`, { got: bytes.length });
  }
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = buf.readUInt16BE(2);
  if (length < MIN_PACKET_LENGTH || length > MAX_PACKET_LENGTH) {
    return new RadiusCodecError('bad-length', `Length ${length} is outside ${MIN_PACKET_LENGTH}..${MAX_PACKET_LENGTH}`, { length });
  }
  if (length > buf.length) {
    return new RadiusCodecError('truncated', `Length ${length} but only ${buf.length} bytes received`, { length, got: buf.length });
  }
  const attributes: RadiusAttribute[] = [];
  let at = HEADER_LENGTH;
  while (at < length) {
    if (length - at < 2) {
      return new RadiusCodecError('bad-attribute-length', `${length - at} trailing byte cannot hold an attribute header`, { at });
    }
    const type = buf[at]!;
    const attrLength = buf[at + 1]!;
    if (attrLength < 2 || at + attrLength > length) {
      return new RadiusCodecError('bad-attribute-length', `attribute ${type} has length ${attrLength} at offset ${at}`, { at, type, attrLength });
    }
    attributes.push({ type, value: Buffer.from(buf.subarray(at + 2, at + attrLength)) });
    at += attrLength;
  }
  return {
    code: buf[0]!,
    identifier: buf[1]!,
    authenticator: Buffer.from(buf.subarray(4, 4 + AUTHENTICATOR_LENGTH)),
    attributes,
  };
}

/**
 * Encodes a packet as it is (the authenticator is written as given: the callers in request.ts and
 * response.ts compute it). A value over 253 bytes or a packet over 4096 is an error value.
 */
export function encodePacket(packet: RadiusPacket): Buffer | RadiusCodecError {
  if (!Number.isInteger(packet.code) || packet.code < 0 || packet.code > 255) {
    return new RadiusCodecError('bad-attribute-value', `code ${packet.code} is not an octet`);
  }
  if (!Number.isInteger(packet.identifier) || packet.identifier < 0 || packet.identifier > 255) {
    return new RadiusCodecError('bad-attribute-value', `identifier ${packet.identifier} is not an octet`);
  }
  if (packet.authenticator.length !== AUTHENTICATOR_LENGTH) {
    return new RadiusCodecError('bad-attribute-value', `authenticator has ${packet.authenticator.length} bytes, not 16`);
  }
  let length = HEADER_LENGTH;
  for (const a of packet.attributes) {
    if (!Number.isInteger(a.type) || a.type < 1 || a.type > 255) {
      return new RadiusCodecError('bad-attribute-value', `attribute type ${a.type} is not 1..255`, { type: a.type });
    }
    if (a.value.length > MAX_ATTRIBUTE_VALUE) {
      return new RadiusCodecError('value-too-long', `attribute ${a.type} has ${a.value.length} bytes, at most ${MAX_ATTRIBUTE_VALUE}`, {
        type: a.type,
        length: a.value.length,
      });
    }
    length += 2 + a.value.length;
  }
  if (length > MAX_PACKET_LENGTH) {
    return new RadiusCodecError('packet-too-long', `packet of ${length} bytes exceeds ${MAX_PACKET_LENGTH}`, { length });
  }
  const out = Buffer.alloc(length);
  out[0] = packet.code;
  out[1] = packet.identifier;
  out.writeUInt16BE(length, 2);
  packet.authenticator.copy(out, 4);
  let at = HEADER_LENGTH;
  for (const a of packet.attributes) {
    out[at] = a.type;
    out[at + 1] = a.value.length + 2;
    a.value.copy(out, at + 2);
    at += 2 + a.value.length;
  }
  return out;
}

/** Byte offsets of each attribute's value in an encoded packet (for patching Message-Authenticator). */
export function attributeValueOffsets(bytes: Buffer): { type: number; offset: number; length: number }[] {
  const length = Math.min(bytes.length, bytes.readUInt16BE(2));
  const out: { type: number; offset: number; length: number }[] = [];
  for (let at = HEADER_LENGTH; at + 2 <= length; ) {
    const attrLength = bytes[at + 1]!;
    if (attrLength < 2) break;
    out.push({ type: bytes[at]!, offset: at + 2, length: attrLength - 2 });
    at += attrLength;
  }
  return out;
}
