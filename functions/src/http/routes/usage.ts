/** Per-tenant usage over a time range, computed from session records (domain/usage.ts). */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { ServiceContext } from '../../domain/service-context';
import { tenantUsage } from '../../domain/usage-service';
import { assertTenantAccess } from '../auth';
import type { AppEnv } from '../context';
import { iso } from '../render';
import { bearerSecurity, errorResponses, jsonResponse } from '../route-helpers';
import { TenantIdSchema, UsageQuery, UsageSchema } from '../schemas';

export function registerUsageRoutes(app: OpenAPIHono<AppEnv>, ctx: ServiceContext): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/tenants/{tenantId}/usage',
      summary: 'Sessions, session-hours and bytes of a tenant per UTC day and per user over [from, to)',
      description:
        'A session counts on every day its active span [startedAt, stoppedAt or now) shares with the range; its hours are the part inside; ' +
        'its bytes are spread over its accounted span in proportion to time (docs/api.md, "Usage").',
      security: bearerSecurity,
      request: { params: z.object({ tenantId: TenantIdSchema }), query: UsageQuery },
      responses: { 200: jsonResponse(UsageSchema, 'the usage'), ...errorResponses(400, 401, 404) },
    }),
    async (c) => {
      const { tenantId } = c.req.valid('param');
      assertTenantAccess(c.get('operator'), tenantId);
      const { from, to } = c.req.valid('query');
      const usage = await tenantUsage(ctx, tenantId, from, to);
      return c.json({ tenantId, from: iso(from), to: iso(to), totals: usage.totals, days: [...usage.days], users: [...usage.users] }, 200);
    },
  );
}
