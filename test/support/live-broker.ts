/**
 * A real broker for agent-side tests: the production Hono app on a fresh DynamoDB Local table,
 * served over HTTP on a free loopback port (or the given host), with admin helpers to seed a
 * tenant, pool, users and an enrolled agent. `stop()`/`start()` simulate a broker outage on the
 * same address.
 */
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { createApp } from '../../functions/src/app';
import type { ConsoleAssets } from '../../functions/src/http/console-files';
import { parseBrokerConfig } from '../../functions/src/config';
import { systemClock } from '../../functions/src/domain/types';
import { startLocalServer } from '../../functions/src/entry/local-server';
import { freePort } from '../../scripts/lib/dynamodb-local';
import { createTestStore, type TestStore } from './test-store';
import { fixturePassword } from './fixture-password';

export interface LiveBroker {
  readonly url: string;
  readonly adminToken: string;
  readonly testStore: TestStore;
  admin<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Creates a tenant with one pool and the given users (password = fixturePassword(username)). */
  seedTenant(tenantId: string, options?: { cidr?: string; users?: string[]; authMethods?: string[]; gateway?: string }): Promise<void>;
  enrolAgent(name?: string): Promise<{ agentId: string; token: string }>;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export interface LiveBrokerOptions {
  readonly host?: string;
  readonly env?: Record<string, string>;
  /** The web console to serve under /console (scripts/build-console.ts bundleConsole()). */
  readonly consoleAssets?: ConsoleAssets;
}

export async function startLiveBroker(options: LiveBrokerOptions = {}): Promise<LiveBroker> {
  const testStore = await createTestStore();
  const adminToken = `admin-${randomBytes(12).toString('hex')}`;
  const config = parseBrokerConfig({
    BROKER_ADMIN_TOKEN: adminToken,
    DATA_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    TABLE_NAME: testStore.tableName,
    HEARTBEAT_INTERVAL_SECONDS: '1',
    ...options.env,
  });
  const app = createApp({
    store: testStore.store,
    clock: systemClock,
    logger: pino({ level: 'silent' }),
    config,
    ...(options.consoleAssets ? { consoleAssets: options.consoleAssets } : {}),
  });
  const host = options.host ?? '127.0.0.1';
  const port = await freePort();
  let close: (() => Promise<void>) | undefined;
  const url = `http://${host}:${port}`;

  const admin: LiveBroker['admin'] = async (method, path, body) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  };

  const broker: LiveBroker = {
    url,
    adminToken,
    testStore,
    admin,
    async seedTenant(tenantId, seed = {}) {
      const steps: [string, unknown][] = [
        ['/v1/tenants', { tenantId, name: tenantId, ...(seed.authMethods ? { authMethods: seed.authMethods } : {}) }],
        [
          `/v1/tenants/${tenantId}/pools`,
          { poolId: 'main', cidr: seed.cidr ?? '10.8.0.0/24', dns: ['192.0.2.53'], ...(seed.gateway ? { gateway: seed.gateway } : {}) },
        ],
        ...(seed.users ?? ['alice']).map(
          (username): [string, unknown] => [`/v1/tenants/${tenantId}/users`, { username, password: fixturePassword(username), chapMd5: true }],
        ),
      ];
      for (const [path, body] of steps) {
        const result = await admin('POST', path, body);
        if (result.status !== 201) throw new Error(`seeding ${path}: ${result.status} ${JSON.stringify(result.body)}`);
      }
    },
    async enrolAgent(name = 'edge-test') {
      const result = await admin<{ agent: { agentId: string }; token: string }>('POST', '/v1/agents', { name, region: 'local', capacity: 20_000 });
      if (result.status !== 201) throw new Error(`enrolling agent: ${result.status} ${JSON.stringify(result.body)}`);
      return { agentId: result.body.agent.agentId, token: result.body.token };
    },
    async start() {
      close ??= await startLocalServer({ app, host, port });
    },
    async stop() {
      const closing = close;
      close = undefined;
      await closing?.();
    },
    async close() {
      await broker.stop();
      await testStore.close();
    },
  };
  await broker.start();
  return broker;
}
