/** Address pools of a tenant (operator routes). */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { createPool, listPools } from '../../domain/pools';
import type { ServiceContext } from '../../domain/service-context';
import { assertTenantAccess } from '../auth';
import type { AppEnv } from '../context';
import { renderPool } from '../render';
import { bearerSecurity, errorResponses, jsonBody, jsonResponse } from '../route-helpers';
import { CreatePoolBody, PoolSchema, TenantIdSchema } from '../schemas';

const TenantParams = z.object({ tenantId: TenantIdSchema });

export function registerPoolRoutes(app: OpenAPIHono<AppEnv>, ctx: ServiceContext): void {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/tenants/{tenantId}/pools',
      summary: 'Create an address pool (CIDR validated, gateway inside, private or shared space, no overlap with any pool of the fleet or an agent\'s network)',
      security: bearerSecurity,
      request: { params: TenantParams, body: jsonBody(CreatePoolBody) },
      responses: { 201: jsonResponse(PoolSchema, 'created'), ...errorResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const { tenantId } = c.req.valid('param');
      const operator = c.get('operator');
      assertTenantAccess(operator, tenantId);
      return c.json(renderPool(await createPool(ctx, tenantId, c.req.valid('json'), { fleetOperator: operator.scope === 'fleet' })), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/tenants/{tenantId}/pools',
      summary: 'List the tenant\'s pools',
      security: bearerSecurity,
      request: { params: TenantParams },
      responses: { 200: jsonResponse(z.object({ items: z.array(PoolSchema) }), 'pools'), ...errorResponses(400, 401, 404) },
    }),
    async (c) => {
      const { tenantId } = c.req.valid('param');
      assertTenantAccess(c.get('operator'), tenantId);
      return c.json({ items: (await listPools(ctx, tenantId)).map(renderPool) }, 200);
    },
  );
}
