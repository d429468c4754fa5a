/**
 * Bearer authentication. Operator routes accept the fleet admin token (from config) or an API key;
 * agent routes accept only agent credentials. Tokens of the wrong family are refused with 403 so a
 * misconfigured client learns why.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { authenticateAgent } from '../domain/agents-service';
import { authenticateApiKey } from '../domain/api-keys';
import { tokenKindOf } from '../domain/bearer-tokens';
import type { ServiceContext } from '../domain/service-context';
import { ForbiddenError, NotFoundError, UnauthorizedError } from '../errors';
import type { AppEnv, OperatorPrincipal } from './context';

function bearerToken(header: string | undefined): string {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!match?.[1]) throw new UnauthorizedError('Authorization: Bearer <token> is required');
  return match[1];
}

/** Compares SHA-256 digests so the comparison is constant-time whatever the lengths. */
function sameSecret(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/** Operator routes: an API key, or the fleet admin token (`adminToken`, from the broker's config). */
export function operatorAuth(ctx: ServiceContext, adminToken: string): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const token = bearerToken(c.req.header('authorization'));
    let principal: OperatorPrincipal;
    const kind = tokenKindOf(token);
    if (kind === 'agent') throw new ForbiddenError('agent credentials are only valid on /v1/agent routes');
    if (kind === 'api-key') {
      const key = await authenticateApiKey(ctx, token);
      principal =
        key.scope === 'tenant' && key.tenantId !== undefined
          ? { kind: 'operator', id: `apikey:${key.keyId}`, scope: 'tenant', tenantId: key.tenantId }
          : { kind: 'operator', id: `apikey:${key.keyId}`, scope: 'fleet' };
    } else if (sameSecret(token, adminToken)) {
      principal = { kind: 'operator', id: 'admin', scope: 'fleet' };
    } else {
      throw new UnauthorizedError('invalid token');
    }
    c.set('operator', principal);
    c.set('log', c.get('log').child({ principal: principal.id }));
    await next();
  };
}

/**
 * A read that a route is sure to need, started in the same turn as the credential check so that
 * the store sends both as one request (store/dynamo/read-batcher.ts): one round trip instead of
 * two when the broker is not busy enough to merge requests anyway. The route looks at the result
 * only once the credential was verified.
 */
export interface ReadAhead {
  readonly method: string;
  readonly path: string;
  start(c: Context<AppEnv>, body: unknown): void;
}

export function agentAuth(ctx: ServiceContext, readAheads: readonly ReadAhead[] = []): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const token = bearerToken(c.req.header('authorization'));
    if (tokenKindOf(token) !== 'agent') throw new ForbiddenError('agent routes accept only agent credentials');
    const ahead = readAheads.find((r) => r.method === c.req.method && r.path === c.req.path);
    // The body is parsed once: the route's validator reads the cached result (or reports the error).
    const body: unknown = ahead ? await c.req.json().catch(() => undefined) : undefined;
    const verifying = authenticateAgent(ctx, token);
    if (ahead && body !== undefined) ahead.start(c, body);
    const agent = await verifying;
    c.set('agent', agent);
    c.set('log', c.get('log').child({ agentId: agent.agentId }));
    await next();
  };
}

/** Fleet-only operations (tenants, agents, API keys, IPsec) refuse tenant keys. */
export function requireFleet(principal: OperatorPrincipal): void {
  if (principal.scope !== 'fleet') throw new ForbiddenError('this operation needs a fleet-scoped credential');
}

/**
 * Tenant isolation: a tenant key asking about another tenant gets the same 404 as for a tenant
 * that does not exist, so it learns nothing about other tenants.
 */
export function assertTenantAccess(principal: OperatorPrincipal, tenantId: string): void {
  if (principal.scope === 'tenant' && principal.tenantId !== tenantId) throw new NotFoundError('tenant', tenantId);
}
