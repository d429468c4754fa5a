/**
 * Which live session holds each client address on this agent (security review, issue 14): an
 * address belongs to at most one live session, and no client route may cover this host's own
 * networks or reserved space (a static 169.254.169.254 once made the agent route the instance
 * metadata service into the TUN). Never evicts a holder.
 */
import { poolBlockedOnAgent } from '../../../contract/src/address-policy';
import { formatIpv4 } from '../datapath';
import { hostBlock, type PoolRoute } from './pool-route';

interface Holder {
  readonly ended: boolean;
}

export class AddressClaims<S extends Holder> {
  private readonly holders = new Map<number, S>();

  constructor(
    private readonly hostNetworks: readonly string[],
    private readonly isGateway: (address: number) => boolean,
  ) {}

  /** Claims `address` for `session`, or says why it may not have it. */
  claim(session: S, address: number, pool: PoolRoute): string | undefined {
    const ip = formatIpv4(address);
    const gateway = pool.gatewayAddress;
    const blocked =
      poolBlockedOnAgent(pool.block, this.hostNetworks) ??
      poolBlockedOnAgent(hostBlock(address), this.hostNetworks) ??
      (gateway === undefined ? undefined : poolBlockedOnAgent(hostBlock(gateway), this.hostNetworks));
    if (blocked !== undefined) return blocked;
    const holder = this.holders.get(address);
    if (holder !== undefined && holder !== session && !holder.ended) return `${ip} is already the address of a live session on this agent`;
    if (this.isGateway(address)) return `${ip} is a pool gateway on this agent`;
    if (gateway !== undefined && this.holders.get(gateway)?.ended === false) return `the pool gateway ${pool.gateway} is the address of a live session on this agent`;
    this.holders.set(address, session);
    return undefined;
  }

  release(session: S, address: number): void {
    if (this.holders.get(address) === session) this.holders.delete(address);
  }
}
