/** Tenants and their users (operator routes). */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { deleteTenant } from '../../domain/tenant-deletion';
import { createTenant, listTenants, requireTenant, updateTenant } from '../../domain/tenants';
import { createUser, deleteUser, getUser, listAuthEvents, listUsers, unlockUser, updateUser } from '../../domain/users';
import type { ServiceContext } from '../../domain/service-context';
import { assertTenantAccess, requireFleet } from '../auth';
import type { AppEnv } from '../context';
import { pageRequest, renderSignedPage } from '../paging';
import { renderAuthEvent, renderAuthSource, renderTenant, renderUser } from '../render';
import { setAuthSource } from '../../domain/radius-auth/auth-source';
import { bearerSecurity, errorResponses, jsonBody, jsonResponse } from '../route-helpers';
import {
  AuthEventSchema,
  AuthSourceSchema,
  CreateTenantBody,
  SetAuthSourceBody,
  CreateUserBody,
  DeleteTenantQuery,
  PageQuery,
  TenantIdSchema,
  TenantSchema,
  UpdateTenantBody,
  UpdateUserBody,
  UserChangeSchema,
  UserSchema,
  UsernameSchema,
  pageOf,
} from '../schemas';

const TenantParams = z.object({ tenantId: TenantIdSchema });
const UserParams = z.object({ tenantId: TenantIdSchema, username: UsernameSchema });

export function registerTenantRoutes(app: OpenAPIHono<AppEnv>, ctx: ServiceContext): void {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/tenants',
      summary: 'Create a tenant (fleet scope)',
      security: bearerSecurity,
      request: { body: jsonBody(CreateTenantBody) },
      responses: { 201: jsonResponse(TenantSchema, 'created'), ...errorResponses(400, 401, 403, 409) },
    }),
    async (c) => {
      requireFleet(c.get('operator'));
      const tenant = await createTenant(ctx, c.req.valid('json'));
      return c.json(renderTenant(tenant), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/tenants',
      summary: 'List tenants by id; a tenant key sees its own tenant only',
      security: bearerSecurity,
      request: { query: PageQuery },
      responses: { 200: jsonResponse(pageOf(TenantSchema), 'a page of tenants'), ...errorResponses(400, 401) },
    }),
    async (c) => {
      const principal = c.get('operator');
      const scope = principal.scope === 'tenant' ? { tenantId: principal.tenantId } : {};
      const page = await listTenants(ctx, scope, pageRequest(ctx, c, c.req.valid('query')));
      return c.json(renderSignedPage(ctx, c, page, renderTenant), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/v1/tenants/{tenantId}',
      summary: 'Change a tenant: name, auth methods, limits (null removes one), password policy (fleet scope)',
      security: bearerSecurity,
      request: { params: TenantParams, body: jsonBody(UpdateTenantBody) },
      responses: { 200: jsonResponse(TenantSchema, 'changed'), ...errorResponses(400, 401, 403, 404, 415) },
    }),
    async (c) => {
      requireFleet(c.get('operator'));
      const { tenantId } = c.req.valid('param');
      return c.json(renderTenant(await updateTenant(ctx, tenantId, c.req.valid('json'))), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/tenants/{tenantId}',
      summary: 'Delete a tenant (fleet scope): refused while it has pools or active sessions, unless cascade=true',
      description:
        'With cascade=true its sessions are ended (tenant-deleted), users deleted, API keys revoked and pools deleted once free; ' +
        '202 while agents still have to confirm the end of sessions (repeat the DELETE), 204 once the tenant is gone.',
      security: bearerSecurity,
      request: { params: TenantParams, query: DeleteTenantQuery },
      responses: {
        202: jsonResponse(z.object({ deleting: z.literal(true), activeSessions: z.number(), pools: z.number() }), 'under way: repeat the DELETE'),
        204: { description: 'deleted' },
        ...errorResponses(400, 401, 403, 404, 409),
      },
    }),
    async (c) => {
      requireFleet(c.get('operator'));
      const { tenantId } = c.req.valid('param');
      const result = await deleteTenant(ctx, tenantId, { cascade: c.req.valid('query').cascade === 'true' });
      if (!result.deleted) return c.json({ deleting: true as const, activeSessions: result.activeSessions, pools: result.pools }, 202);
      return c.body(null, 204);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/tenants/{tenantId}',
      summary: 'Get a tenant',
      security: bearerSecurity,
      request: { params: TenantParams },
      responses: { 200: jsonResponse(TenantSchema, 'the tenant'), ...errorResponses(400, 401, 404) },
    }),
    async (c) => {
      const { tenantId } = c.req.valid('param');
      assertTenantAccess(c.get('operator'), tenantId);
      return c.json(renderTenant(await requireTenant(ctx, tenantId)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/tenants/{tenantId}/auth',
      summary: 'The tenant\'s authentication source: local users or RADIUS servers (never their secrets)',
      security: bearerSecurity,
      request: { params: TenantParams },
      responses: { 200: jsonResponse(AuthSourceSchema, 'the source'), ...errorResponses(400, 401, 404) },
    }),
    async (c) => {
      const { tenantId } = c.req.valid('param');
      assertTenantAccess(c.get('operator'), tenantId);
      return c.json(renderAuthSource(await requireTenant(ctx, tenantId)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/v1/tenants/{tenantId}/auth',
      summary: 'Set the tenant\'s authentication source: local, or RADIUS servers in failover order (docs/radius.md)',
      description: 'Applies from the next authentication (after the settings cache, SETTINGS_CACHE_SECONDS). Secrets are stored encrypted and never shown.',
      security: bearerSecurity,
      request: { params: TenantParams, body: jsonBody(SetAuthSourceBody) },
      responses: { 200: jsonResponse(AuthSourceSchema, 'set'), ...errorResponses(400, 401, 404, 415) },
    }),
    async (c) => {
      const { tenantId } = c.req.valid('param');
      assertTenantAccess(c.get('operator'), tenantId);
      return c.json(renderAuthSource(await setAuthSource(ctx, tenantId, c.req.valid('json'))), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/tenants/{tenantId}/users',
      summary: 'Create a user; the password is kept only as an NT hash (and encrypted for CHAP-MD5)',
      security: bearerSecurity,
      request: { params: TenantParams, body: jsonBody(CreateUserBody) },
      responses: { 201: jsonResponse(UserSchema, 'created'), ...errorResponses(400, 401, 404, 409) },
    }),
    async (c) => {
      const { tenantId } = c.req.valid('param');
      assertTenantAccess(c.get('operator'), tenantId);
      const user = await createUser(ctx, tenantId, c.req.valid('json'));
      return c.json(renderUser(user, ctx.clock.now()), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/tenants/{tenantId}/users',
      summary: 'List users with their failed-attempt counters and lock state',
      security: bearerSecurity,
      request: { params: TenantParams, query: PageQuery },
      responses: { 200: jsonResponse(pageOf(UserSchema), 'a page of users'), ...errorResponses(400, 401, 404) },
    }),
    async (c) => {
      const { tenantId } = c.req.valid('param');
      assertTenantAccess(c.get('operator'), tenantId);
      const page = await listUsers(ctx, tenantId, pageRequest(ctx, c, c.req.valid('query')));
      const now = ctx.clock.now();
      return c.json(renderSignedPage(ctx, c, page, (u) => renderUser(u, now)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/tenants/{tenantId}/users/{username}/auth-events',
      summary: 'Failed authentications and lockouts of a user',
      security: bearerSecurity,
      request: { params: UserParams, query: PageQuery },
      responses: { 200: jsonResponse(pageOf(AuthEventSchema), 'a page of events'), ...errorResponses(400, 401, 404) },
    }),
    async (c) => {
      const { tenantId, username } = c.req.valid('param');
      assertTenantAccess(c.get('operator'), tenantId);
      const page = await listAuthEvents(ctx, tenantId, username, pageRequest(ctx, c, c.req.valid('query')));
      return c.json(renderSignedPage(ctx, c, page, renderAuthEvent), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/tenants/{tenantId}/users/{username}',
      summary: 'Get a user (never its credentials)',
      security: bearerSecurity,
      request: { params: UserParams },
      responses: { 200: jsonResponse(UserSchema, 'the user'), ...errorResponses(400, 401, 404) },
    }),
    async (c) => {
      const { tenantId, username } = c.req.valid('param');
      assertTenantAccess(c.get('operator'), tenantId);
      return c.json(renderUser(await getUser(ctx, tenantId, username), ctx.clock.now()), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/v1/tenants/{tenantId}/users/{username}',
      summary: 'Change a user: password (under the tenant\'s policy), disable (ends its sessions) or enable, set or clear the static address',
      security: bearerSecurity,
      request: { params: UserParams, body: jsonBody(UpdateUserBody) },
      responses: { 200: jsonResponse(UserChangeSchema, 'changed'), ...errorResponses(400, 401, 404, 415) },
    }),
    async (c) => {
      const { tenantId, username } = c.req.valid('param');
      assertTenantAccess(c.get('operator'), tenantId);
      const { user, sessionsEnded } = await updateUser(ctx, tenantId, username, c.req.valid('json'));
      return c.json({ ...renderUser(user, ctx.clock.now()), sessionsEnded }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/tenants/{tenantId}/users/{username}/unlock',
      summary: 'Lift an account lock and clear the failed-attempt counters',
      security: bearerSecurity,
      request: { params: UserParams },
      responses: { 200: jsonResponse(UserSchema, 'unlocked'), ...errorResponses(400, 401, 404) },
    }),
    async (c) => {
      const { tenantId, username } = c.req.valid('param');
      assertTenantAccess(c.get('operator'), tenantId);
      return c.json(renderUser(await unlockUser(ctx, tenantId, username), ctx.clock.now()), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/tenants/{tenantId}/users/{username}',
      summary: 'Delete a user; its sessions are ended the way DELETE /v1/sessions/{id} ends one (end reason user-deleted)',
      security: bearerSecurity,
      request: { params: UserParams },
      responses: { 204: { description: 'deleted' }, ...errorResponses(400, 401, 404) },
    }),
    async (c) => {
      const { tenantId, username } = c.req.valid('param');
      assertTenantAccess(c.get('operator'), tenantId);
      await deleteUser(ctx, tenantId, username);
      return c.body(null, 204);
    },
  );
}
