/**
 * The broker's Prometheus metrics in the local stack: a `BrokerMetrics` over a prom-client registry,
 * and the GET /metrics route the local stack mounts on its (loopback) listener. Lambda never loads
 * this file: counters in one of many short-lived containers mean nothing to a scraper, and AWS
 * has CloudWatch (Lambda's own metrics, the autoscaler's embedded-metric-format fleet metrics).
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Hono } from 'hono';
import { AUTH_FAILURE_REASONS, END_REASONS } from '../../../contract/src/values';
import type { BrokerMetrics } from '../http/metrics';

export interface PrometheusBrokerMetrics extends BrokerMetrics {
  readonly registry: Registry;
}

/** Seconds; DynamoDB round trips are milliseconds, a password hash tens of them. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export function createPrometheusBrokerMetrics(options: { processMetrics?: boolean } = {}): PrometheusBrokerMetrics {
  const registry = new Registry();
  const registers = [registry];
  const requests = new Counter({ name: 'broker_http_requests_total', help: 'HTTP requests answered, by method, route template and status code', labelNames: ['method', 'route', 'status'], registers });
  const latency = new Histogram({
    name: 'broker_http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by method and route template',
    labelNames: ['method', 'route'],
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const auth = new Counter({ name: 'broker_auth_results_total', help: 'Authentication verdicts given to agents, by outcome (accepted or the failure reason)', labelNames: ['outcome'], registers });
  for (const outcome of ['accepted', ...AUTH_FAILURE_REASONS]) auth.inc({ outcome }, 0);
  const started = new Counter({ name: 'broker_sessions_started_total', help: 'Sessions started (addresses allocated) for agents; retries of a start are not counted', registers });
  const stops = new Counter({ name: 'broker_session_stop_reports_total', help: 'Stop reports recorded from agents, by the end reason recorded', labelNames: ['reason'], registers });
  for (const reason of END_REASONS) stops.inc({ reason }, 0);
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry });
  const knownReasons = new Set<string>(END_REASONS);
  return {
    registry,
    request(method, route, status, seconds) {
      requests.inc({ method, route, status: String(status) });
      latency.observe({ method, route }, seconds);
    },
    authResult(outcome) {
      auth.inc({ outcome });
    },
    sessionStarted() {
      started.inc();
    },
    sessionStopReported(reason) {
      stops.inc({ reason: knownReasons.has(reason) ? reason : 'error' });
    },
  };
}

/** Loopback, or the stack's Unix socket (no remote address): this host only. */
export function isLocalPeer(remoteAddress: string | undefined): boolean {
  if (remoteAddress === undefined) return true;
  return remoteAddress === '::1' || /^(::ffff:)?127\./.test(remoteAddress);
}

/**
 * GET /metrics on `app`, for the local stack only, answered to this host only (loopback or the
 * stack's socket) even when HOST opens the API to other hosts: no credential, like the agent's.
 * Others get the app's ordinary 404 (docs/metrics.md explains the choice).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function mountMetricsRoute(app: Hono<any, any, any>, metrics: PrometheusBrokerMetrics): void {
  app.get('/metrics', async (c, next) => {
    const remote = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming?.socket?.remoteAddress;
    if (!isLocalPeer(remote)) return next();
    return c.body(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType });
  });
}
