/** Address pools of a tenant (operator routes). */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { createPool, deletePool, listPools, updatePool } from '../../domain/pools';
import type { ServiceContext } from '../../domain/service-context';
import { assertTenantAccess } from '../auth';
import type { AppEnv } from '../context';
import { renderPool } from '../render';
import { bearerSecurity, errorResponses, jsonBody, jsonResponse } from '../route-helpers';
import { CreatePoolBody, PoolSchema, TenantIdSchema, UpdatePoolBody } from '../schemas';

const TenantParams = z.object({ tenantId: TenantIdSchema });
const PoolParams = z.object({ tenantId: TenantIdSchema, poolId: z.string().min(1).max(64) });

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
      method: 'patch',
      path: '/v1/tenants/{tenantId}/pools/{poolId}',
      summary: 'Change a pool: DNS and exclusions at any time; the block and gateway only when every leased address stays inside, with the fleet-wide no-overlap rule',
      security: bearerSecurity,
      request: { params: PoolParams, body: jsonBody(UpdatePoolBody) },
      responses: { 200: jsonResponse(PoolSchema, 'changed'), ...errorResponses(400, 401, 404, 409, 415) },
    }),
    async (c) => {
      const { tenantId, poolId } = c.req.valid('param');
      assertTenantAccess(c.get('operator'), tenantId);
      return c.json(renderPool(await updatePool(ctx, tenantId, poolId, c.req.valid('json'))), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/tenants/{tenantId}/pools/{poolId}',
      summary: 'Delete a pool (refused with 409 pool-in-use while an address of it is leased); its block is free again',
      security: bearerSecurity,
      request: { params: PoolParams },
      responses: { 204: { description: 'deleted' }, ...errorResponses(400, 401, 404, 409) },
    }),
    async (c) => {
      const { tenantId, poolId } = c.req.valid('param');
      assertTenantAccess(c.get('operator'), tenantId);
      await deletePool(ctx, tenantId, poolId);
      return c.body(null, 204);
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
