/**
 * The TUN's pool routes and gateway addresses: one covering route and the gateway per pool,
 * installed once, when the pool's first session needs it; the sessions of a pool being configured
 * wait for it, and a failure is retried by the pool's next session. Removed at shutdown.
 */
import type { Logger } from 'pino';
import { formatCidr } from '../../../contract/src/ipv4';
import type { LinkConfig, LinkSettings } from '../io/link-config';
import type { PoolRoute } from './pool-route';

export class TunRoutes {
  private readonly routes = new Set<string>();
  private readonly addresses = new Set<string>();
  /** Per pool (route|gateway): resolves true once installed. */
  private readonly ready = new Map<string, Promise<boolean>>();
  /** Configurations run one after another: each sends the whole set. */
  private configuring: Promise<void> = Promise.resolve();
  /** Pool gateways on the TUN (never a client's address). */
  private readonly gatewayAddresses = new Set<number>();

  constructor(
    private readonly link: LinkConfig,
    private readonly tun: { readonly name: string; readonly mtu: number },
    private readonly log: Logger,
  ) {}

  isGateway(address: number): boolean {
    return this.gatewayAddresses.has(address);
  }

  /** True once `pool`'s route and gateway are on the TUN; false when they could not be installed. */
  poolReady(pool: PoolRoute): Promise<boolean> {
    const cidr = formatCidr(pool.block);
    const gateway = `${pool.gateway}/32`;
    if (pool.gatewayAddress !== undefined) this.gatewayAddresses.add(pool.gatewayAddress);
    const key = `${cidr}|${gateway}`;
    const known = this.ready.get(key);
    if (known) return known;
    this.routes.add(cidr);
    this.addresses.add(gateway);
    const settings = this.settings();
    const ready = this.configuring.then(() =>
      this.link.configure(settings).then(
        () => {
          this.log.info({ routes: settings.routes, addresses: settings.addresses }, 'TUN routes installed');
          return true;
        },
        (error) => {
          this.log.error({ err: error instanceof Error ? error.message : String(error) }, 'could not configure the TUN routes');
          this.ready.delete(key);
          this.routes.delete(cidr);
          this.addresses.delete(gateway);
          return false;
        },
      ),
    );
    this.ready.set(key, ready);
    this.configuring = ready.then(() => undefined);
    return ready;
  }

  /** Waits for any configuration under way, then removes every route and address installed. */
  async removeAll(): Promise<void> {
    await this.configuring;
    if (this.routes.size === 0 && this.addresses.size === 0) return;
    await this.link.teardown(this.settings()).catch((error) => this.log.warn({ err: String(error) }, 'route cleanup failed'));
  }

  private settings(): LinkSettings {
    return { name: this.tun.name, mtu: this.tun.mtu, addresses: [...this.addresses], routes: [...this.routes] };
  }
}
