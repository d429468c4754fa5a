/** Reads the sessions a tenant's usage over a range needs, and computes it (usage.ts). */
import { ValidationError } from '../errors';
import { allPages } from './all-pages';
import type { ServiceContext } from './service-context';
import { requireTenant } from './tenants';
import type { Session } from './types';
import { MAX_USAGE_RANGE_MS, USAGE_LOOKBACK_MS, usageOf, type TenantUsage } from './usage';

/**
 * Usage of a tenant over [from, to): the sessions that started in the range or up to
 * USAGE_LOOKBACK_MS before it, plus every session still running. 400 for an empty range or one
 * longer than MAX_USAGE_RANGE_MS.
 */
export async function tenantUsage(ctx: Pick<ServiceContext, 'store' | 'clock'>, tenantId: string, from: number, to: number): Promise<TenantUsage> {
  if (to <= from) throw new ValidationError('to', 'to: must be after from');
  if (to - from > MAX_USAGE_RANGE_MS) throw new ValidationError('to', `to: a range covers at most ${MAX_USAGE_RANGE_MS / 86_400_000} days`);
  await requireTenant(ctx, tenantId);
  const recent = await allPages((page) => ctx.store.listSessions({ tenantId, since: from - USAGE_LOOKBACK_MS, until: to }, page), 500);
  const older = await allPages((page) => ctx.store.listSessions({ tenantId, state: 'active', until: from - USAGE_LOOKBACK_MS }, page), 500);
  const byId = new Map<string, Session>();
  for (const s of [...recent, ...older]) byId.set(s.sessionId, s);
  return usageOf([...byId.values()], from, to, ctx.clock.now());
}
