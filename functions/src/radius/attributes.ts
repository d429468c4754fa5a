/**
 * Typed attribute values (RFC 2865 §5: text, string, address, integer) and the Vendor-Specific
 * format (RFC 2865 §5.26) that RFC 2548 uses for Microsoft's attributes: Vendor-Id (4 octets), then
 * sub-attributes of Vendor-Type (1), Vendor-Length (1, counting both), Value. Readers return
 * `undefined` for an absent attribute and a `RadiusCodecError` for a malformed one.
 */
import { Attr, MAX_ATTRIBUTE_VALUE } from './constants';
import { RadiusCodecError } from './errors';
import type { RadiusAttribute, RadiusPacket } from './packet';

/** A text attribute (UTF-8, RFC 2865 §5). */
export function textAttribute(type: number, value: string): RadiusAttribute {
  return { type, value: Buffer.from(value, 'utf8') };
}

/** An octet-string attribute. */
export function octetsAttribute(type: number, value: Uint8Array): RadiusAttribute {
  return { type, value: Buffer.from(value) };
}

/** A 32-bit unsigned integer attribute (network order). */
export function integerAttribute(type: number, value: number): RadiusAttribute {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value >>> 0);
  return { type, value: b };
}

/** An IPv4 address attribute from dotted-quad text; `undefined` when the text is not one. */
export function ipv4Attribute(type: number, address: string): RadiusAttribute | undefined {
  const octets = parseIpv4(address);
  return octets ? { type, value: Buffer.from(octets) } : undefined;
}

/** One vendor sub-attribute (RFC 2865 §5.26 suggested format, used by RFC 2548). */
export interface VendorAttribute {
  readonly vendorId: number;
  readonly vendorType: number;
  readonly value: Buffer;
}

/** Wraps one vendor sub-attribute in a Vendor-Specific attribute; an error value when it cannot fit. */
export function vendorAttribute(vendorId: number, vendorType: number, value: Uint8Array): RadiusAttribute | RadiusCodecError {
  if (value.length + 6 > MAX_ATTRIBUTE_VALUE) {
    return new RadiusCodecError('value-too-long', `vendor attribute ${vendorId}/${vendorType} has ${value.length} bytes`, { vendorId, vendorType });
  }
  const b = Buffer.alloc(6 + value.length);
  b.writeUInt32BE(vendorId >>> 0, 0);
  b[4] = vendorType;
  b[5] = value.length + 2;
  Buffer.from(value).copy(b, 6);
  return { type: Attr.VendorSpecific, value: b };
}

/**
 * The sub-attributes of one Vendor-Specific value. One VSA may carry several (RFC 2865 §5.26); a
 * sub-attribute that overruns, or a value shorter than a Vendor-Id, is an error value.
 */
export function decodeVendorAttribute(attr: RadiusAttribute): VendorAttribute[] | RadiusCodecError {
  const v = attr.value;
  if (v.length < 4) return new RadiusCodecError('bad-vendor-attribute', `Vendor-Specific of ${v.length} bytes has no Vendor-Id`);
  const vendorId = v.readUInt32BE(0);
  const out: VendorAttribute[] = [];
  for (let at = 4; at < v.length; ) {
    if (v.length - at < 2) return new RadiusCodecError('bad-vendor-attribute', `vendor ${vendorId}: trailing byte at ${at}`, { vendorId });
    const vendorType = v[at]!;
    const len = v[at + 1]!;
    if (len < 2 || at + len > v.length) {
      return new RadiusCodecError('bad-vendor-attribute', `vendor ${vendorId} type ${vendorType} has length ${len}`, { vendorId, vendorType });
    }
    out.push({ vendorId, vendorType, value: Buffer.from(v.subarray(at + 2, at + len)) });
    at += len;
  }
  return out;
}

/** Every value of `type`, in wire order. */
export function allValues(packet: RadiusPacket, type: number): Buffer[] {
  return packet.attributes.filter((a) => a.type === type).map((a) => a.value);
}

/** The first value of `type`, or undefined. */
export function firstValue(packet: RadiusPacket, type: number): Buffer | undefined {
  return packet.attributes.find((a) => a.type === type)?.value;
}

/** The first vendor sub-attribute of (vendorId, vendorType); malformed VSAs of that vendor are an error value. */
export function findVendorValue(packet: RadiusPacket, vendorId: number, vendorType: number): Buffer | undefined | RadiusCodecError {
  for (const a of packet.attributes) {
    if (a.type !== Attr.VendorSpecific || a.value.length < 4 || a.value.readUInt32BE(0) !== vendorId) continue;
    const subs = decodeVendorAttribute(a);
    if (subs instanceof RadiusCodecError) return subs;
    const hit = subs.find((s) => s.vendorType === vendorType);
    if (hit) return hit.value;
  }
  return undefined;
}

/** Reads an integer attribute; a value that is not 4 bytes is an error value. */
export function readInteger(packet: RadiusPacket, type: number): number | undefined | RadiusCodecError {
  const v = firstValue(packet, type);
  if (v === undefined) return undefined;
  if (v.length !== 4) return new RadiusCodecError('bad-attribute-value', `attribute ${type} is ${v.length} bytes, not 4`, { type });
  return v.readUInt32BE(0);
}

/** Reads an IPv4 address attribute as dotted quad; a value that is not 4 bytes is an error value. */
export function readIpv4(packet: RadiusPacket, type: number): string | undefined | RadiusCodecError {
  const v = firstValue(packet, type);
  if (v === undefined) return undefined;
  if (v.length !== 4) return new RadiusCodecError('bad-attribute-value', `attribute ${type} is ${v.length} bytes, not 4`, { type });
  return `${v[0]}.${v[1]}.${v[2]}.${v[3]}`;
}

/** Reads a text attribute as UTF-8. */
export function readText(packet: RadiusPacket, type: number): string | undefined {
  return firstValue(packet, type)?.toString('utf8');
}

function parseIpv4(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const octets = parts.map((p) => (/^\d{1,3}$/.test(p) ? Number(p) : NaN));
  return octets.every((o) => Number.isInteger(o) && o >= 0 && o <= 255) ? octets : undefined;
}
