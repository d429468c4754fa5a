import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OpenAPIHono } from '@hono/zod-openapi';
import { registerConsoleRoutes } from '../../../../functions/src/http/console-routes';
import type { ConsoleAssets } from '../../../../functions/src/http/console-files';
import type { AppEnv } from '../../../../functions/src/http/context';
import { onError } from '../../../../functions/src/http/error-handler';

const assets: ConsoleAssets = {
  'index.html': new TextEncoder().encode('<!doctype html><title>c</title>'),
  'app.js': new TextEncoder().encode('export {}'),
  'app.css': new TextEncoder().encode('body{}'),
};

function app(with_: ConsoleAssets | undefined) {
  const a = new OpenAPIHono<AppEnv>();
  registerConsoleRoutes(a, with_);
  a.onError(onError);
  return a;
}

test('every console file is served with its type and the lock-down headers, and no cookie', async () => {
  for (const [path, type] of [['/console', 'text/html'], ['/console/', 'text/html'], ['/console/app.js', 'text/javascript'], ['/console/app.css', 'text/css']] as const) {
    const res = await app(assets).request(path);
    assert.equal(res.status, 200, path);
    assert.match(res.headers.get('content-type') ?? '', new RegExp(`^${type}`), path);
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe/);
    assert.equal(res.headers.get('x-frame-options'), 'DENY');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
    assert.equal(res.headers.get('set-cookie'), null);
  }
});

test('only the built files: anything else under /console is not served', async () => {
  for (const path of ['/console/app.js.map', '/console/../app.ts', '/console/main.ts', '/console/index.htm']) {
    assert.equal((await app(assets).request(path)).status, 404, path);
  }
});

test('without a built console, /console answers 404 with the error body saying how to build it', async () => {
  const res = await app(undefined).request('/console');
  assert.equal(res.status, 404);
  const body = (await res.json()) as { error: { code: string; message: string } };
  assert.equal(body.error.code, 'not-found');
  assert.match(body.error.message, /web console is not part of this build.*build-console/);
});
