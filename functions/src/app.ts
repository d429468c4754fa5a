/**
 * The broker's HTTP app. It knows no runtime: Lambda (`entry/lambda.ts`) and the local Node server
 * (`entry/local-server.ts`) both serve `app.fetch`, and tests call `app.request()` directly.
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { requestId } from 'hono/request-id';
import { timeout } from 'hono/timeout';
import type { Logger } from 'pino';
import type { BrokerConfig } from './config';
import { createAuthGrants } from './domain/auth-grant';
import { createNudgeKeys, type NudgeSender } from './domain/command-nudge';
import { createPageCursors } from './domain/page-cursors';
import { cryptoRandom, type RandomBytes } from './domain/bearer-tokens';
import { createSecretBox, staticKeyRing, type SecretBox } from './domain/ppp-auth';
import { LeaseHints } from './domain/ip-allocation/lease-hints';
import type { ServiceContext } from './domain/service-context';
import type { Clock } from './domain/types';
import { BrokerError } from './errors';
import { auditLog } from './http/audit-log';
import { agentAuth, operatorAuth } from './http/auth';
import type { AppEnv } from './http/context';
import type { ConsoleAssets } from './http/console-files';
import { registerConsoleRoutes } from './http/console-routes';
import { renderDocsPage } from './http/docs-page';
import { notFoundHandler, onError } from './http/error-handler';
import { idempotencyMiddleware } from './http/idempotency-middleware';
import { requestMetrics, type BrokerMetrics } from './http/metrics';
import { registerAccountingRoutes } from './http/routes/accounting';
import { registerAuditRoutes } from './http/routes/audit';
import { registerUsageRoutes } from './http/routes/usage';
import { authenticateReadAhead, registerAgentProtocolRoutes } from './http/routes/agent-protocol';
import { registerEndpointRoutes } from './http/routes/endpoint';
import { registerFleetRoutes } from './http/routes/fleet';
import { registerHealthRoute } from './http/routes/health';
import { registerPoolRoutes } from './http/routes/pools';
import { registerSessionRoutes } from './http/routes/sessions';
import { registerTenantRoutes } from './http/routes/tenants';
import { validationHook } from './http/validation-hook';
import { createUdpNudgeSender } from './io/udp-nudge-sender';
import { RadiusClient } from './radius/client';
import type { RadiusExchange } from './domain/radius-auth/radius-verify';
import { withSettingsCache } from './store/settings-cache';
import type { Store } from './domain/store';

export interface AppDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly config: BrokerConfig;
  /** Randomness for ids and tokens; crypto.randomBytes by default. */
  readonly random?: RandomBytes;
  /** Defaults to an AES-GCM box over `config.dataKeys` (first key encrypts). */
  readonly secretBox?: SecretBox;
  /** Sends command nudges to agents; plain UDP (io/udp-nudge-sender.ts) by default. */
  readonly nudgeSender?: NudgeSender;
  /** Talks to tenants' RADIUS servers; a UDP RadiusClient (radius/client.ts) by default. */
  readonly radius?: RadiusExchange;
  /** Request, authentication and session counts (the local stack's /metrics); none on Lambda. */
  readonly metrics?: BrokerMetrics;
  /** The built web console (io/console-assets.ts); without it /console answers 404 saying so. */
  readonly consoleAssets?: ConsoleAssets;
  /** Wakes the RADIUS accounting sender after a session change (entry/radius-accounting.ts); none on Lambda. */
  readonly accountingKick?: () => void;
}

const OPENAPI_INFO = {
  openapi: '3.0.3',
  info: {
    title: 'tunnel-broker API',
    version: '1',
    description:
      'Operator routes take the fleet admin token or an API key (tbk_...); /v1/agent routes take an agent credential (tba_...). ' +
      'Errors are {"error":{"code","message","field"?}}. POSTs accept an optional Idempotency-Key header.',
  },
};

/** Builds the app once per process/container. */
export function createApp(deps: AppDeps): OpenAPIHono<AppEnv> {
  const { config } = deps;
  // In AWS the entry point has put the KMS data keys in front (entry/kms-data-keys.ts).
  if (config.dataKeys.length === 0) throw new Error('createApp: no data key (DATA_KEYS, or the KMS data keys the entry point loads)');
  const secretBox =
    deps.secretBox ??
    createSecretBox(
      staticKeyRing({
        currentKeyId: config.dataKeys[0]!.keyId,
        keys: Object.fromEntries(config.dataKeys.map((k) => [k.keyId, k.keyBase64])),
      }),
    );
  // Tenants and pools are read by every setup and never change once written: cached briefly.
  const store = config.settingsCacheMs > 0 ? withSettingsCache(deps.store, { ttlMs: config.settingsCacheMs, now: () => deps.clock.now() }) : deps.store;
  const ctx: ServiceContext = {
    store,
    clock: deps.clock,
    random: deps.random ?? cryptoRandom,
    secretBox,
    grants: createAuthGrants(config.dataKeys),
    cursors: createPageCursors(config.dataKeys),
    config,
    leaseHints: new LeaseHints(() => deps.clock.now()),
    nudgeKeys: createNudgeKeys(config.dataKeys),
    nudgeSender: deps.nudgeSender ?? createUdpNudgeSender({ logger: deps.logger }),
    radius: deps.radius ?? new RadiusClient(),
    ...(deps.accountingKick ? { accountingKick: deps.accountingKick } : {}),
  };

  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });

  app.use('*', requestId());
  if (deps.metrics) app.use('*', requestMetrics(deps.metrics));
  app.use('*', async (c, next) => {
    const log = deps.logger.child({ requestId: c.get('requestId') });
    c.set('log', log);
    const started = performance.now();
    await next();
    log.info({ method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round(performance.now() - started) }, 'request');
  });
  // A slow store must not hold a request (and a Lambda) until the platform kills it: answer 504 JSON instead.
  // The handler's promise cannot be cancelled; store writes are conditional, so a late finish stays consistent.
  app.use(
    '*',
    timeout(config.requestTimeoutMs, () => new HTTPException(504, { message: `no answer within ${config.requestTimeoutMs} ms` })),
  );
  app.use(
    '*',
    bodyLimit({
      maxSize: config.maxBodyBytes,
      onError: () => {
        throw new BrokerError('payload-too-large', 'payload-too-large', `request body exceeds ${config.maxBodyBytes} bytes`);
      },
    }),
  );
  // `/v1/agent/*` does not match `/v1/agents`: the two families never share a middleware.
  app.use('/v1/agent/*', agentAuth(ctx, [authenticateReadAhead(ctx)]));
  app.use('/v1/*', async (c, next) => {
    if (c.req.path === '/v1/agent' || c.req.path.startsWith('/v1/agent/')) return next();
    return operatorAuth(ctx, config.adminToken)(c, next);
  });
  // Outside the idempotency layer, so it sees whether an answer was a replay.
  app.use('/v1/*', auditLog(ctx));
  app.use('/v1/*', idempotencyMiddleware(ctx));

  registerHealthRoute(app, ctx);
  registerTenantRoutes(app, ctx);
  registerAccountingRoutes(app, ctx);
  registerPoolRoutes(app, ctx);
  registerEndpointRoutes(app, ctx);
  registerSessionRoutes(app, ctx);
  registerFleetRoutes(app, ctx);
  registerAuditRoutes(app, ctx);
  registerUsageRoutes(app, ctx);
  registerAgentProtocolRoutes(app, ctx, deps.metrics);

  app.doc('/openapi.json', OPENAPI_INFO);
  let docsHtml: string | undefined;
  app.get('/docs', (c) => {
    docsHtml ??= renderDocsPage(app.getOpenAPIDocument(OPENAPI_INFO) as unknown as Parameters<typeof renderDocsPage>[0]);
    return c.html(docsHtml);
  });
  registerConsoleRoutes(app, deps.consoleAssets);

  app.onError(onError);
  app.notFound(notFoundHandler(() => app.routes));
  return app;
}
