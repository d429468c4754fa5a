import { RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { Problems } from './errors';

/** One HTTP API route and who calls it (documentation for operators; auth is in the app). */
export interface ApiRoute {
  readonly method: apigw.HttpMethod;
  readonly path: string;
  readonly audience: 'public' | 'operator+agent';
}

/**
 * The routes API Gateway forwards to the broker function. Operator routes (/v1/tenants, /v1/sessions,
 * /v1/agents, /v1/ipsec, /v1/api-keys) and agent routes (register, heartbeat, authenticate, sessions)
 * all live under /v1 in ONE Hono router, which authenticates every call itself with a bearer token
 * (operator API key or `tba_<agentId>_<secret>` agent credential), as the control-plane issue decided.
 * So API Gateway needs no authorizer and forwards /v1/* whole: a new route in the app needs no infra
 * change, and anything outside these paths is answered 404 by API Gateway without invoking Lambda.
 */
export const API_ROUTES: readonly ApiRoute[] = [
  { method: apigw.HttpMethod.ANY, path: '/v1/{proxy+}', audience: 'operator+agent' },
  { method: apigw.HttpMethod.GET, path: '/healthz', audience: 'public' },
  { method: apigw.HttpMethod.GET, path: '/openapi.json', audience: 'public' },
  { method: apigw.HttpMethod.GET, path: '/docs', audience: 'public' },
  // The web console's static files (docs/console.md); its API calls go to /v1 with the operator's key.
  { method: apigw.HttpMethod.GET, path: '/console', audience: 'public' },
  { method: apigw.HttpMethod.GET, path: '/console/{proxy+}', audience: 'public' },
];

export interface BrokerApiProps {
  /** The function serving every route (the whole Hono app). */
  readonly handler: lambda.IFunction;
  /** Steady-state requests per second across the stage. @default 100 */
  readonly throttleRateLimit?: number;
  /** Burst bucket size. @default 200 */
  readonly throttleBurstLimit?: number;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly accessLogRetention?: logs.RetentionDays;
  /** @default API_ROUTES */
  readonly routes?: readonly ApiRoute[];
}

// JSON access log line; field names from the API Gateway v2 $context reference.
const ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: '$context.requestId',
  ip: '$context.identity.sourceIp',
  requestTime: '$context.requestTime',
  method: '$context.httpMethod',
  path: '$context.path',
  routeKey: '$context.routeKey',
  status: '$context.status',
  protocol: '$context.protocol',
  responseLength: '$context.responseLength',
  latencyMs: '$context.responseLatency',
  integrationLatencyMs: '$context.integrationLatency',
  integrationError: '$context.integrationErrorMessage',
  userAgent: '$context.identity.userAgent',
});

/** The broker's HTTP API (API Gateway v2): $default stage with throttling and JSON access logs. */
export class BrokerApi extends Construct {
  readonly api: apigw.HttpApi;
  readonly stage: apigw.HttpStage;
  readonly accessLogs: logs.LogGroup;

  constructor(scope: Construct, id: string, props: BrokerApiProps) {
    super(scope, id);
    const rate = props.throttleRateLimit ?? 100;
    const burst = props.throttleBurstLimit ?? 200;
    const routes = props.routes ?? API_ROUTES;
    const problems = new Problems();
    problems.check(!(rate > 0 && rate <= 10000), `throttleRateLimit ${rate} must be in (0, 10000] requests/s`);
    problems.check(!(Number.isInteger(burst) && burst >= 1 && burst <= 5000), `throttleBurstLimit ${burst} must be an integer in 1..5000`);
    problems.check(routes.length === 0, 'routes must not be empty');
    for (const route of routes) {
      problems.check(!route.path.startsWith('/'), `route path "${route.path}" must start with /`);
    }
    problems.throwIfAny(`BrokerApi ${id}`);

    this.api = new apigw.HttpApi(this, 'HttpApi', {
      description: 'tunnel-broker operator and agent API',
      createDefaultStage: false,
    });
    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.accessLogRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stage = new apigw.HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: rate, burstLimit: burst },
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(this.accessLogs),
        format: AccessLogFormat.custom(ACCESS_LOG_FORMAT),
      },
    });
    const integration = new HttpLambdaIntegration('Broker', props.handler, {
      payloadFormatVersion: apigw.PayloadFormatVersion.VERSION_2_0,
    });
    for (const route of routes) {
      this.api.addRoutes({ path: route.path, methods: [route.method], integration });
    }
  }

  /** Invoke URL of the $default stage, e.g. https://abc123.execute-api.eu-west-1.amazonaws.com/ */
  get url(): string {
    return this.stage.url;
  }
}
