/**
 * Request size limits and the server-side request timeout. Every POST/PUT route of GET /openapi.json refuses an
 * oversized body with 413 JSON before authentication or parsing; a slow store yields 504 JSON, not a hung request.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { createApp } from '../../../functions/src/app';
import { parseBrokerConfig } from '../../../functions/src/config';
import type { Store } from '../../../functions/src/domain/store';
import { createTestStore, type TestStore } from '../../support/test-store';
import { ADMIN_TOKEN, createHarness, seedAgent, type Harness } from '../../support/api-harness';

let h: Harness;
let agentToken: string;
before(async () => {
  h = await createHarness({ MAX_BODY_BYTES: '4096' });
  agentToken = (await seedAgent(h, 'limits-agent')).token;
});
after(async () => {
  await h?.close();
});

async function bodyRoutes(): Promise<Array<{ method: string; path: string }>> {
  const spec = (await h.call('GET', '/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
  const out: Array<{ method: string; path: string }> = [];
  for (const [path, ops] of Object.entries(spec.paths)) {
    for (const method of Object.keys(ops)) {
      if (method === 'post' || method === 'put' || method === 'patch') out.push({ method: method.toUpperCase(), path: path.replace(/\{[^}]+\}/g, 'x1') });
    }
  }
  return out;
}

describe('request size limits', () => {
  test('an oversized body is 413 JSON on every POST/PUT route, with and without credentials', async () => {
    const routes = await bodyRoutes();
    assert.ok(routes.length >= 12, `found only ${routes.length} body routes`);
    const big = JSON.stringify({ name: 'x'.repeat(5000), password: 'y'.repeat(100) });
    for (const { method, path } of routes) {
      const token = path.startsWith('/v1/agent/') ? agentToken : ADMIN_TOKEN;
      for (const t of [token, undefined]) {
        const res = await h.call(method, path, { ...(t ? { token: t } : {}), rawBody: big, headers: { 'content-type': 'application/json' } });
        assert.equal(res.status, 413, `${method} ${path} (${t ? 'authenticated' : 'anonymous'}): ${res.status} ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error.code, 'payload-too-large');
      }
    }
  });

  test('a body just under the limit is parsed normally; a streamed body without Content-Length is still cut off', async () => {
    const fits = await h.call('POST', '/v1/agents', { token: ADMIN_TOKEN, body: { name: 'n'.repeat(100) } });
    assert.equal(fits.status, 201);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 10; i++) controller.enqueue(new Uint8Array(1024).fill(0x20));
        controller.close();
      },
    });
    const app = createApp({
      store: h.testStore.store,
      clock: h.clock,
      logger: pino({ level: 'silent' }),
      config: h.config,
    });
    const res = await app.request('/v1/agents', {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: stream,
      duplex: 'half', // undici needs it for a stream body
    } as RequestInit);
    assert.equal(res.status, 413);
  });
});

describe('request timeout', () => {
  let ts: TestStore;
  before(async () => {
    ts = await createTestStore();
  });
  after(async () => {
    await ts?.close();
  });

  /** A store whose reads take `delayMs`. */
  function slowStore(store: Store, delayMs: number): Store {
    return new Proxy(store, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function') return value;
        if (typeof prop === 'string' && prop.startsWith('get')) {
          return async (...args: unknown[]) => {
            await new Promise((r) => setTimeout(r, delayMs));
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        }
        return value.bind(target);
      },
    });
  }

  test('a slow store gives 504 JSON within the limit; a fast one answers normally', async () => {
    const config = parseBrokerConfig({
      BROKER_ADMIN_TOKEN: ADMIN_TOKEN,
      DATA_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      TABLE_NAME: ts.tableName,
      REQUEST_TIMEOUT_MS: '300',
    });
    assert.equal(parseBrokerConfig({ BROKER_ADMIN_TOKEN: ADMIN_TOKEN, DATA_KEYS: config.dataKeys.map((k) => `${k.keyId}:${k.keyBase64}`).join(',') }).requestTimeoutMs, 10_000);
    const deps = { clock: { now: () => Date.now() }, logger: pino({ level: 'silent' }), config };
    const slow = createApp({ ...deps, store: slowStore(ts.store, 2000) });
    const started = performance.now();
    const res = await slow.request('/v1/tenants/nobody', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    const ms = performance.now() - started;
    assert.equal(res.status, 504);
    assert.equal(res.headers.get('content-type')?.startsWith('application/json'), true);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'timeout');
    assert.ok(ms < 1500, `answered after ${ms.toFixed(0)} ms`);

    const fast = createApp({ ...deps, store: ts.store });
    assert.equal((await fast.request('/v1/tenants/nobody', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).status, 404);
  });
});
