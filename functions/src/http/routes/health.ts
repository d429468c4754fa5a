import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { ServiceContext } from '../../domain/service-context';
import type { AppEnv } from '../context';
import { jsonResponse } from '../route-helpers';

const HealthSchema = z.object({ status: z.enum(['ok', 'unavailable']) }).openapi('Health');

/** `/healthz`: one store round trip; 503 when the table is unreachable. No authentication. */
export function registerHealthRoute(app: OpenAPIHono<AppEnv>, ctx: ServiceContext): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/healthz',
      summary: 'Liveness with a store ping',
      responses: { 200: jsonResponse(HealthSchema, 'healthy'), 503: jsonResponse(HealthSchema, 'store unreachable') },
    }),
    async (c) => {
      try {
        await ctx.store.ping();
        return c.json({ status: 'ok' as const }, 200);
      } catch (error) {
        c.get('log').warn({ err: error }, 'health check: store ping failed');
        return c.json({ status: 'unavailable' as const }, 503);
      }
    },
  );
}
