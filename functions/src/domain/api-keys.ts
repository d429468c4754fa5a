/** Operator API keys: `tbk_<keyId>_<secret>`, fleet-wide or bound to one tenant. */
import { NotFoundError, UnauthorizedError } from '../errors';
import { issueToken, newId, parseToken, secretMatches } from './bearer-tokens';
import type { ServiceContext } from './service-context';
import { requireTenant } from './tenants';
import type { ApiKey, ApiKeyScope } from './types';

export interface CreateApiKeyInput {
  readonly scope: ApiKeyScope;
  readonly tenantId?: string;
  readonly name: string;
}

/** Creates a key; for tenant scope the tenant must exist. The clear token is returned once. */
export async function createApiKey(
  ctx: Pick<ServiceContext, 'store' | 'clock' | 'random'>,
  input: CreateApiKeyInput,
): Promise<{ key: ApiKey; token: string }> {
  if (input.scope === 'tenant') await requireTenant(ctx, input.tenantId!);
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
  };
  await ctx.store.createApiKey(key);
  return { key, token };
}

/** Resolves an API key token; unknown, wrong or revoked keys are Unauthorized. */
export async function authenticateApiKey(ctx: Pick<ServiceContext, 'store'>, token: string): Promise<ApiKey> {
  const parts = parseToken('api-key', token);
  if (!parts) throw new UnauthorizedError('not an API key');
  const key = await ctx.store.getApiKey(parts.id);
  if (!key || !secretMatches(parts.secret, key.secretHash)) throw new UnauthorizedError('invalid API key');
  if (key.revoked) throw new UnauthorizedError('API key is revoked', 'api-key-revoked');
  return key;
}

export async function revokeApiKey(ctx: Pick<ServiceContext, 'store'>, keyId: string): Promise<void> {
  if (!(await ctx.store.revokeApiKey(keyId))) throw new NotFoundError('api key', keyId);
}
