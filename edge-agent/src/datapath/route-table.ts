/**
 * Which session owns which client address: packets read from the shared TUN are delivered by
 * destination address. A Map keyed by uint32 address (no strings per packet).
 */
import { ipv4Destination } from './ipv4';

/** The minimum the data path needs to hand a packet to a session. */
export interface SessionRoute {
  /** The address IPCP assigned (uint32). */
  readonly address: number;
  /** Slot in the SessionCounters for this session. */
  readonly counterSlot: number;
}

export class RouteTable<R extends SessionRoute = SessionRoute> {
  private readonly routes = new Map<number, R>();

  /**
   * Install a route unless the address is routed already: returns the route that holds it (the
   * caller refuses the newcomer), undefined once installed. A live session is never replaced: with
   * the old replace-on-add, a second session given the same address (two tenants' overlapping
   * pools) took the first one's traffic (security review, issue 14 finding 1).
   */
  add(route: R): R | undefined {
    const holder = this.routes.get(route.address);
    if (holder !== undefined && holder !== route) return holder;
    this.routes.set(route.address, route);
    return undefined;
  }

  /**
   * Remove the route for `address`. With `route`, remove only if that exact route is installed,
   * so that a session that never got the route cannot delete the holder's.
   */
  remove(address: number, route?: R): boolean {
    if (route !== undefined && this.routes.get(address) !== route) return false;
    return this.routes.delete(address);
  }

  lookup(address: number): R | undefined {
    return this.routes.get(address);
  }

  /** Route for a (validated) IPv4 packet's destination. */
  lookupPacket(packet: Uint8Array): R | undefined {
    return this.routes.get(ipv4Destination(packet));
  }

  get size(): number {
    return this.routes.size;
  }

  values(): IterableIterator<R> {
    return this.routes.values();
  }
}
