/**
 * Where a tenant's RADIUS server may not be. A tenant's own key sets its servers, so without this
 * check a tenant could aim the broker's UDP at the cloud's link-local services (instance metadata,
 * the VPC's DNS and time servers) or at multicast and broadcast groups. Private ranges and loopback
 * stay allowed: a customer's NPS sits behind a VPN in 10/8, and the local stack's FreeRADIUS on
 * 127.0.0.1. Checked twice: on the literal address the API is given, and on what a DNS name
 * resolves to at each exchange (a name can point anywhere, and later change).
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

const REFUSED_V4: readonly (readonly [network: number, prefix: number, why: string])[] = [
  [0x00000000, 8, '"this network" (RFC 1122)'],
  [0xa9fe0000, 16, 'link-local (instance metadata, the VPC DNS and time servers)'],
  [0xe0000000, 4, 'multicast'],
  [0xf0000000, 4, 'reserved or broadcast'],
];

function ipv4ToNumber(address: string): number {
  return address.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

function refusedV4(address: string): string | undefined {
  const n = ipv4ToNumber(address);
  for (const [network, prefix, why] of REFUSED_V4) {
    const size = 2 ** (32 - prefix);
    if (Math.floor(n / size) === Math.floor(network / size)) return why;
  }
  return undefined;
}

function refusedV6(address: string): string | undefined {
  const a = address.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (mapped) return refusedV4(mapped[1]!);
  if (a === '::') return 'the unspecified address';
  if (/^fe[89ab][0-9a-f]:/.test(a)) return 'link-local';
  if (a.startsWith('ff')) return 'multicast';
  if (/^fd00:0*ec2:/.test(a)) return 'link-local (the EC2 metadata and DNS service)';
  return undefined;
}

/** Why `address` (an IP literal) may not be a RADIUS server, or undefined when it may. */
export function refusedRadiusAddress(address: string): string | undefined {
  const family = isIP(address);
  if (family === 4) return refusedV4(address);
  if (family === 6) return refusedV6(address);
  return undefined;
}

export type ResolvedDestination =
  | { readonly ok: true; readonly address: string }
  | { readonly ok: false; readonly outcome: 'unresolvable' | 'forbidden'; readonly detail: string };

/** The address to send to for `host` (a literal or a DNS name), refused when it is one of the ranges above. */
export async function resolveRadiusHost(host: string, resolve: (name: string) => Promise<{ address: string }> = lookup): Promise<ResolvedDestination> {
  let address: string;
  try {
    address = isIP(host) ? host : (await resolve(host)).address;
  } catch {
    return { ok: false, outcome: 'unresolvable', detail: `${host} does not resolve` };
  }
  const why = refusedRadiusAddress(address);
  if (why) return { ok: false, outcome: 'forbidden', detail: `${host} is ${address}: ${why}, never a RADIUS server` };
  return { ok: true, address };
}
