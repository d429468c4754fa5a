/** Test-only: hex with spaces to bytes, and back. */
export function hex(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, '');
  return Uint8Array.from(clean.match(/../g) ?? [], (b) => parseInt(b, 16));
}
export function toHex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}
export function ascii(s: string): string {
  return Buffer.from(s, 'latin1').toString('hex');
}
