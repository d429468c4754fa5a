/** The audit log of operator actions: fleet-wide (fleet scope) and per tenant. */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { ServiceContext } from '../../domain/service-context';
import { requireTenant } from '../../domain/tenants';
import { assertTenantAccess, requireFleet } from '../auth';
import type { AppEnv } from '../context';
import { pageRequest, renderSignedPage } from '../paging';
import { renderAuditEvent } from '../render';
import { bearerSecurity, errorResponses, jsonResponse } from '../route-helpers';
import { AuditEventSchema, AuditQuery, TenantIdSchema, pageOf } from '../schemas';

const range = (q: { since?: number | undefined; until?: number | undefined }) => ({
  ...(q.since !== undefined ? { since: q.since } : {}),
  ...(q.until !== undefined ? { until: q.until } : {}),
});

export function registerAuditRoutes(app: OpenAPIHono<AppEnv>, ctx: ServiceContext): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/audit',
      summary: 'Every operator action of the fleet, newest first (fleet scope)',
      description: 'since/until filter on the time of the action (ISO-8601 or epoch ms). Events hold field names, never values.',
      security: bearerSecurity,
      request: { query: AuditQuery },
      responses: { 200: jsonResponse(pageOf(AuditEventSchema), 'a page of events'), ...errorResponses(400, 401, 403) },
    }),
    async (c) => {
      requireFleet(c.get('operator'));
      const q = c.req.valid('query');
      const page = await ctx.store.listAuditEvents(range(q), pageRequest(ctx, c, q));
      return c.json(renderSignedPage(ctx, c, page, renderAuditEvent), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/tenants/{tenantId}/audit',
      summary: 'The operator actions on one tenant, newest first',
      security: bearerSecurity,
      request: { params: z.object({ tenantId: TenantIdSchema }), query: AuditQuery },
      responses: { 200: jsonResponse(pageOf(AuditEventSchema), 'a page of events'), ...errorResponses(400, 401, 404) },
    }),
    async (c) => {
      const { tenantId } = c.req.valid('param');
      assertTenantAccess(c.get('operator'), tenantId);
      const q = c.req.valid('query');
      // A deleted tenant's log stays readable for the fleet; a tenant key only ever reads its own.
      if (c.get('operator').scope === 'tenant') await requireTenant(ctx, tenantId);
      const page = await ctx.store.listAuditEvents({ tenantId, ...range(q) }, pageRequest(ctx, c, q));
      return c.json(renderSignedPage(ctx, c, page, renderAuditEvent), 200);
    },
  );
}
