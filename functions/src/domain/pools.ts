/**
 * Address pool administration: a pool is a CIDR of one tenant, with the gateway (the agent's end
 * of every PPP link), DNS servers and excluded ranges.
 *
 * Agents are shared by every tenant and keep one route per client address, so pools never overlap
 * anywhere on the fleet (security review, issue 14 finding 1): an address names at most one pool
 * and one session. The check runs against the fleet's pool registry, which the create replaces
 * only if no other pool was created meanwhile. Pools also stay out of reserved space and out of
 * the agents' own networks (finding 2; contract/src/address-policy.ts).
 */
import { AlreadyExistsError, PoolRegistryChangedError } from './store-errors';
import { BrokerError, ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../errors';
import { allPages } from './all-pages';
import type { ServiceContext } from './service-context';
import { overlappingNetwork, poolAddressProblem } from '../../../contract/src/address-policy';
import { cidrContains, formatIpv4, isCidrError, parseCidr, parseIpv4, rangesOverlap } from '../../../contract/src/ipv4';
import { validatePool } from './ip-allocation';
import { holdsAddress } from './ip-allocation/lease-rule';
import { requestDisconnect } from './sessions-service';
import { requireTenant } from './tenants';
import type { AddressRange, Lease, Pool, PoolClaim, PoolRegistry } from './types';

export interface CreatePoolInput {
  readonly poolId: string;
  readonly cidr: string;
  readonly exclude?: readonly AddressRange[];
  readonly dns: readonly string[];
  readonly gateway?: string;
  /** Public address space for this pool: only a fleet-scoped operator may set it. */
  readonly allowPublic?: boolean;
}

export interface CreatePoolOptions {
  /** The caller is a fleet-scoped operator (may allow public space). */
  readonly fleetOperator: boolean;
}

/** Registry changes tolerated while creating one pool before giving up (each is another pool created). */
const REGISTRY_ATTEMPTS = 8;

/**
 * Validates and creates a pool; the gateway defaults to the first host address. Refusals:
 * 400 for a malformed pool or forbidden/public space (`pool-address-not-allowed`), 403 when a tenant
 * key asks for public space, 409 `pool-overlap` (any pool of the fleet) or
 * `pool-overlaps-agent-network`, 409 `pool-exists`.
 */
export async function createPool(
  ctx: Pick<ServiceContext, 'store' | 'clock'>,
  tenantId: string,
  input: CreatePoolInput,
  options: CreatePoolOptions = { fleetOperator: false },
): Promise<Pool> {
  await requireTenant(ctx, tenantId);
  if (input.allowPublic && !options.fleetOperator) {
    throw new ForbiddenError('allowPublic needs a fleet-scoped operator: tenant keys may use private (RFC 1918) and shared (RFC 6598) space only', 'public-pool-forbidden');
  }
  const block = parseCidr(input.cidr);
  const gateway = input.gateway ?? (isCidrError(block) ? '' : formatIpv4(block.network + 1));
  const shape = { poolId: input.poolId, cidr: input.cidr, gateway, exclude: input.exclude ?? [], dns: input.dns };
  const problems = validatePool(shape, await ctx.store.listPools(tenantId));
  const first = problems[0];
  if (first) {
    const message = `${first.field}: ${first.message}`;
    if (first.kind === 'overlap') throw new ConflictError('pool-overlap', message, 'cidr');
    throw new ValidationError(first.field, message);
  }
  const cidr = isCidrError(block) ? input.cidr : `${formatIpv4(block.network)}/${block.prefix}`;
  const addressProblem = poolAddressProblem(cidr, { allowPublic: input.allowPublic === true });
  if (addressProblem) throw new BrokerError('validation', 'pool-address-not-allowed', `cidr: ${addressProblem}`, 'cidr');
  await refuseAgentNetworks(ctx, cidr);

  const pool: Pool = {
    tenantId,
    poolId: input.poolId,
    cidr,
    exclude: (input.exclude ?? []).map((r) => ({ first: r.first, last: r.last })),
    dns: [...input.dns],
    gateway,
    ...(input.allowPublic ? { allowPublic: true } : {}),
    createdAt: ctx.clock.now(),
  };
  for (let attempt = 1; ; attempt++) {
    const registry = await readPoolRegistry(ctx);
    if (registry.pools.some((p) => p.tenantId === tenantId && p.poolId === input.poolId)) {
      throw new ConflictError('pool-exists', `pool ${input.poolId} already exists`, 'poolId');
    }
    const clash = overlappingClaim(cidr, registry.pools);
    if (clash) {
      // Another tenant's pool is not named: a tenant key learns only that the range is taken.
      const whose = clash.tenantId === tenantId ? `pool ${clash.poolId} (${clash.cidr})` : 'a pool of another tenant';
      throw new ConflictError('pool-overlap', `cidr: ${cidr} overlaps ${whose}; pools may not overlap anywhere on the fleet, because agents are shared`, 'cidr');
    }
    try {
      await ctx.store.createPool(pool, registry);
      return pool;
    } catch (error) {
      if (error instanceof AlreadyExistsError) throw new ConflictError('pool-exists', `pool ${input.poolId} already exists`, 'poolId');
      if (!(error instanceof PoolRegistryChangedError) || attempt >= REGISTRY_ATTEMPTS) throw error;
    }
  }
}

/**
 * The fleet's pool registry. Before the first pool is created with it, it is built from every
 * tenant's pools (revision 0), so pools created before the registry existed are checked too.
 */
export async function readPoolRegistry(ctx: Pick<ServiceContext, 'store'>): Promise<PoolRegistry> {
  const stored = await ctx.store.getPoolRegistry();
  if (stored) return stored;
  const tenants = await allPages((page) => ctx.store.listTenants(page));
  const pools: PoolClaim[] = [];
  for (const tenant of tenants) {
    for (const p of await ctx.store.listPools(tenant.tenantId)) pools.push({ tenantId: p.tenantId, poolId: p.poolId, cidr: p.cidr });
  }
  return { revision: 0, pools };
}

/** The first claim whose block shares an address with `cidr`. */
export function overlappingClaim(cidr: string, claims: readonly PoolClaim[]): PoolClaim | undefined {
  const block = parseCidr(cidr);
  if (isCidrError(block)) return undefined;
  return claims.find((claim) => {
    const other = parseCidr(claim.cidr);
    return !isCidrError(other) && rangesOverlap(block.network, block.last, other.network, other.last);
  });
}

/** 409 when the block overlaps a network an agent reported for its host (revoked agents aside). */
async function refuseAgentNetworks(ctx: Pick<ServiceContext, 'store'>, cidr: string): Promise<void> {
  const agents = await allPages((page) => ctx.store.listAgents(page));
  for (const agent of agents) {
    if (agent.revoked || !agent.networks) continue;
    const network = overlappingNetwork(cidr, agent.networks);
    if (network) {
      throw new ConflictError(
        'pool-overlaps-agent-network',
        `cidr: ${cidr} overlaps ${network}, a network of an edge agent's host; client addresses routed there would cut the agent off its own network`,
        'cidr',
      );
    }
  }
}

export async function listPools(ctx: Pick<ServiceContext, 'store'>, tenantId: string): Promise<Pool[]> {
  await requireTenant(ctx, tenantId);
  return ctx.store.listPools(tenantId);
}

export interface UpdatePoolInput {
  readonly cidr?: string;
  readonly gateway?: string;
  readonly exclude?: readonly AddressRange[];
  readonly dns?: readonly string[];
}

/**
 * Changes a pool: DNS servers and excluded ranges at any time (they apply to the next session);
 * the block (and gateway) only when every address leased now stays inside it (409
 * `pool-range-has-leases` naming them otherwise), under the same rules as a new pool: fleet-wide
 * no overlap (the registry claim is replaced in the same transaction), address space, agents'
 * networks. Without a new gateway, the old one is kept when it lies in the new block, else the
 * block's first host.
 */
export async function updatePool(ctx: Pick<ServiceContext, 'store' | 'clock'>, tenantId: string, poolId: string, input: UpdatePoolInput): Promise<Pool> {
  await requireTenant(ctx, tenantId);
  const current = await ctx.store.getPool(tenantId, poolId);
  if (!current) throw new NotFoundError('pool', poolId);
  const cidrInput = input.cidr ?? current.cidr;
  const block = parseCidr(cidrInput);
  const keepGateway = !isCidrError(block) && parseIpv4(current.gateway) !== undefined && cidrContains(block, parseIpv4(current.gateway)!);
  const gateway = input.gateway ?? (keepGateway || isCidrError(block) ? current.gateway : formatIpv4(block.network + 1));
  const shape = { poolId, cidr: cidrInput, gateway, exclude: input.exclude ?? current.exclude, dns: input.dns ?? current.dns };
  const others = (await ctx.store.listPools(tenantId)).filter((p) => p.poolId !== poolId);
  const first = validatePool(shape, others)[0];
  if (first) {
    const message = `${first.field}: ${first.message}`;
    if (first.kind === 'overlap') throw new ConflictError('pool-overlap', message, 'cidr');
    throw new ValidationError(first.field, message);
  }
  const cidr = isCidrError(block) ? cidrInput : `${formatIpv4(block.network)}/${block.prefix}`;
  const moved = cidr !== current.cidr;
  if (moved) {
    const addressProblem = poolAddressProblem(cidr, { allowPublic: current.allowPublic === true });
    if (addressProblem) throw new BrokerError('validation', 'pool-address-not-allowed', `cidr: ${addressProblem}`, 'cidr');
    await refuseAgentNetworks(ctx, cidr);
  }
  const outside = async (p: Pool) => (await heldLeases(ctx, p)).filter((l) => !leaseFits(p, l.ip));
  const next: Pool = { ...current, cidr, gateway, exclude: shape.exclude.map((r) => ({ first: r.first, last: r.last })), dns: [...shape.dns] };
  if (moved || gateway !== current.gateway) {
    const stranded = await outside(next);
    if (stranded.length > 0) {
      const listed = stranded.slice(0, 10).map((l) => l.ip).join(', ');
      throw new ConflictError('pool-range-has-leases', `cidr: ${stranded.length} leased address(es) would lie outside ${cidr} or on its gateway: ${listed}`, 'cidr');
    }
  }
  for (let attempt = 1; ; attempt++) {
    const registry = moved ? await readPoolRegistry(ctx) : undefined;
    if (registry) {
      const clash = overlappingClaim(cidr, registry.pools.filter((p) => !(p.tenantId === tenantId && p.poolId === poolId)));
      if (clash) {
        const whose = clash.tenantId === tenantId ? `pool ${clash.poolId} (${clash.cidr})` : 'a pool of another tenant';
        throw new ConflictError('pool-overlap', `cidr: ${cidr} overlaps ${whose}; pools may not overlap anywhere on the fleet, because agents are shared`, 'cidr');
      }
    }
    try {
      await ctx.store.updatePool(next, registry);
      break;
    } catch (error) {
      if (!(error instanceof PoolRegistryChangedError) || attempt >= REGISTRY_ATTEMPTS) throw error;
    }
  }
  // A start that read the pool before the change (another instance's settings cache) may have
  // leased an address outside the new block meanwhile: that session is ended at once.
  if (moved) for (const lease of await outside(next)) await endLeaseHolder(ctx, lease);
  return next;
}

/**
 * Deletes a pool that holds no lease (409 `pool-in-use` otherwise) and its claim in the fleet's
 * registry, so its block is free for any pool again. Users whose static address lay in it keep it
 * (it fails at their next session until changed).
 */
export async function deletePool(ctx: Pick<ServiceContext, 'store' | 'clock'>, tenantId: string, poolId: string): Promise<Pool> {
  await requireTenant(ctx, tenantId);
  const pool = await ctx.store.getPool(tenantId, poolId);
  if (!pool) throw new NotFoundError('pool', poolId);
  const held = await heldLeases(ctx, pool);
  if (held.length > 0) {
    throw new ConflictError('pool-in-use', `pool ${poolId} has ${held.length} leased address(es); end those sessions first`);
  }
  for (let attempt = 1; ; attempt++) {
    const registry = await readPoolRegistry(ctx);
    try {
      if (!(await ctx.store.deletePool(tenantId, poolId, registry))) throw new NotFoundError('pool', poolId);
      break;
    } catch (error) {
      if (!(error instanceof PoolRegistryChangedError) || attempt >= REGISTRY_ATTEMPTS) throw error;
    }
  }
  // A start that read the pool before the delete (a settings cache) may have leased meanwhile.
  for (const lease of await heldLeases(ctx, pool)) await endLeaseHolder(ctx, lease);
  return pool;
}

/** The leases of a pool that hold their address now (the lease rule). */
async function heldLeases(ctx: Pick<ServiceContext, 'store' | 'clock'>, pool: Pool): Promise<Lease[]> {
  const now = ctx.clock.now();
  return (await ctx.store.listLeases(pool.tenantId, pool.poolId)).filter((l) => holdsAddress(l, now));
}

/** Inside the block and not its network, broadcast or gateway address. */
function leaseFits(pool: Pool, ip: string): boolean {
  const block = parseCidr(pool.cidr);
  const address = parseIpv4(ip);
  if (isCidrError(block) || address === undefined || !cidrContains(block, address)) return false;
  if (ip === pool.gateway) return false;
  return block.prefix > 30 || (address !== block.network && address !== block.last);
}

async function endLeaseHolder(ctx: Pick<ServiceContext, 'store' | 'clock'>, lease: Lease): Promise<void> {
  const session = await ctx.store.getSession(lease.sessionId);
  if (session?.state === 'active') await requestDisconnect(ctx, session);
}
