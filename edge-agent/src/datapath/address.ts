/**
 * IPv4 addresses as unsigned 32-bit numbers (host order value of the network-order bytes), the
 * form the data path keys its tables by: no strings per packet.
 */

// Parsing and formatting are the broker's (one strict definition for pools and packets).
import { formatIpv4, parseIpv4 } from '../../../contract/src/ipv4';

export { formatIpv4, parseIpv4 };

/** Read a big-endian uint32 address at `offset` (no bounds check: callers validated the header). */
export function readIpv4(buf: Uint8Array, offset: number): number {
  return ((buf[offset]! << 24) | (buf[offset + 1]! << 16) | (buf[offset + 2]! << 8) | buf[offset + 3]!) >>> 0;
}

/** Write a uint32 address big-endian at `offset`. */
export function writeIpv4(buf: Uint8Array, offset: number, value: number): void {
  buf[offset] = value >>> 24;
  buf[offset + 1] = (value >>> 16) & 0xff;
  buf[offset + 2] = (value >>> 8) & 0xff;
  buf[offset + 3] = value & 0xff;
}

export interface Ipv4Cidr {
  readonly network: number;
  readonly prefixLength: number;
  /** Network mask as uint32. */
  readonly mask: number;
}

/** Parse `a.b.c.d/n`; the address is masked to its network. Undefined when malformed. */
export function parseIpv4Cidr(text: string): Ipv4Cidr | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const address = parseIpv4(text.slice(0, slash));
  const lengthText = text.slice(slash + 1);
  if (address === undefined || !/^\d{1,2}$/.test(lengthText)) return undefined;
  const prefixLength = Number(lengthText);
  if (prefixLength > 32) return undefined;
  const mask = prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
  return { network: (address & mask) >>> 0, prefixLength, mask };
}

/** Whether `address` lies in `cidr`. */
export function ipv4InCidr(address: number, cidr: Ipv4Cidr): boolean {
  return ((address & cidr.mask) >>> 0) === cidr.network;
}
