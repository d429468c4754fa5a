/**
 * Pure IPv4 arithmetic on unsigned 32-bit numbers. Parsers return undefined for bad input
 * instead of throwing, so callers can turn it into a message about the offending field.
 */

/** Dotted quad to number. Strict: four decimal octets 0-255, no leading zeros (no octal ambiguity). */
export function parseIpv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

/** Number to dotted quad. */
export function formatIpv4(value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 0xff}.${(value >>> 8) & 0xff}.${value & 0xff}`;
}

export interface Cidr {
  /** First address (network address). */
  readonly network: number;
  readonly prefix: number;
  /** Last address (broadcast address for prefixes up to /30). */
  readonly last: number;
  readonly size: number;
}

export type CidrError = { readonly error: string };

/** Parses `a.b.c.d/n`; host bits must be zero so that the text means one unambiguous block. */
export function parseCidr(text: string): Cidr | CidrError {
  const match = /^([^/]+)\/(\d{1,2})$/.exec(text);
  if (!match) return { error: `"${text}" is not in a.b.c.d/prefix form` };
  const address = parseIpv4(match[1]!);
  const prefix = Number(match[2]);
  if (address === undefined) return { error: `"${match[1]}" is not a valid IPv4 address` };
  if (prefix > 32) return { error: `prefix /${prefix} is larger than 32` };
  return blockAt(address, prefix) ?? { error: `"${text}" has host bits set; the block is ${formatIpv4(address - (address % 2 ** (32 - prefix)))}/${prefix}` };
}

/** The block `/prefix` at `network`, given as numbers (a structured value, not text); host bits must be zero. */
export function cidrOf(network: number, prefix: number): Cidr | CidrError {
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > 32) return { error: `prefix /${prefix} is not 0-32` };
  if (!Number.isInteger(network) || network < 0 || network > 0xffffffff) return { error: `${network} is no IPv4 address` };
  return blockAt(network, prefix) ?? { error: `${formatIpv4(network)}/${prefix} has host bits set` };
}

/** The block, or undefined when `network` has host bits set. */
function blockAt(network: number, prefix: number): Cidr | undefined {
  const size = 2 ** (32 - prefix);
  return network % size === 0 ? { network, prefix, last: network + size - 1, size } : undefined;
}

/** A block as `a.b.c.d/n`. */
export function formatCidr(cidr: Pick<Cidr, 'network' | 'prefix'>): string {
  return `${formatIpv4(cidr.network)}/${cidr.prefix}`;
}

export function isCidrError(value: Cidr | CidrError): value is CidrError {
  return 'error' in value;
}

export function cidrContains(cidr: Cidr, address: number): boolean {
  return address >= cidr.network && address <= cidr.last;
}

/** Inclusive ranges [a1,a2] and [b1,b2] share at least one address. */
export function rangesOverlap(a1: number, a2: number, b1: number, b2: number): boolean {
  return a1 <= b2 && b1 <= a2;
}
