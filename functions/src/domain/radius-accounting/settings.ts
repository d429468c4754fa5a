/**
 * A tenant's RADIUS accounting settings: its servers (shared secrets sealed with the secret box,
 * bound to the tenant so a blob cannot be moved to another one) and the interim interval.
 * Operators see whether a secret is set, never its value.
 */
import { PADDED_SECRET_BYTES } from '../ppp-auth';
import type { ServiceContext } from '../service-context';
import { requireTenant } from '../tenants';
import type { AccountingServer, Tenant, TenantAccounting } from '../types';

/** RFC 2869 §5.16: an interim interval SHOULD NOT be below 60 s. */
export const MIN_INTERIM_INTERVAL_SECONDS = 60;
export const MAX_INTERIM_INTERVAL_SECONDS = 86_400;
export const DEFAULT_INTERIM_INTERVAL_SECONDS = 300;
/** The RADIUS accounting port (RFC 2866 §3). */
export const DEFAULT_ACCOUNTING_PORT = 1813;
export const MAX_ACCOUNTING_SERVERS = 4;

/** One accounting server as the sender's transport uses it (secret unsealed). */
export interface AccountingServerEndpoint {
  readonly host: string;
  readonly port: number;
  readonly secret: Uint8Array;
}

const secretContext = (tenantId: string) => `radius-accounting:${tenantId}`;

export interface PutAccountingInput {
  readonly servers: readonly { readonly host: string; readonly port?: number; readonly secret: string }[];
  readonly interimIntervalSeconds?: number;
}

/** Replaces the tenant's accounting settings (sessions started from now on are accounted with them). */
export async function putTenantAccounting(
  ctx: Pick<ServiceContext, 'store' | 'clock' | 'secretBox'>,
  tenantId: string,
  input: PutAccountingInput,
): Promise<Tenant> {
  const now = ctx.clock.now();
  const servers: AccountingServer[] = input.servers.map((s) => ({
    host: s.host,
    port: s.port ?? DEFAULT_ACCOUNTING_PORT,
    secret: ctx.secretBox.encrypt(s.secret, secretContext(tenantId), { padTo: PADDED_SECRET_BYTES }),
  }));
  const accounting: TenantAccounting = {
    servers,
    interimIntervalSeconds: input.interimIntervalSeconds ?? DEFAULT_INTERIM_INTERVAL_SECONDS,
    updatedAt: now,
  };
  return ctx.store.setTenantAccounting(tenantId, accounting, now);
}

/**
 * Turns accounting off: no session gets records from now on, and records still waiting are
 * dropped by the sender (there is no server left to send them to).
 */
export async function deleteTenantAccounting(ctx: Pick<ServiceContext, 'store' | 'clock'>, tenantId: string): Promise<Tenant> {
  return ctx.store.setTenantAccounting(tenantId, null, ctx.clock.now());
}

/** The tenant's settings (NotFound for an unknown tenant; undefined when accounting is off). */
export async function getTenantAccounting(ctx: Pick<ServiceContext, 'store'>, tenantId: string): Promise<TenantAccounting | undefined> {
  return (await requireTenant(ctx, tenantId)).accounting;
}

/** The servers with their secrets unsealed, for the sender only. */
export function openAccountingServers(
  ctx: Pick<ServiceContext, 'secretBox'>,
  tenantId: string,
  accounting: TenantAccounting,
): AccountingServerEndpoint[] {
  return accounting.servers.map((s) => ({ host: s.host, port: s.port, secret: ctx.secretBox.decrypt(s.secret, secretContext(tenantId)) }));
}
