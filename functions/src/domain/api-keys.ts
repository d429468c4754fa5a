/** Operator API keys: `tbk_<keyId>_<secret>`, fleet-wide or bound to one tenant. */
import { NotFoundError, UnauthorizedError, ValidationError } from '../errors';
import { issueToken, newId, parseToken, secretMatches } from './bearer-tokens';
import type { ServiceContext } from './service-context';
import { requireTenant } from './tenants';
import type { ApiKey, ApiKeyScope, Page, PageRequest } from './types';

export interface CreateApiKeyInput {
  readonly scope: ApiKeyScope;
  readonly tenantId?: string;
  readonly name: string;
  /** Refused from then on (epoch ms); must lie in the future. */
  readonly validUntil?: number;
}

/** Creates a key; for tenant scope the tenant must exist. The clear token is returned once. */
export async function createApiKey(
  ctx: Pick<ServiceContext, 'store' | 'clock' | 'random'>,
  input: CreateApiKeyInput,
): Promise<{ key: ApiKey; token: string }> {
  if (input.scope === 'tenant') await requireTenant(ctx, input.tenantId!);
  if (input.validUntil !== undefined && input.validUntil <= ctx.clock.now()) throw new ValidationError('expiresAt', 'expiresAt: must lie in the future');
  const keyId = newId(ctx.random);
  const { token, secretHash } = issueToken('api-key', keyId, ctx.random);
  const key: ApiKey = {
    keyId,
    scope: input.scope,
    ...(input.scope === 'tenant' ? { tenantId: input.tenantId } : {}),
    name: input.name,
    secretHash,
    revoked: false,
    createdAt: ctx.clock.now(),
    ...(input.validUntil !== undefined ? { validUntil: input.validUntil } : {}),
  };
  await ctx.store.createApiKey(key);
  return { key, token };
}

/** Resolves an API key token; unknown, wrong, revoked or expired keys are Unauthorized. */
export async function authenticateApiKey(ctx: Pick<ServiceContext, 'store' | 'clock'>, token: string): Promise<ApiKey> {
  const parts = parseToken('api-key', token);
  if (!parts) throw new UnauthorizedError('not an API key');
  const key = await ctx.store.getApiKey(parts.id);
  if (!key || !secretMatches(parts.secret, key.secretHash)) throw new UnauthorizedError('invalid API key');
  if (key.revoked) throw new UnauthorizedError('API key is revoked', 'api-key-revoked');
  if (key.validUntil !== undefined && ctx.clock.now() >= key.validUntil) throw new UnauthorizedError('API key has expired', 'api-key-expired');
  return key;
}

/** API keys (never their secrets): every key for the fleet, a tenant's own for a tenant key or a tenant filter. */
export function listApiKeys(ctx: Pick<ServiceContext, 'store'>, filter: { readonly tenantId?: string }, page: PageRequest): Promise<Page<ApiKey>> {
  return ctx.store.listApiKeys(filter, page);
}

/** Revokes a key (refused from its next request on); returns it as it was. */
export async function revokeApiKey(ctx: Pick<ServiceContext, 'store'>, keyId: string): Promise<ApiKey> {
  const key = await ctx.store.getApiKey(keyId);
  if (!key || !(await ctx.store.revokeApiKey(keyId))) throw new NotFoundError('api key', keyId);
  return key;
}
