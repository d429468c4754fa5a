/** Tenant administration. */
import { AlreadyExistsError } from './store-errors';
import { ConflictError, NotFoundError } from '../errors';
import type { ServiceContext } from './service-context';
import { DEFAULT_PASSWORD_POLICY, effectivePolicy } from './password-policy';
import { AUTH_METHODS, type AuthMethod, type Page, type PageRequest, type PasswordPolicy, type Tenant } from './types';

export interface CreateTenantInput {
  readonly tenantId: string;
  readonly name: string;
  readonly authMethods?: readonly AuthMethod[];
  readonly maxSessions?: number;
  readonly maxSessionsPerUser?: number;
  /** Overrides of the default password policy (password-policy.ts). */
  readonly passwordPolicy?: Partial<PasswordPolicy>;
}

/** Creates a tenant; all methods allowed (strongest first) unless narrowed. 409 `tenant-exists` on duplicates. */
export async function createTenant(ctx: Pick<ServiceContext, 'store' | 'clock'>, input: CreateTenantInput): Promise<Tenant> {
  const requested = input.authMethods ?? AUTH_METHODS;
  // Keep the canonical strongest-first order and drop duplicates: the agent offers the first in LCP.
  const authMethods = AUTH_METHODS.filter((m) => requested.includes(m));
  const tenant: Tenant = {
    tenantId: input.tenantId,
    name: input.name,
    authMethods,
    ...(input.maxSessions !== undefined ? { maxSessions: input.maxSessions } : {}),
    ...(input.maxSessionsPerUser !== undefined ? { maxSessionsPerUser: input.maxSessionsPerUser } : {}),
    ...(input.passwordPolicy !== undefined ? { passwordPolicy: { ...DEFAULT_PASSWORD_POLICY, ...input.passwordPolicy } } : {}),
    createdAt: ctx.clock.now(),
  };
  try {
    await ctx.store.createTenant(tenant);
  } catch (error) {
    if (error instanceof AlreadyExistsError) {
      throw new ConflictError('tenant-exists', `tenant ${input.tenantId} already exists`, 'tenantId');
    }
    throw error;
  }
  return tenant;
}

/** The tenant, or NotFoundError. */
export async function requireTenant(ctx: Pick<ServiceContext, 'store'>, tenantId: string): Promise<Tenant> {
  const tenant = await ctx.store.getTenant(tenantId);
  if (!tenant) throw new NotFoundError('tenant', tenantId);
  return tenant;
}

export interface UpdateTenantInput {
  readonly name?: string;
  readonly authMethods?: readonly AuthMethod[];
  /** null removes the limit. */
  readonly maxSessions?: number | null;
  readonly maxSessionsPerUser?: number | null;
  /** Merged over the policy in force. */
  readonly passwordPolicy?: Partial<PasswordPolicy>;
}

/**
 * Changes a tenant's name, auth methods (strongest first, as at creation; they apply from the next
 * authentication), limits (from the next session start; running sessions are not cut) or password
 * policy (from the next password set).
 */
export async function updateTenant(ctx: Pick<ServiceContext, 'store' | 'clock'>, tenantId: string, input: UpdateTenantInput): Promise<Tenant> {
  const current = await requireTenant(ctx, tenantId);
  return ctx.store.updateTenant(tenantId, {
    ...(input.name !== undefined ? { name: input.name } : {}),
    ...(input.authMethods !== undefined ? { authMethods: AUTH_METHODS.filter((m) => input.authMethods!.includes(m)) } : {}),
    ...(input.maxSessions !== undefined ? { maxSessions: input.maxSessions } : {}),
    ...(input.maxSessionsPerUser !== undefined ? { maxSessionsPerUser: input.maxSessionsPerUser } : {}),
    ...(input.passwordPolicy !== undefined ? { passwordPolicy: { ...effectivePolicy(current.passwordPolicy), ...input.passwordPolicy } } : {}),
    updatedAt: ctx.clock.now(),
  });
}

/** Tenants a caller may see: every tenant for the fleet, its own for a tenant key. */
export async function listTenants(ctx: Pick<ServiceContext, 'store'>, scope: { readonly tenantId?: string }, page: PageRequest): Promise<Page<Tenant>> {
  if (scope.tenantId === undefined) return ctx.store.listTenants(page);
  const own = await ctx.store.getTenant(scope.tenantId);
  return { items: own ? [own] : [] };
}
