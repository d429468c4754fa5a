/**
 * The RADIUS types the service context names (kept apart from the modules that use them, so the
 * context imports no domain module back).
 */
import type { BuildRequest, CheckResponseOptions, ExchangeResult, RadiusEndpoint } from '../../radius';

/** Who the broker says it is in Access-Requests (RFC 2865 §5.4, §5.32). */
export interface NasIdentity {
  readonly identifier: string;
  /** NAS-IP-Address, when the operator set one. */
  readonly ipAddress?: string;
}

/** The exchange the domain needs; `RadiusClient` (functions/src/radius/client.ts) is the real one. */
export interface RadiusExchange {
  exchange(servers: readonly RadiusEndpoint[], build: BuildRequest, options?: CheckResponseOptions): Promise<ExchangeResult>;
}
