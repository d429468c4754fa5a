/** Session listing and operator disconnects. */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { ServiceContext } from '../../domain/service-context';
import { lookupNames } from '../../domain/ppp-auth';
import { listSessions, requestDisconnect } from '../../domain/sessions-service';
import { NotFoundError, ValidationError } from '../../errors';
import type { SessionFilter } from '../../domain/store';
import { assertTenantAccess } from '../auth';
import type { AppEnv } from '../context';
import { pageRequest, renderSignedPage } from '../paging';
import { renderSession } from '../render';
import { bearerSecurity, errorResponses, jsonResponse } from '../route-helpers';
import { IdParam, SessionSchema, SessionsQuery, pageOf } from '../schemas';

const SessionParams = z.object({ sessionId: IdParam });

export function registerSessionRoutes(app: OpenAPIHono<AppEnv>, ctx: ServiceContext): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/sessions',
      summary: 'List sessions, newest first; tenant keys only see their tenant',
      description: 'since/until filter on start time and accept ISO-8601 or epoch milliseconds; username needs tenantId.',
      security: bearerSecurity,
      request: { query: SessionsQuery },
      responses: { 200: jsonResponse(pageOf(SessionSchema), 'a page of sessions'), ...errorResponses(400, 401, 404) },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const principal = c.get('operator');
      const tenantId = principal.scope === 'tenant' ? (q.tenantId ?? principal.tenantId) : q.tenantId;
      if (tenantId !== undefined) assertTenantAccess(principal, tenantId);
      if (q.username !== undefined && tenantId === undefined) throw new ValidationError('username', 'username: needs tenantId');
      const filter: SessionFilter = {
        ...(tenantId !== undefined ? { tenantId } : {}),
        // Sessions carry the user's stored (canonical) name.
        ...(q.username !== undefined ? { username: lookupNames(q.username)[0]! } : {}),
        ...(q.agentId !== undefined ? { agentId: q.agentId } : {}),
        ...(q.state !== undefined ? { state: q.state } : {}),
        ...(q.since !== undefined ? { since: q.since } : {}),
        ...(q.until !== undefined ? { until: q.until } : {}),
      };
      const page = await listSessions(ctx, filter, pageRequest(ctx, c, q));
      return c.json(renderSignedPage(ctx, c, page, renderSession), 200);
    },
  );

  const visibleSession = async (principal: AppEnv['Variables']['operator'], sessionId: string) => {
    const session = await ctx.store.getSession(sessionId);
    if (!session || (principal.scope === 'tenant' && principal.tenantId !== session.tenantId)) {
      throw new NotFoundError('session', sessionId);
    }
    return session;
  };

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/sessions/{sessionId}',
      summary: 'Get a session',
      security: bearerSecurity,
      request: { params: SessionParams },
      responses: { 200: jsonResponse(SessionSchema, 'the session'), ...errorResponses(401, 404) },
    }),
    async (c) => c.json(renderSession(await visibleSession(c.get('operator'), c.req.valid('param').sessionId)), 200),
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/sessions/{sessionId}',
      summary: 'Disconnect a session: queues a disconnect-session command for its agent',
      security: bearerSecurity,
      request: { params: SessionParams },
      responses: { 202: jsonResponse(SessionSchema, 'disconnect requested'), ...errorResponses(401, 404, 409) },
    }),
    async (c) => {
      const session = await visibleSession(c.get('operator'), c.req.valid('param').sessionId);
      return c.json(renderSession(await requestDisconnect(ctx, session)), 202);
    },
  );
}
