/** The broker's request metrics label by route template, and its /metrics answers this host only. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Hono } from 'hono';
import { createPrometheusBrokerMetrics, isLocalPeer, mountMetricsRoute } from '../../../../functions/src/entry/local-metrics';
import { requestMetrics } from '../../../../functions/src/http/metrics';
import type { AppEnv } from '../../../../functions/src/http/context';

function app() {
  const metrics = createPrometheusBrokerMetrics({ processMetrics: false });
  const hono = new Hono<AppEnv>();
  hono.use('*', requestMetrics(metrics));
  hono.get('/v1/tenants/:tenantId', (c) => c.json({ id: c.req.param('tenantId') }));
  hono.get('/boom', () => {
    throw new Error('boom');
  });
  hono.onError((_e, c) => c.json({ error: {} }, 500));
  mountMetricsRoute(hono, metrics);
  return { hono, metrics };
}

test('requests are counted by route template and status, never by the path typed', async () => {
  const { hono, metrics } = app();
  for (let i = 0; i < 20; i++) await hono.request(`/v1/tenants/tenant-${i}`);
  await hono.request('/no/such/path/123');
  await hono.request('/boom');
  const text = await metrics.registry.metrics();
  assert.match(text, /broker_http_requests_total\{method="GET",route="\/v1\/tenants\/:tenantId",status="200"\} 20/);
  assert.match(text, /broker_http_requests_total\{method="GET",route="unmatched",status="404"\} 1/);
  assert.match(text, /broker_http_requests_total\{method="GET",route="\/boom",status="500"\} 1/, 'a thrown error is counted with the status onError chose');
  // Only the label sets: a sample's value (a latency sum, say) may well contain the digits 123.
  const labelSets = [...text.matchAll(/\{([^}]*)\}/g)].map((m) => m[1]).join('\n');
  assert.ok(labelSets.includes('route="/v1/tenants/:tenantId"'), 'the label sets were read');
  assert.ok(!/tenant-\d|123/.test(labelSets), 'no path parameter in a label');
});

test('/metrics answers loopback and the Unix socket, and is a 404 to any other host', async () => {
  const { hono } = app();
  const from = (remoteAddress: string | undefined) => hono.request('/metrics', {}, { incoming: { socket: { remoteAddress } } });
  assert.equal((await from('127.0.0.1')).status, 200);
  assert.equal((await from('::ffff:127.0.0.1')).status, 200);
  assert.equal((await from(undefined)).status, 200);
  assert.equal((await from('10.0.0.7')).status, 404);
  assert.equal((await from('::ffff:192.0.2.1')).status, 404);
  assert.ok(isLocalPeer('::1') && !isLocalPeer('128.0.0.1'));
});
