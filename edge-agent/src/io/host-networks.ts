/**
 * The IPv4 networks of this host's interfaces, which the agent reports at registration so that no
 * client pool is ever routed over them (security review, issue 14 finding 2).
 */
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { formatIpv4, parseIpv4 } from '../datapath/address';

/**
 * Networks (a.b.c.d/n, host bits zero) of every IPv4 address on the given interfaces, without
 * loopback and link-local ones (never pool space anyway) and without the interfaces named in
 * `exclude` (the agent's own TUN, whose routes are the pools themselves). Sorted, no duplicates.
 */
export function interfaceNetworks(
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces(),
  exclude: readonly string[] = [],
): string[] {
  const out = new Set<string>();
  for (const [name, addresses] of Object.entries(interfaces)) {
    if (exclude.includes(name)) continue;
    for (const info of addresses ?? []) {
      if (info.family !== 'IPv4' || info.internal || !info.cidr) continue;
      const address = parseIpv4(info.address);
      const prefix = Number(info.cidr.slice(info.cidr.indexOf('/') + 1));
      if (address === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) continue;
      const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
      const network = (address & mask) >>> 0;
      if (network >>> 16 === 0xa9fe) continue; // 169.254/16
      out.add(`${formatIpv4(network)}/${prefix}`);
    }
  }
  return [...out].sort();
}
