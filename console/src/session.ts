/** Who is signed in: the key's API client and what the broker says the key may see. */
import { ApiError, apiPath, type ApiClient } from './api-client';

export interface Tenant {
  readonly tenantId: string;
  readonly name: string;
  readonly authMethods: readonly string[];
  readonly maxSessions?: number;
  readonly createdAt: string;
}

export interface Page<T> {
  readonly items: T[];
  readonly cursor?: string;
}

export interface ConsoleSession {
  readonly api: ApiClient;
  /** 'fleet' when GET /v1/agents answers; 'tenant' when the broker refuses it with 403. */
  readonly scope: 'fleet' | 'tenant';
  /** The tenants the key can see (the API scopes the list; a tenant key sees its own). */
  readonly tenants: readonly Tenant[];
}

/**
 * Asks the broker what the key is: a 401 fails sign-in; the fleet listing tells an operator key
 * from a tenant key. The UI only uses this to pick pages: every request is still checked by the API.
 */
export async function identify(api: ApiClient): Promise<ConsoleSession> {
  const tenants = await allPages<Tenant>(api, '/v1/tenants');
  let scope: ConsoleSession['scope'] = 'fleet';
  try {
    await api.get('/v1/agents', { limit: '1' });
  } catch (error) {
    if (error instanceof ApiError && error.failure.kind === 'http' && error.failure.status === 403) scope = 'tenant';
    else throw error;
  }
  return { api, scope, tenants };
}

/** Follows the cursor up to `maxPages` pages of 100. */
export async function allPages<T>(api: ApiClient, path: string, query: Record<string, string | undefined> = {}, maxPages = 10): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < maxPages; i++) {
    const page = await api.get<Page<T>>(path, { ...query, limit: '100', cursor });
    items.push(...page.items);
    cursor = page.cursor;
    if (!cursor) break;
  }
  return items;
}

export { apiPath };
