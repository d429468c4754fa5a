/** Tenant endpoint: where a tenant's VPN clients should connect (placement). */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { tenantEndpoint } from '../../domain/placement/tenant-endpoint';
import type { ServiceContext } from '../../domain/service-context';
import { assertTenantAccess } from '../auth';
import type { AppEnv } from '../context';
import { bearerSecurity, errorResponses, jsonResponse } from '../route-helpers';
import { TenantIdSchema } from '../schemas';

const EndpointQuery = z.strictObject({
  region: z.string().min(1).max(64).optional().openapi({ description: 'only agents of this region' }),
  count: z.coerce.number().int().min(1).max(5).default(2).openapi({ description: 'agents to return (fallbacks), default 2' }),
});

export const TenantEndpointSchema = z
  .object({
    tenantId: z.string(),
    agents: z
      .array(z.object({ agentId: z.string(), region: z.string(), publicAddress: z.string() }))
      .openapi({ description: 'chosen agents, best first: connect to the first, fall back to the next' }),
    dnsName: z.string().optional().openapi({ description: 'stable per-tenant name <tenantId>.vpn.<domain> (Route 53 in AWS), when configured' }),
    ipsec: z.object({
      pskName: z.string(),
      pskRevision: z.number().int().openapi({ description: '0 = no PSK set yet' }),
      allowLegacyProposals: z.boolean(),
    }).openapi({ description: 'which PSK to configure; the PSK itself is never returned' }),
  })
  .openapi('TenantEndpoint');

export function registerEndpointRoutes(app: OpenAPIHono<AppEnv>, ctx: ServiceContext): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/tenants/{tenantId}/endpoint',
      summary: "Where the tenant's clients should connect (healthy agents with headroom)",
      description: '503 with code no-healthy-agent or all-agents-full when no agent can take new clients.',
      security: bearerSecurity,
      request: { params: z.object({ tenantId: TenantIdSchema }), query: EndpointQuery },
      responses: { 200: jsonResponse(TenantEndpointSchema, 'the endpoint'), ...errorResponses(400, 401, 404, 503) },
    }),
    async (c) => {
      const { tenantId } = c.req.valid('param');
      assertTenantAccess(c.get('operator'), tenantId);
      const { region, count } = c.req.valid('query');
      const endpoint = await tenantEndpoint(ctx, tenantId, { count, ...(region !== undefined ? { region } : {}) });
      return c.json(
        { ...endpoint, agents: endpoint.agents.map((a) => ({ agentId: a.agentId, region: a.region, publicAddress: a.publicAddress ?? '' })) },
        200,
      );
    },
  );
}
