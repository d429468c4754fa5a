/**
 * A tenant's RADIUS accounting settings (docs/radius-accounting.md): read, replace, remove. A
 * tenant key reaches its own tenant only; the shared secrets are never shown (only that one is set)
 * and, like every operator change, the audit log keeps the field names, never their values.
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import {
  DEFAULT_ACCOUNTING_PORT,
  DEFAULT_INTERIM_INTERVAL_SECONDS,
  deleteTenantAccounting,
  getTenantAccounting,
  MAX_ACCOUNTING_SERVERS,
  MAX_INTERIM_INTERVAL_SECONDS,
  MIN_INTERIM_INTERVAL_SECONDS,
  putTenantAccounting,
} from '../../domain/radius-accounting/settings';
import type { ServiceContext } from '../../domain/service-context';
import type { TenantAccounting } from '../../domain/types';
import { assertTenantAccess } from '../auth';
import type { AppEnv } from '../context';
import { bearerSecurity, errorResponses, jsonBody, jsonResponse } from '../route-helpers';
import { refuseForbiddenRadiusAddress, TenantIdSchema } from '../schemas';

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

const AccountingServerBody = z.strictObject({
  host: z.union([z.ipv4(), z.ipv6(), z.string().regex(HOSTNAME, 'an IPv4/IPv6 address or a host name')]).superRefine(refuseForbiddenRadiusAddress),
  port: z.number().int().min(1).max(65_535).optional().openapi({ description: `default ${DEFAULT_ACCOUNTING_PORT}` }),
  // RFC 2865 §3 prefers secrets of at least 16 octets; 8 is the floor we accept.
  secret: z.string().min(8).max(128).openapi({ description: 'the RADIUS shared secret; stored sealed, never shown' }),
});

export const PutAccountingBody = z
  .strictObject({
    servers: z.array(AccountingServerBody).min(1).max(MAX_ACCOUNTING_SERVERS).openapi({ description: 'tried in order (failover)' }),
    interimIntervalSeconds: z
      .number()
      .int()
      .min(MIN_INTERIM_INTERVAL_SECONDS)
      .max(MAX_INTERIM_INTERVAL_SECONDS)
      .optional()
      .openapi({ description: `seconds between Interim-Update records (default ${DEFAULT_INTERIM_INTERVAL_SECONDS}; RFC 2869 §5.16: at least 60)` }),
  })
  .openapi('PutAccounting');

export const AccountingSchema = z
  .object({
    tenantId: z.string(),
    enabled: z.boolean(),
    servers: z.array(z.object({ host: z.string(), port: z.number(), secretSet: z.boolean() })).optional(),
    interimIntervalSeconds: z.number().optional(),
    updatedAt: z.string().optional(),
  })
  .openapi('Accounting');

/** What an operator sees: no secret, only that one is set. */
export function renderTenantAccounting(tenantId: string, accounting: TenantAccounting | undefined): z.infer<typeof AccountingSchema> {
  if (!accounting) return { tenantId, enabled: false };
  return {
    tenantId,
    enabled: true,
    servers: accounting.servers.map((s) => ({ host: s.host, port: s.port, secretSet: true })),
    interimIntervalSeconds: accounting.interimIntervalSeconds,
    updatedAt: new Date(accounting.updatedAt).toISOString(),
  };
}

const Params = z.object({ tenantId: TenantIdSchema });
const PATH = '/v1/tenants/{tenantId}/accounting';

export function registerAccountingRoutes(app: OpenAPIHono<AppEnv>, ctx: ServiceContext): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: PATH,
      summary: "A tenant's RADIUS accounting settings (secrets never shown)",
      security: bearerSecurity,
      request: { params: Params },
      responses: { 200: jsonResponse(AccountingSchema, 'the settings'), ...errorResponses(400, 401, 404) },
    }),
    async (c) => {
      const { tenantId } = c.req.valid('param');
      assertTenantAccess(c.get('operator'), tenantId);
      return c.json(renderTenantAccounting(tenantId, await getTenantAccounting(ctx, tenantId)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: PATH,
      summary: 'Turn RADIUS accounting on, or replace its settings; sessions started from now on are accounted',
      security: bearerSecurity,
      request: { params: Params, body: jsonBody(PutAccountingBody) },
      responses: { 200: jsonResponse(AccountingSchema, 'the settings'), ...errorResponses(400, 401, 404, 415) },
    }),
    async (c) => {
      const { tenantId } = c.req.valid('param');
      assertTenantAccess(c.get('operator'), tenantId);
      const tenant = await putTenantAccounting(ctx, tenantId, c.req.valid('json'));
      return c.json(renderTenantAccounting(tenantId, tenant.accounting), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: PATH,
      summary: 'Turn RADIUS accounting off: new sessions get no records, records still waiting are dropped',
      security: bearerSecurity,
      request: { params: Params },
      responses: { 200: jsonResponse(AccountingSchema, 'the settings (off)'), ...errorResponses(400, 401, 404) },
    }),
    async (c) => {
      const { tenantId } = c.req.valid('param');
      assertTenantAccess(c.get('operator'), tenantId);
      const tenant = await deleteTenantAccounting(ctx, tenantId);
      return c.json(renderTenantAccounting(tenantId, tenant.accounting), 200);
    },
  );
}
