/** Fleet administration: agents, API keys and IPsec settings (fleet scope only). */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { DEFAULT_DRAIN_SECONDS, drainAgent, enrollAgent, listAgents, revokeAgent, rotateAgentCredential } from '../../domain/agents-service';
import { createApiKey, listApiKeys, revokeApiKey } from '../../domain/api-keys';
import { DEFAULT_ALLOW_LEGACY_PROPOSALS, putIpsecSettings } from '../../domain/ipsec-settings';
import type { ServiceContext } from '../../domain/service-context';
import { assertTenantAccess, requireFleet } from '../auth';
import type { AppEnv } from '../context';
import { pageRequest, renderSignedPage } from '../paging';
import { iso, renderAgent, renderApiKey } from '../render';
import { bearerSecurity, errorResponses, jsonBody, jsonResponse } from '../route-helpers';
import {
  AgentSchema,
  ApiKeySchema,
  ApiKeysQuery,
  CreateAgentBody,
  CreateApiKeyBody,
  DrainAgentBody,
  IdParam,
  IpsecStatusSchema,
  PageQuery,
  PutIpsecBody,
  pageOf,
} from '../schemas';

const TokenNote = 'the bearer token; shown only in this response';

export function registerFleetRoutes(app: OpenAPIHono<AppEnv>, ctx: ServiceContext): void {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/agents',
      summary: 'Enrol an edge agent; returns its credential once',
      security: bearerSecurity,
      request: { body: jsonBody(CreateAgentBody) },
      responses: {
        201: jsonResponse(
          z.object({ agentId: z.string(), token: z.string().openapi({ description: TokenNote }), agent: AgentSchema }),
          'enrolled',
        ),
        ...errorResponses(400, 401, 403),
      },
    }),
    async (c) => {
      requireFleet(c.get('operator'));
      const { agent, token } = await enrollAgent(ctx, c.req.valid('json'));
      return c.json({ agentId: agent.agentId, token, agent: renderAgent(agent) }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/agents',
      summary: 'List agents',
      security: bearerSecurity,
      request: { query: PageQuery },
      responses: { 200: jsonResponse(pageOf(AgentSchema), 'a page of agents'), ...errorResponses(400, 401, 403) },
    }),
    async (c) => {
      requireFleet(c.get('operator'));
      const page = await listAgents(ctx, pageRequest(ctx, c, c.req.valid('query')));
      return c.json(renderSignedPage(ctx, c, page, renderAgent), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/agents/{agentId}',
      summary: 'Revoke an agent credential (refused from its next request on)',
      security: bearerSecurity,
      request: { params: z.object({ agentId: IdParam }) },
      responses: { 200: jsonResponse(AgentSchema, 'revoked'), ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      requireFleet(c.get('operator'));
      return c.json(renderAgent(await revokeAgent(ctx, c.req.valid('param').agentId)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/agents/{agentId}/rotate-credential',
      summary: 'Issue a new agent credential; the old one is refused from its next request on',
      security: bearerSecurity,
      request: { params: z.object({ agentId: IdParam }) },
      responses: {
        200: jsonResponse(
          z.object({ agentId: z.string(), token: z.string().openapi({ description: TokenNote }), agent: AgentSchema }),
          'rotated',
        ),
        ...errorResponses(401, 403, 404, 409),
      },
    }),
    async (c) => {
      requireFleet(c.get('operator'));
      const { agent, token } = await rotateAgentCredential(ctx, c.req.valid('param').agentId);
      return c.json({ agentId: agent.agentId, token, agent: renderAgent(agent) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/agents/{agentId}/drain',
      summary: 'Drain an agent: it takes no new sessions and ends those it holds at the deadline',
      security: bearerSecurity,
      request: { params: z.object({ agentId: IdParam }), body: jsonBody(DrainAgentBody) },
      responses: { 200: jsonResponse(AgentSchema, 'draining'), ...errorResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      requireFleet(c.get('operator'));
      const { deadlineSeconds = DEFAULT_DRAIN_SECONDS } = c.req.valid('json');
      return c.json(renderAgent(await drainAgent(ctx, c.req.valid('param').agentId, deadlineSeconds)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/api-keys',
      summary: 'Create an API key (fleet or one tenant); returns the token once',
      security: bearerSecurity,
      request: { body: jsonBody(CreateApiKeyBody) },
      responses: {
        201: jsonResponse(z.object({ apiKey: ApiKeySchema, token: z.string().openapi({ description: TokenNote }) }), 'created'),
        ...errorResponses(400, 401, 403, 404),
      },
    }),
    async (c) => {
      requireFleet(c.get('operator'));
      const { expiresAt, ...body } = c.req.valid('json');
      const { key, token } = await createApiKey(ctx, { ...body, ...(expiresAt !== undefined ? { validUntil: expiresAt } : {}) });
      c.set('auditTenantId', key.tenantId);
      return c.json({ apiKey: renderApiKey(key, ctx.clock.now()), token }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/api-keys',
      summary: 'List API keys (never their secrets); tenant keys see their tenant\'s keys only',
      security: bearerSecurity,
      request: { query: ApiKeysQuery },
      responses: { 200: jsonResponse(pageOf(ApiKeySchema), 'a page of keys'), ...errorResponses(400, 401, 404) },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const principal = c.get('operator');
      const tenantId = principal.scope === 'tenant' ? (q.tenantId ?? principal.tenantId) : q.tenantId;
      if (tenantId !== undefined) assertTenantAccess(principal, tenantId);
      const page = await listApiKeys(ctx, tenantId !== undefined ? { tenantId } : {}, pageRequest(ctx, c, q));
      const now = ctx.clock.now();
      return c.json(renderSignedPage(ctx, c, page, (k) => renderApiKey(k, now)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/api-keys/{keyId}',
      summary: 'Revoke an API key',
      security: bearerSecurity,
      request: { params: z.object({ keyId: IdParam }) },
      responses: { 204: { description: 'revoked' }, ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      requireFleet(c.get('operator'));
      const key = await revokeApiKey(ctx, c.req.valid('param').keyId);
      c.set('auditTenantId', key.tenantId);
      return c.body(null, 204);
    },
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/v1/ipsec',
      summary: 'Set the fleet IPsec PSK (stored encrypted; agents reload on the new revision)',
      security: bearerSecurity,
      request: { body: jsonBody(PutIpsecBody) },
      responses: { 200: jsonResponse(IpsecStatusSchema, 'stored'), ...errorResponses(400, 401, 403) },
    }),
    async (c) => {
      requireFleet(c.get('operator'));
      const s = await putIpsecSettings(ctx, c.req.valid('json'));
      return c.json({ configured: true, allowLegacyProposals: s.allowLegacyProposals, revision: s.revision, updatedAt: iso(s.updatedAt) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/ipsec',
      summary: 'IPsec settings status (never the PSK)',
      security: bearerSecurity,
      responses: { 200: jsonResponse(IpsecStatusSchema, 'status'), ...errorResponses(401, 403) },
    }),
    async (c) => {
      requireFleet(c.get('operator'));
      const s = await ctx.store.getIpsecSettings();
      return c.json(
        s
          ? { configured: true, allowLegacyProposals: s.allowLegacyProposals, revision: s.revision, updatedAt: iso(s.updatedAt) }
          : { configured: false, allowLegacyProposals: DEFAULT_ALLOW_LEGACY_PROPOSALS, revision: 0 },
        200,
      );
    },
  );
}
