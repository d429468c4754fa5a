/** Test-only byte builders. */
export function hex(s: string): Uint8Array {
  const clean = s.replace(/[^0-9a-fA-F]/g, '');
  if (clean.length % 2) throw new Error(`odd hex: ${s}`);
  return new Uint8Array(Buffer.from(clean, 'hex'));
}
export function toHex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}
export const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

/** One AVP: flags byte (M=0x80,H=0x40), vendor, type, value. */
export function avp(attributeType: number, value: Uint8Array | string, mandatory = true, vendorId = 0): Uint8Array {
  const v = typeof value === 'string' ? hex(value) : value;
  const len = 6 + v.length;
  const out = new Uint8Array(len);
  out[0] = (mandatory ? 0x80 : 0) | (len >> 8);
  out[1] = len & 0xff;
  out[2] = vendorId >> 8;
  out[3] = vendorId & 0xff;
  out[4] = attributeType >> 8;
  out[5] = attributeType & 0xff;
  out.set(v, 6);
  return out;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}
