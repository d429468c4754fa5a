/**
 * Address pool administration: a pool is a CIDR of one tenant, with the gateway (the agent's end
 * of every PPP link), DNS servers and excluded ranges. Pools of a tenant never overlap, so an
 * address names at most one pool.
 */
import { AlreadyExistsError } from '../store/errors';
import { ConflictError, ValidationError } from '../errors';
import type { ServiceContext } from './service-context';
import { formatIpv4, isCidrError, isInPool, parseCidr, validatePool } from './ip-allocation';
import { requireTenant } from './tenants';
import type { AddressRange, Pool } from './types';

export interface CreatePoolInput {
  readonly poolId: string;
  readonly cidr: string;
  readonly exclude?: readonly AddressRange[];
  readonly dns: readonly string[];
  readonly gateway?: string;
}

/** Validates (ip-allocation's validatePool) and creates a pool; the gateway defaults to the first host address. */
export async function createPool(ctx: Pick<ServiceContext, 'store' | 'clock'>, tenantId: string, input: CreatePoolInput): Promise<Pool> {
  await requireTenant(ctx, tenantId);
  const block = parseCidr(input.cidr);
  const gateway = input.gateway ?? (isCidrError(block) ? '' : formatIpv4(block.network + 1));
  const shape = { poolId: input.poolId, cidr: input.cidr, gateway, exclude: input.exclude ?? [], dns: input.dns };
  const others = await ctx.store.listPools(tenantId);
  const problems = validatePool(shape, others);
  const first = problems[0];
  if (first) {
    const message = `${first.field}: ${first.message}`;
    if (first.field === 'cidr' && /overlaps/.test(first.message)) throw new ConflictError('pool-overlap', message, 'cidr');
    throw new ValidationError(first.field, message);
  }
  const pool: Pool = {
    tenantId,
    poolId: input.poolId,
    cidr: isCidrError(block) ? input.cidr : `${formatIpv4(block.network)}/${block.prefix}`,
    exclude: (input.exclude ?? []).map((r) => ({ first: r.first, last: r.last })),
    dns: [...input.dns],
    gateway,
    createdAt: ctx.clock.now(),
  };
  try {
    await ctx.store.createPool(pool);
  } catch (error) {
    if (error instanceof AlreadyExistsError) throw new ConflictError('pool-exists', `pool ${input.poolId} already exists`, 'poolId');
    throw error;
  }
  return pool;
}

export async function listPools(ctx: Pick<ServiceContext, 'store'>, tenantId: string): Promise<Pool[]> {
  await requireTenant(ctx, tenantId);
  return ctx.store.listPools(tenantId);
}

/** True when `ip` is a client address of the pool (inside, not network/broadcast/gateway/excluded). */
export function addressInPool(pool: Pool, ip: string): boolean {
  return isInPool(pool, ip);
}
