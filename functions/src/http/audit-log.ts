/**
 * The audit log of operator actions (issue 18): every operator request that changed something
 * (not GET, answered 2xx, not an idempotent replay) is recorded once it has been answered: who
 * (`admin` or `apikey:<keyId>`), what (the route), when, on what (the concrete path, the tenant,
 * the ids it created) and the names of the fields it sent.
 *
 * It never holds a value the request carried, only field names: a password, PSK or token cannot
 * reach it whatever a route accepts. Ids come from the path and from a fixed list of id fields of
 * the answer (never `token` or `grant`).
 */
import type { Context, MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import { newId } from '../domain/bearer-tokens';
import type { ServiceContext } from '../domain/service-context';
import type { AuditEvent } from '../domain/types';
import type { AppEnv } from './context';

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** Answer fields that name what an action created or touched (at the top level or under `apiKey`/`agent`). */
const ID_FIELDS = ['tenantId', 'username', 'poolId', 'keyId', 'agentId', 'sessionId'] as const;

function isAgentPath(path: string): boolean {
  return path === '/v1/agent' || path.startsWith('/v1/agent/');
}

/** `:name` segments of the route, with the concrete path's values. */
function pathParams(route: string, path: string): Record<string, string> {
  const names = route.split('/');
  const values = path.split('/');
  const params: Record<string, string> = {};
  names.forEach((segment, i) => {
    if (segment.startsWith(':') && values[i] !== undefined) params[segment.slice(1)] = decodeURIComponent(values[i]!);
  });
  return params;
}

function idsOf(body: unknown): Record<string, string> {
  const ids: Record<string, string> = {};
  const pick = (value: unknown) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return;
    for (const field of ID_FIELDS) {
      const v = (value as Record<string, unknown>)[field];
      if (typeof v === 'string' && ids[field] === undefined) ids[field] = v;
    }
  };
  pick(body);
  if (typeof body === 'object' && body !== null) {
    pick((body as Record<string, unknown>).apiKey);
    pick((body as Record<string, unknown>).agent);
  }
  return ids;
}

async function jsonOf(read: () => Promise<unknown>): Promise<unknown> {
  try {
    return await read();
  } catch {
    return undefined;
  }
}

/** The event for an answered request, or undefined when it is not an operator change. */
async function eventOf(ctx: Pick<ServiceContext, 'clock' | 'random'>, c: Context<AppEnv>): Promise<AuditEvent | undefined> {
  const principal = c.get('operator');
  if (!principal || READS.has(c.req.method) || isAgentPath(c.req.path)) return undefined;
  if (c.res.status < 200 || c.res.status >= 300 || c.res.headers.get('idempotent-replayed') === 'true') return undefined;
  const route = routePath(c, -1);
  const params = pathParams(route, c.req.path);
  const request = (c.req.header('content-type') ?? '').includes('json') ? await jsonOf(() => c.req.json()) : undefined;
  const answer = (c.res.headers.get('content-type') ?? '').includes('json') ? await jsonOf(() => c.res.clone().json()) : undefined;
  // What a POST made (a user, a key, an agent): the ids its answer names that its path does not.
  const created = c.req.method === 'POST' ? Object.fromEntries(Object.entries(idsOf(answer)).filter(([field, id]) => params[field] !== id && field !== 'tenantId')) : {};
  const fields = [
    ...(typeof request === 'object' && request !== null && !Array.isArray(request) ? Object.keys(request) : []),
    ...[...new URL(c.req.url).searchParams.keys()].map((name) => `?${name}`),
  ];
  const tenantId = params.tenantId ?? c.get('auditTenantId') ?? idsOf(answer).tenantId;
  return {
    eventId: newId(ctx.random),
    at: ctx.clock.now(),
    actor: principal.id,
    action: `${c.req.method} ${route.replace(/:([A-Za-z]+)/g, '{$1}')}`,
    target: c.req.path,
    ...(tenantId !== undefined ? { tenantId } : {}),
    ...(Object.keys(created).length > 0 ? { created } : {}),
    fields: [...new Set(fields)].sort(),
    status: c.res.status,
    ...(c.get('requestId') ? { requestId: c.get('requestId') } : {}),
  };
}

/**
 * Records operator changes after they were answered. A failed write is logged and does not change
 * the answer: the action itself has happened.
 */
export function auditLog(ctx: Pick<ServiceContext, 'store' | 'clock' | 'random'>): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await next();
    const event = await eventOf(ctx, c);
    if (!event) return;
    try {
      await ctx.store.putAuditEvent(event);
    } catch (error) {
      c.get('log')?.error({ err: error, action: event.action, target: event.target }, 'audit event not recorded');
    }
  };
}
