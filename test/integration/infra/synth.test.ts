/**
 * The real pipeline, offline: the project's esbuild step builds the function (and, when its source
 * exists, agent) bundles; the built API bundle answers a Lambda event; every route the app
 * documents is forwarded by the HTTP API; the CDK app synthesizes (cdk-nag included) and stages
 * the bundles as its assets.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createBrokerApp } from '../../../infra/lib/app';
import { API_ROUTES } from '../../../infra/lib/broker-api';
import { buildBundles, type BuildReport } from '../../../scripts/build-bundles';

let report: BuildReport;
const work = mkdtempSync(join(tmpdir(), 'tb-synth-'));

before(async () => {
  report = await buildBundles({ outDir: join(work, 'dist') });
});

/** API Gateway route matching: literal path, or `{proxy+}` taking one or more trailing segments. */
function routed(method: string, path: string): boolean {
  return API_ROUTES.some((r) => {
    if (r.method !== 'ANY' && r.method !== method) return false;
    if (!r.path.endsWith('/{proxy+}')) return r.path === path;
    const base = r.path.slice(0, -'{proxy+}'.length);
    return path.startsWith(base) && path.length > base.length;
  });
}

describe('bundles and synth', () => {
  test('the API and reaper bundles are built as ESM with source maps', () => {
    for (const name of ['api', 'reaper'] as const) {
      const bundle = report.built.find((b) => b.name === name);
      assert.ok(bundle, `${name} built`);
      assert.ok(existsSync(`${bundle.file}.map`));
    }
  });

  test('the built API bundle serves a Lambda event, and API Gateway forwards every documented route', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, {
      BROKER_ADMIN_TOKEN: 'a'.repeat(24),
      DATA_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}`,
      TABLE_NAME: 'tunnel-broker-synth-test',
      AWS_REGION: 'us-east-1',
      LOG_LEVEL: 'silent',
    });
    try {
      const api = report.built.find((b) => b.name === 'api')!;
      const mod = (await import(pathToFileURL(api.file).href)) as { handler: (e: unknown, c: unknown) => Promise<{ statusCode: number; body: string }> };
      const event = {
        version: '2.0',
        routeKey: 'GET /openapi.json',
        rawPath: '/openapi.json',
        rawQueryString: '',
        headers: { host: 'api.example.test' },
        requestContext: { http: { method: 'GET', path: '/openapi.json', sourceIp: '192.0.2.1' }, requestId: 'r1', stage: '$default' },
        isBase64Encoded: false,
      };
      const response = await mod.handler(event, {});
      assert.equal(response.statusCode, 200);
      const doc = JSON.parse(response.body) as { paths: Record<string, Record<string, unknown>> };
      const operations = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => [m.toUpperCase(), path] as const));
      assert.ok(operations.length > 10);
      const unrouted = operations.filter(([m, p]) => !routed(m, p));
      assert.deepEqual(unrouted, [], 'every documented route is reachable through API Gateway');
      assert.ok(routed('GET', '/openapi.json') && routed('GET', '/docs'));
      // The web console, served by the same bundle from the files beside it (console/).
      assert.ok(routed('GET', '/console') && routed('GET', '/console/app.js') && routed('GET', '/console/app.css'));
      for (const [path, type] of [['/console', /text\/html/], ['/console/app.js', /javascript/], ['/console/app.css', /text\/css/]] as const) {
        const page = await mod.handler({ ...event, routeKey: `GET ${path}`, rawPath: path, requestContext: { ...event.requestContext, http: { ...event.requestContext.http, path } } }, {});
        assert.equal(page.statusCode, 200, path);
        assert.match(String((page as unknown as { headers: Record<string, string> }).headers['content-type']), type, path);
        assert.match(String((page as unknown as { headers: Record<string, string> }).headers['content-security-policy']), /script-src 'self'/, path);
      }
    } finally {
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
      Object.assign(process.env, saved);
    }
  });

  test('the app synthesizes offline, passes cdk-nag and stages the bundles as assets', () => {
    const outdir = join(work, 'cdk.out');
    const { app, stack } = createBrokerApp({ distDir: join(work, 'dist'), outdir });
    const assembly = app.synth(); // throws on any unacknowledged cdk-nag finding
    const artifact = assembly.getStackByName(stack.stackName);
    assert.ok(existsSync(join(outdir, artifact.templateFile)));
    const staged = readdirSync(outdir).filter((d) => d.startsWith('asset.'));
    const withApi = staged.filter((d) => existsSync(join(outdir, d, 'index.mjs')));
    assert.ok(withApi.length >= 2, 'api and reaper bundles staged');
    assert.equal(staged.filter((d) => ['index.html', 'app.js', 'app.css'].every((f) => existsSync(join(outdir, d, 'console', f)))).length, 1, 'the console ships in the API asset');
    const agentBuilt = report.built.some((b) => b.name === 'agent');
    assert.equal(stack.fleet !== undefined, agentBuilt, 'the fleet is deployed exactly when the agent bundle exists');
    const template = readFileSync(join(outdir, artifact.templateFile), 'utf8');
    assert.ok(template.includes('"nodejs22.x"'));
  });
});
