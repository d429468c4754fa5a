/**
 * What the app reports to an optional metrics sink: the local stack serves them as Prometheus text
 * (entry/local-metrics.ts); on Lambda there is no sink (CloudWatch has the invocation metrics, and
 * the autoscaler publishes the fleet's in embedded metric format). Labels are bounded: the route is
 * the template (`/v1/tenants/:tenantId`), never the path a caller typed.
 */
import type { MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import type { AuthFailureReason, EndReason } from '../../../contract/src/values';
import type { AppEnv } from './context';

export interface BrokerMetrics {
  /** One answered HTTP request. `route` is a route template or `unmatched`. */
  request(method: string, route: string, status: number, seconds: number): void;
  /** A verdict of POST /v1/agent/authenticate. */
  authResult(outcome: 'accepted' | AuthFailureReason): void;
  /** POST /v1/agent/sessions created a session (not a retry of one). */
  sessionStarted(): void;
  /** An agent's stop report was recorded, with the reason the session ends with. */
  sessionStopReported(reason: EndReason): void;
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** The route template that answered, or `unmatched` when only middleware matched (a 404). */
export function routeLabel(template: string): string {
  return template === '' || template.endsWith('*') ? 'unmatched' : template;
}

/** Times every request and reports it with its route template and status. */
export function requestMetrics(metrics: BrokerMetrics): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      const method = METHODS.has(c.req.method) ? c.req.method : 'OTHER';
      metrics.request(method, routeLabel(routePath(c, -1)), c.res.status, (performance.now() - started) / 1000);
    }
  };
}
