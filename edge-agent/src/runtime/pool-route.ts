/**
 * The pool a session's address comes from, as the agent routes it: read once from the broker's
 * start reply. The broker hands over the block it parsed (`block`); a broker from before that sends
 * only the text (`cidr`), and one older still neither (the address alone is routed then).
 */
import type { StartedSession } from '../broker/broker-client';
import { cidrOf, isCidrError, type Cidr } from '../../../contract/src/ipv4';
import { parseIpv4, parseIpv4Cidr } from '../datapath';

export interface PoolRoute {
  /** Routed into the TUN once per pool. */
  readonly block: Cidr;
  /** The pool's gateway as the reply names it: the agent's end of every PPP link, on the TUN. */
  readonly gateway: string;
  /** `gateway` as a number; undefined when the reply's text is no address. */
  readonly gatewayAddress: number | undefined;
}

/** The route for `address` given in `started`. */
export function poolRouteOf(started: Pick<StartedSession, 'block' | 'cidr' | 'gateway'>, address: number): PoolRoute {
  return { block: blockOf(started, address), gateway: started.gateway, gatewayAddress: parseIpv4(started.gateway) };
}

function blockOf(started: Pick<StartedSession, 'block' | 'cidr'>, address: number): Cidr {
  const network = started.block ? parseIpv4(started.block.network) : undefined;
  const given = network !== undefined && started.block ? cidrOf(network, started.block.prefixLength) : undefined;
  if (given && !isCidrError(given)) return given;
  const legacy = started.cidr ? parseIpv4Cidr(started.cidr) : undefined;
  const fallback = legacy ? cidrOf(legacy.network, legacy.prefixLength) : undefined;
  if (fallback && !isCidrError(fallback)) return fallback;
  return hostBlock(address);
}

/** The /32 of one address. */
export function hostBlock(address: number): Cidr {
  return { network: address, prefix: 32, last: address, size: 1 };
}
