/**
 * Test harness for the broker API: the real app over a fresh DynamoStore table on DynamoDB Local,
 * called with app.request() (no server), a movable clock and helpers to build fixtures.
 */
import { randomBytes } from 'node:crypto';
import pino, { type Logger } from 'pino';
import { createApp } from '../../functions/src/app';
import { computeMsChapV2Response } from '../../contract/src/ppp-auth';
import { parseBrokerConfig, type BrokerConfig } from '../../functions/src/config';
import type { NudgeSender } from '../../functions/src/domain/command-nudge';
import { createTestStore, type TestStore } from './test-store';

export const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';

export interface MovableClock {
  now(): number;
  advance(ms: number): void;
}

export interface ApiResponse {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  headers: Headers;
}

export interface Harness {
  readonly testStore: TestStore;
  readonly clock: MovableClock;
  readonly config: BrokerConfig;
  call(method: string, path: string, options?: { token?: string; body?: unknown; headers?: Record<string, string>; rawBody?: string }): Promise<ApiResponse>;
  /** Operator call with the admin token. */
  admin(method: string, path: string, body?: unknown): Promise<ApiResponse>;
  close(): Promise<void>;
}

export async function createHarness(env: Record<string, string> = {}, deps: { nudgeSender?: NudgeSender; logger?: Logger } = {}): Promise<Harness> {
  let t = Date.parse('2024-05-01T12:00:00Z');
  const clock: MovableClock = { now: () => t, advance: (ms) => void (t += ms) };
  const testStore = await createTestStore({ clock });
  const config = parseBrokerConfig({
    BROKER_ADMIN_TOKEN: ADMIN_TOKEN,
    DATA_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    TABLE_NAME: testStore.tableName,
    AUTH_LOCKOUT_THRESHOLD: '3',
    AUTH_LOCKOUT_SECONDS: '600',
    MAX_BODY_BYTES: '4096',
    ...env,
  });
  const app = createApp({ store: testStore.store, clock, logger: deps.logger ?? pino({ level: 'silent' }), config, ...(deps.nudgeSender ? { nudgeSender: deps.nudgeSender } : {}) });
  const call: Harness['call'] = async (method, path, options = {}) => {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    let body: string | undefined = options.rawBody;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    const res = await app.request(path, { method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON (e.g. /docs)
    }
    return { status: res.status, body: parsed, headers: res.headers };
  };
  return {
    testStore,
    clock,
    config,
    call,
    admin: (method, path, body) => call(method, path, { token: ADMIN_TOKEN, ...(body !== undefined ? { body } : {}) }),
    close: () => testStore.close(),
  };
}

const seededTenants = new WeakMap<Harness, number>();

/** A tenant with one /24 pool and a user `alice` (password `correct horse`). */
export async function seedTenant(
  h: Harness,
  tenantId: string,
  options: { maxSessions?: number; maxSessionsPerUser?: number; cidr?: string; authMethods?: string[] } = {},
): Promise<void> {
  const tenant = await h.admin('POST', '/v1/tenants', {
    tenantId,
    name: `Tenant ${tenantId}`,
    ...(options.maxSessions !== undefined ? { maxSessions: options.maxSessions } : {}),
    ...(options.maxSessionsPerUser !== undefined ? { maxSessionsPerUser: options.maxSessionsPerUser } : {}),
    ...(options.authMethods ? { authMethods: options.authMethods } : {}),
  });
  if (tenant.status !== 201) throw new Error(`seed tenant: ${tenant.status} ${JSON.stringify(tenant.body)}`);
  // Pools never overlap on a fleet: each seeded tenant gets the next /24 (10.8.0.0/24, 10.8.1.0/24, ...).
  const seeded = seededTenants.get(h) ?? 0;
  seededTenants.set(h, seeded + 1);
  const cidr = options.cidr ?? `10.8.${seeded}.0/24`;
  const pool = await h.admin('POST', `/v1/tenants/${tenantId}/pools`, { poolId: 'main', cidr, dns: ['1.1.1.1'] });
  if (pool.status !== 201) throw new Error(`seed pool: ${pool.status} ${JSON.stringify(pool.body)}`);
  const user = await h.admin('POST', `/v1/tenants/${tenantId}/users`, { username: 'alice', password: 'correct horse' });
  if (user.status !== 201) throw new Error(`seed user: ${user.status} ${JSON.stringify(user.body)}`);
}

/** Enrols an agent and registers it; returns its id and token. */
export async function seedAgent(h: Harness, name = 'edge-1'): Promise<{ agentId: string; token: string }> {
  const res = await h.admin('POST', '/v1/agents', { name, region: 'eu-west-1', capacity: 50 });
  if (res.status !== 201) throw new Error(`seed agent: ${res.status} ${JSON.stringify(res.body)}`);
  const { token } = res.body as { token: string };
  const reg = await h.call('POST', '/v1/agent/register', { token, body: { publicAddress: '203.0.113.10', capacity: 50, version: '0.1.0' } });
  if (reg.status !== 200) throw new Error(`register agent: ${reg.status} ${JSON.stringify(reg.body)}`);
  return { agentId: (res.body as { agent: { agentId: string } }).agent.agentId, token };
}

const ZERO = { bytesIn: 0, bytesOut: 0, packetsIn: 0, packetsOut: 0 };

export function startBody(ref: string, tenantId = 'acme', username = 'alice') {
  return { agentSessionRef: ref, tunnelId: 7, l2tpSessionId: 9, peerAddress: '198.51.100.4:1701', tenantId, username, authMethod: 'mschapv2' };
}

/** An MS-CHAPv2 authentication body for `name` (`user@tenant`) with `password`, as an agent relays it. */
export async function mschapv2Body(name: string, password: string, ref: string, peerAddress = '198.51.100.4') {
  const authenticatorChallenge = randomBytes(16);
  const r = await computeMsChapV2Response({ password, authenticatorChallenge, username: name });
  return {
    method: 'mschapv2' as const,
    username: name,
    agentSessionRef: ref,
    peerAddress,
    authenticatorChallenge: authenticatorChallenge.toString('hex'),
    peerChallenge: r.peerChallenge.toString('hex'),
    ntResponse: r.ntResponse.toString('hex'),
  };
}

/** Authenticates the start's user on the agent (MS-CHAPv2) and returns the grant for that start. */
export async function grantFor(h: Harness, token: string, body: { agentSessionRef: string; tenantId: string; username: string }, password = 'correct horse'): Promise<string> {
  const res = await h.call('POST', '/v1/agent/authenticate', { token, body: await mschapv2Body(`${body.username}@${body.tenantId}`, password, body.agentSessionRef) });
  if (res.status !== 200 || res.body.ok !== true) throw new Error(`authenticate ${body.username}@${body.tenantId}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.grant as string;
}

/** What an agent does for a session: authenticate its user, then start it with the grant. */
export async function startGranted(h: Harness, token: string, body: ReturnType<typeof startBody>, password?: string): Promise<ApiResponse> {
  const grant = await grantFor(h, token, body, password);
  return h.call('POST', '/v1/agent/sessions', { token, body: { ...body, grant } });
}

export function heartbeatBody(ackCommandIds: string[] = []) {
  return { activeSessions: 0, counters: ZERO, ackCommandIds };
}
