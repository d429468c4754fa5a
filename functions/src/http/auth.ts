/**
 * Bearer authentication. Operator routes accept the fleet admin token (from config) or an API key;
 * agent routes accept only agent credentials. Tokens of the wrong family are refused with 403 so a
 * misconfigured client learns why.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
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

export function operatorAuth(ctx: ServiceContext): MiddlewareHandler<AppEnv> {
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
    } else if (sameSecret(token, ctx.config.adminToken)) {
      principal = { kind: 'operator', id: 'admin', scope: 'fleet' };
    } else {
      throw new UnauthorizedError('invalid token');
    }
    c.set('operator', principal);
    c.set('log', c.get('log').child({ principal: principal.id }));
    await next();
  };
}

export function agentAuth(ctx: ServiceContext): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const token = bearerToken(c.req.header('authorization'));
    if (tokenKindOf(token) !== 'agent') throw new ForbiddenError('agent routes accept only agent credentials');
    const agent = await authenticateAgent(ctx, token);
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
