/**
 * Publishes each tenant's `<tenant>.vpn.<domain>` A record in one Route 53 hosted zone, from the
 * plan of dns-records.ts. The Route 53 client is injected as the small structural interface below
 * (the method shape of @aws-sdk/client-route-53's aggregated `Route53` client), so this file
 * imports no SDK and is tested with a fake.
 *
 * What is published is remembered in memory (the warm Lambda container): a cold start UPSERTs
 * every tenant once, which is idempotent. Records of deleted tenants are not removed (rare; an
 * operator deletes them), and a tenant without any placeable agent keeps its last record.
 */
import { allPages } from '../all-pages';
import type { Store } from '../store';
import type { Agent, Tenant } from '../types';
import type { RandomSource } from './choose-agents';
import { planTenantRecords, type TenantRecord } from './dns-records';

/** The subset of @aws-sdk/client-route-53's `Route53` client this publisher uses. */
export interface Route53Api {
  changeResourceRecordSets(input: {
    HostedZoneId: string;
    ChangeBatch: {
      Comment?: string;
      Changes: Array<{
        Action: 'UPSERT';
        ResourceRecordSet: { Name: string; Type: 'A'; TTL: number; ResourceRecords: Array<{ Value: string }> };
      }>;
    };
  }): Promise<unknown>;
}

export interface Route53PublisherOptions {
  readonly client: Route53Api;
  readonly hostedZoneId: string;
  readonly domain: string;
  /** @default 60 */
  readonly ttlSeconds?: number;
  /** @default 2 */
  readonly agentsPerTenant?: number;
  readonly freshnessMs: number;
  readonly random?: RandomSource;
}

export interface PublishResult {
  readonly changed: readonly TenantRecord[];
  readonly unplaced: readonly string[];
}

/** Route 53 accepts at most 1000 changes per batch; stay well under. */
const BATCH = 500;

export class Route53Publisher {
  private published = new Map<string, readonly string[]>();

  constructor(private readonly options: Route53PublisherOptions) {}

  /** Plans against the fleet and tenants in the store and UPSERTs what changed. */
  async publish(store: Pick<Store, 'listTenants'>, agents: readonly Agent[], now: number): Promise<PublishResult> {
    const tenants = await allTenants(store);
    const plan = planTenantRecords(
      tenants.map((t) => t.tenantId),
      agents,
      this.published,
      { domain: this.options.domain, now, freshnessMs: this.options.freshnessMs, agentsPerTenant: this.options.agentsPerTenant ?? 2 },
      this.options.random,
    );
    for (let i = 0; i < plan.changes.length; i += BATCH) {
      const batch = plan.changes.slice(i, i + BATCH);
      await this.options.client.changeResourceRecordSets({
        HostedZoneId: this.options.hostedZoneId,
        ChangeBatch: {
          Comment: 'tunnel-broker autoscaler: tenant VPN endpoints',
          Changes: batch.map((r) => ({
            Action: 'UPSERT',
            ResourceRecordSet: { Name: r.name, Type: 'A', TTL: this.options.ttlSeconds ?? 60, ResourceRecords: r.addresses.map((Value) => ({ Value })) },
          })),
        },
      });
      // Remembered per successful batch: a failed batch is planned (and sent) again next run.
      for (const r of batch) this.published.set(r.tenantId, r.addresses);
    }
    for (const [tenantId, addresses] of plan.records) if (!plan.changes.some((c) => c.tenantId === tenantId)) this.published.set(tenantId, addresses);
    return { changed: plan.changes, unplaced: plan.unplaced };
  }
}

const allTenants = (store: Pick<Store, 'listTenants'>): Promise<Tenant[]> => allPages((page) => store.listTenants(page));
