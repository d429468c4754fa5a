/**
 * Deleting a tenant: everything it owns goes first (sessions through their agents, users, API keys,
 * pools), so it has a module of its own above tenants, pools and sessions.
 */
import { ConflictError } from '../errors';
import { allPages } from './all-pages';
import { deletePool } from './pools';
import type { ServiceContext } from './service-context';
import { disconnectActive } from './sessions-service';
import { requireTenant } from './tenants';

export type DeleteTenantResult =
  | { readonly deleted: true }
  | { readonly deleted: false; readonly activeSessions: number; readonly pools: number };

/**
 * Deletes a tenant. Refused (409 `tenant-not-empty`) while it has pools or active sessions, unless
 * `cascade`: then its sessions are ended (`tenant-deleted`, through the agents as every disconnect),
 * its users deleted and its API keys revoked at once, and its pools deleted once they hold no lease.
 * Until the agents have confirmed every session's end the answer is `deleted: false` with what
 * remains (the route's 202), and the same DELETE is repeated; the tenant goes when nothing remains.
 * Stopped session records are kept (usage, history).
 */
export async function deleteTenant(ctx: Pick<ServiceContext, 'store' | 'clock'>, tenantId: string, options: { readonly cascade: boolean }): Promise<DeleteTenantResult> {
  await requireTenant(ctx, tenantId);
  const active = await ctx.store.listSessions({ tenantId, state: 'active' }, { limit: 1 });
  const pools = await ctx.store.listPools(tenantId);
  if (!options.cascade && (active.items.length > 0 || pools.length > 0)) {
    throw new ConflictError('tenant-not-empty', `tenant ${tenantId} has ${pools.length} pool(s)${active.items.length > 0 ? ' and active sessions' : ''}; delete them first, or repeat with cascade=true`);
  }
  await disconnectActive(ctx, { tenantId }, 'tenant-deleted');
  for (const user of await allPages((page) => ctx.store.listUsers(tenantId, page))) await ctx.store.deleteUser(tenantId, user.username);
  for (const key of await allPages((page) => ctx.store.listApiKeys({ tenantId }, page))) if (!key.revoked) await ctx.store.revokeApiKey(key.keyId);
  let poolsLeft = 0;
  for (const pool of pools) {
    try {
      await deletePool(ctx, tenantId, pool.poolId);
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      poolsLeft++;
    }
  }
  const activeSessions = (await allPages((page) => ctx.store.listSessions({ tenantId, state: 'active' }, page))).length;
  if (activeSessions > 0 || poolsLeft > 0) return { deleted: false, activeSessions, pools: poolsLeft };
  await ctx.store.deleteTenant(tenantId);
  return { deleted: true };
}
