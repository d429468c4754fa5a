/**
 * Authorization matrix: every route of GET /openapi.json x every kind of caller -> the expected status, and no body
 * answered to tenant B's key ever carries tenant A's data. A route added to the API without an entry in ROUTES
 * fails the first test, so the matrix cannot silently fall behind.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_TOKEN, createHarness, seedAgent, grantFor, startBody, startGranted, type ApiResponse, type Harness } from '../../support/api-harness';

type Caller =
  | 'none'
  | 'malformed'
  | 'revoked-key'
  | 'agent'
  | 'revoked-agent'
  | 'tenant-a'
  | 'tenant-b'
  | 'admin'
  | 'fleet-key';
const CALLERS: readonly Caller[] = ['none', 'malformed', 'revoked-key', 'agent', 'revoked-agent', 'tenant-a', 'tenant-b', 'admin', 'fleet-key'];

/**
 * fleet: fleet credentials only. tenant: a resource of tenant A (B gets 404, as for a missing tenant).
 * session-list: every operator may list, each sees only its own. agent: agent credentials only.
 */
type Access = 'fleet' | 'tenant' | 'session-list' | 'agent';

interface Prepared {
  readonly path: string;
  readonly body?: unknown;
}
interface RouteEntry {
  readonly access: Access;
  /** Builds a request that succeeds for an authorised caller (fresh fixtures for destructive routes). */
  readonly prepare: () => Promise<Prepared>;
  /** Success statuses besides the documented 2xx (e.g. 503 when no agent can serve). */
  readonly alsoOk?: readonly number[];
}

const A = { tenantId: 'acorp', user: 'alice-acorp', pool: 'pool-acorp', cidr: '10.77.0.0/24' };
const B = { tenantId: 'bcorp', user: 'bob-bcorp', pool: 'pool-bcorp', cidr: '10.88.0.0/24' };

let h: Harness;
let agent: { agentId: string; token: string };
const tokens = {} as Record<Caller, string | undefined>;
/** Strings that identify tenant A's data; none may reach tenant B's caller. */
const tenantASecrets = new Set<string>([A.tenantId, A.user, A.pool, '10.77.0.']);
let sessionA = '';
let sessionB = '';
let n = 0;
const unique = () => ++n;

async function ok(res: ApiResponse | Promise<ApiResponse>, status: number): Promise<ApiResponse> {
  const r = await res;
  assert.equal(r.status, status, JSON.stringify(r.body));
  return r;
}

async function seedTenant(t: typeof A): Promise<void> {
  await ok(h.admin('POST', '/v1/tenants', { tenantId: t.tenantId, name: t.tenantId, maxSessions: 1000, maxSessionsPerUser: 1000, authMethods: ['pap', 'chap-md5', 'mschapv2'] }), 201);
  await ok(h.admin('POST', `/v1/tenants/${t.tenantId}/pools`, { poolId: t.pool, cidr: t.cidr, dns: ['1.1.1.1'] }), 201);
  await ok(h.admin('POST', `/v1/tenants/${t.tenantId}/users`, { username: t.user, password: 'matrix-password' }), 201);
}

async function startSession(t: typeof A): Promise<string> {
  const res = await ok(startGranted(h, agent.token, startBody(`ref-${unique()}`, t.tenantId, t.user), 'matrix-password'), 201);
  return res.body.sessionId as string;
}

const ROUTES: Record<string, RouteEntry> = {
  'POST /v1/tenants': { access: 'fleet', prepare: async () => ({ path: '/v1/tenants', body: { tenantId: `mx-${unique()}`, name: 'M' } }) },
  'GET /v1/tenants': { access: 'session-list', prepare: async () => ({ path: '/v1/tenants' }) },
  'PATCH /v1/tenants/{tenantId}': { access: 'fleet', prepare: async () => ({ path: `/v1/tenants/${A.tenantId}`, body: { maxSessions: 1000 } }) },
  'DELETE /v1/tenants/{tenantId}': {
    access: 'fleet',
    prepare: async () => {
      const tenantId = `del-${unique()}`;
      await ok(h.admin('POST', '/v1/tenants', { tenantId, name: 'to delete' }), 201);
      return { path: `/v1/tenants/${tenantId}` };
    },
  },
  'GET /v1/tenants/{tenantId}': { access: 'tenant', prepare: async () => ({ path: `/v1/tenants/${A.tenantId}` }) },
  'GET /v1/tenants/{tenantId}/auth': { access: 'tenant', prepare: async () => ({ path: `/v1/tenants/${A.tenantId}/auth` }) },
  'PUT /v1/tenants/{tenantId}/auth': { access: 'tenant', prepare: async () => ({ path: `/v1/tenants/${A.tenantId}/auth`, body: { kind: 'local' } }) },
  'GET /v1/tenants/{tenantId}/accounting': { access: 'tenant', prepare: async () => ({ path: `/v1/tenants/${A.tenantId}/accounting` }) },
  'PUT /v1/tenants/{tenantId}/accounting': {
    access: 'tenant',
    prepare: async () => ({ path: `/v1/tenants/${A.tenantId}/accounting`, body: { servers: [{ host: '192.0.2.50', secret: 'matrix-acct-secret' }] } }),
  },
  'DELETE /v1/tenants/{tenantId}/accounting': { access: 'tenant', prepare: async () => ({ path: `/v1/tenants/${A.tenantId}/accounting` }) },
  'POST /v1/tenants/{tenantId}/users': {
    access: 'tenant',
    prepare: async () => ({ path: `/v1/tenants/${A.tenantId}/users`, body: { username: `u${unique()}`, password: 'matrix-password' } }),
  },
  'GET /v1/tenants/{tenantId}/users': { access: 'tenant', prepare: async () => ({ path: `/v1/tenants/${A.tenantId}/users` }) },
  'GET /v1/tenants/{tenantId}/users/{username}/auth-events': {
    access: 'tenant',
    prepare: async () => ({ path: `/v1/tenants/${A.tenantId}/users/${A.user}/auth-events` }),
  },
  'GET /v1/tenants/{tenantId}/users/{username}': { access: 'tenant', prepare: async () => ({ path: `/v1/tenants/${A.tenantId}/users/${A.user}` }) },
  'PATCH /v1/tenants/{tenantId}/users/{username}': {
    access: 'tenant',
    prepare: async () => ({ path: `/v1/tenants/${A.tenantId}/users/${A.user}`, body: { password: 'matrix-password' } }),
  },
  'POST /v1/tenants/{tenantId}/users/{username}/unlock': {
    access: 'tenant',
    prepare: async () => ({ path: `/v1/tenants/${A.tenantId}/users/${A.user}/unlock` }),
  },
  'DELETE /v1/tenants/{tenantId}/users/{username}': {
    access: 'tenant',
    prepare: async () => {
      const username = `gone${unique()}`;
      await ok(h.admin('POST', `/v1/tenants/${A.tenantId}/users`, { username, password: 'matrix-password' }), 201);
      tenantASecrets.add(username);
      return { path: `/v1/tenants/${A.tenantId}/users/${username}` };
    },
  },
  'POST /v1/tenants/{tenantId}/pools': {
    access: 'tenant',
    prepare: async () => {
      const i = unique();
      return { path: `/v1/tenants/${A.tenantId}/pools`, body: { poolId: `px${i}`, cidr: `10.${100 + i}.0.0/24`, dns: ['1.1.1.1'] } };
    },
  },
  'PATCH /v1/tenants/{tenantId}/pools/{poolId}': {
    access: 'tenant',
    prepare: async () => ({ path: `/v1/tenants/${A.tenantId}/pools/${A.pool}`, body: { dns: ['1.1.1.1'] } }),
  },
  'DELETE /v1/tenants/{tenantId}/pools/{poolId}': {
    access: 'tenant',
    prepare: async () => {
      const i = unique();
      const poolId = `pd${i}`;
      await ok(h.admin('POST', `/v1/tenants/${A.tenantId}/pools`, { poolId, cidr: `10.${100 + i}.0.0/24`, dns: ['1.1.1.1'] }), 201);
      tenantASecrets.add(poolId);
      return { path: `/v1/tenants/${A.tenantId}/pools/${poolId}` };
    },
  },
  'GET /v1/tenants/{tenantId}/pools': { access: 'tenant', prepare: async () => ({ path: `/v1/tenants/${A.tenantId}/pools` }) },
  'GET /v1/tenants/{tenantId}/endpoint': {
    access: 'tenant',
    prepare: async () => ({ path: `/v1/tenants/${A.tenantId}/endpoint` }),
    alsoOk: [503],
  },
  'GET /v1/sessions': { access: 'session-list', prepare: async () => ({ path: '/v1/sessions' }) },
  'GET /v1/sessions/{sessionId}': { access: 'tenant', prepare: async () => ({ path: `/v1/sessions/${sessionA}` }) },
  'DELETE /v1/sessions/{sessionId}': {
    access: 'tenant',
    prepare: async () => {
      const id = await startSession(A);
      tenantASecrets.add(id);
      return { path: `/v1/sessions/${id}` };
    },
  },
  'GET /v1/audit': { access: 'fleet', prepare: async () => ({ path: '/v1/audit' }) },
  'GET /v1/tenants/{tenantId}/audit': { access: 'tenant', prepare: async () => ({ path: `/v1/tenants/${A.tenantId}/audit` }) },
  'GET /v1/tenants/{tenantId}/usage': {
    access: 'tenant',
    prepare: async () => ({ path: `/v1/tenants/${A.tenantId}/usage?from=2024-04-01T00:00:00Z&to=2024-05-02T00:00:00Z` }),
  },
  'POST /v1/agents': { access: 'fleet', prepare: async () => ({ path: '/v1/agents', body: { name: 'matrix' } }) },
  'GET /v1/agents': { access: 'fleet', prepare: async () => ({ path: '/v1/agents' }) },
  'DELETE /v1/agents/{agentId}': {
    access: 'fleet',
    prepare: async () => {
      const res = await ok(h.admin('POST', '/v1/agents', { name: 'to-revoke' }), 201);
      return { path: `/v1/agents/${res.body.agentId}` };
    },
  },
  'POST /v1/agents/{agentId}/drain': {
    access: 'fleet',
    prepare: async () => {
      const res = await ok(h.admin('POST', '/v1/agents', { name: 'to-drain' }), 201);
      return { path: `/v1/agents/${res.body.agentId}/drain`, body: { deadlineSeconds: 60 } };
    },
  },
  'POST /v1/agents/{agentId}/rotate-credential': {
    access: 'fleet',
    prepare: async () => {
      const res = await ok(h.admin('POST', '/v1/agents', { name: 'to-rotate' }), 201);
      return { path: `/v1/agents/${res.body.agentId}/rotate-credential` };
    },
  },
  'GET /v1/api-keys': { access: 'session-list', prepare: async () => ({ path: '/v1/api-keys' }) },
  'POST /v1/api-keys': { access: 'fleet', prepare: async () => ({ path: '/v1/api-keys', body: { scope: 'fleet', name: 'matrix' } }) },
  'DELETE /v1/api-keys/{keyId}': {
    access: 'fleet',
    prepare: async () => {
      const res = await ok(h.admin('POST', '/v1/api-keys', { scope: 'fleet', name: 'to-delete' }), 201);
      return { path: `/v1/api-keys/${res.body.apiKey.keyId}` };
    },
  },
  'PUT /v1/ipsec': { access: 'fleet', prepare: async () => ({ path: '/v1/ipsec', body: { psk: 'matrix-psk-0123456789' } }) },
  'GET /v1/ipsec': { access: 'fleet', prepare: async () => ({ path: '/v1/ipsec' }) },
  'POST /v1/agent/register': {
    access: 'agent',
    prepare: async () => ({ path: '/v1/agent/register', body: { publicAddress: '203.0.113.10', capacity: 50, version: '0.1.0' } }),
  },
  'POST /v1/agent/heartbeat': {
    access: 'agent',
    prepare: async () => ({ path: '/v1/agent/heartbeat', body: { activeSessions: 0, counters: { bytesIn: 0, bytesOut: 0, packetsIn: 0, packetsOut: 0 }, ackCommandIds: [] } }),
  },
  'GET /v1/agent/settings': { access: 'agent', prepare: async () => ({ path: '/v1/agent/settings' }) },
  'POST /v1/agent/authenticate': {
    access: 'agent',
    prepare: async () => ({
      path: '/v1/agent/authenticate',
      body: { method: 'pap', username: `${B.user}@${B.tenantId}`, password: 'matrix-password', agentSessionRef: `aref-${unique()}`, peerAddress: '198.51.100.7' },
    }),
  },
  'POST /v1/agent/sessions': {
    access: 'agent',
    prepare: async () => {
      const body = startBody(`mref-${unique()}`, B.tenantId, B.user);
      return { path: '/v1/agent/sessions', body: { ...body, grant: await grantFor(h, agent.token, body, 'matrix-password') } };
    },
  },
  'POST /v1/agent/sessions/{sessionId}/interim': {
    access: 'agent',
    prepare: async () => ({ path: `/v1/agent/sessions/${sessionB}/interim`, body: { counters: { bytesIn: 1, bytesOut: 1, packetsIn: 1, packetsOut: 1 } } }),
  },
  'POST /v1/agent/sessions/{sessionId}/stop': {
    access: 'agent',
    prepare: async () => ({ path: `/v1/agent/sessions/${await startSession(B)}/stop`, body: { reason: 'user-request' } }),
  },
};

/** Routes open to everyone by design. */
const PUBLIC_ROUTES = new Set(['GET /healthz']);

function expected(access: Access, caller: Caller): 'ok' | number {
  if (access === 'agent') {
    if (caller === 'agent') return 'ok';
    if (caller === 'none' || caller === 'revoked-agent') return 401;
    return 403; // an operator credential (valid or not) on an agent route: wrong family
  }
  switch (caller) {
    case 'none':
    case 'malformed':
    case 'revoked-key':
      return 401;
    case 'agent':
    case 'revoked-agent':
      return 403;
    case 'admin':
    case 'fleet-key':
      return 'ok';
    case 'tenant-a':
      return access === 'fleet' ? 403 : 'ok';
    case 'tenant-b':
      return access === 'fleet' ? 403 : access === 'tenant' ? 404 : 'ok';
  }
}

let documented: Map<string, number[]>;

before(async () => {
  h = await createHarness({ MAX_BODY_BYTES: '65536' });
  agent = await seedAgent(h, 'matrix-agent');
  await seedTenant(A);
  await seedTenant(B);
  const revoked = await seedAgent(h, 'matrix-revoked');
  await ok(h.admin('DELETE', `/v1/agents/${revoked.agentId}`), 200);
  const key = async (body: object) => (await ok(h.admin('POST', '/v1/api-keys', body), 201)).body as { token: string; apiKey: { keyId: string } };
  const ka = await key({ scope: 'tenant', tenantId: A.tenantId, name: 'a' });
  const kb = await key({ scope: 'tenant', tenantId: B.tenantId, name: 'b' });
  const kf = await key({ scope: 'fleet', name: 'fleet' });
  const kr = await key({ scope: 'fleet', name: 'revoked' });
  await ok(h.admin('DELETE', `/v1/api-keys/${kr.apiKey.keyId}`), 204);
  tenantASecrets.add(ka.apiKey.keyId);
  Object.assign(tokens, {
    none: undefined,
    malformed: 'tbk_not-a-real-token',
    'revoked-key': kr.token,
    agent: agent.token,
    'revoked-agent': revoked.token,
    'tenant-a': ka.token,
    'tenant-b': kb.token,
    admin: ADMIN_TOKEN,
    'fleet-key': kf.token,
  });
  sessionA = await startSession(A);
  sessionB = await startSession(B);
  tenantASecrets.add(sessionA);
  const spec = (await ok(h.call('GET', '/openapi.json'), 200)).body as { paths: Record<string, Record<string, { responses: object }>> };
  documented = new Map();
  for (const [path, ops] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      documented.set(`${method.toUpperCase()} ${path}`, Object.keys(op.responses).map(Number).filter((s) => s >= 200 && s < 300));
    }
  }
});
after(async () => {
  await h?.close();
});

/** The response text minus what the caller itself put in the path (a 404 may echo the id it was asked for). */
function visibleText(res: ApiResponse, path: string): string {
  let text = typeof res.body === 'string' ? res.body : JSON.stringify(res.body ?? '');
  for (const segment of path.split(/[/?&=]/).filter((s) => s.length > 0)) text = text.split(segment).join('');
  return text;
}

describe('authorization matrix', () => {
  test('every documented route has a matrix entry (and no entry is stale)', () => {
    const routes = [...documented.keys()].filter((r) => !PUBLIC_ROUTES.has(r));
    const missing = routes.filter((r) => !(r in ROUTES));
    assert.deepEqual(missing, [], `add these routes to the matrix in ${import.meta.url}`);
    assert.deepEqual(Object.keys(ROUTES).filter((r) => !documented.has(r)), [], 'matrix entries for routes that no longer exist');
  });

  for (const route of Object.keys(ROUTES)) {
    test(route, async () => {
      const entry = ROUTES[route]!;
      const [method] = route.split(' ') as [string];
      const successes = [...(documented.get(route) ?? []), ...(entry.alsoOk ?? [])];
      assert.ok(successes.length > 0, `${route} documents no 2xx response`);
      for (const caller of CALLERS) {
        const { path, body } = await entry.prepare();
        const token = tokens[caller];
        const res = await h.call(method, path, { ...(token !== undefined ? { token } : {}), ...(body !== undefined ? { body } : {}) });
        const want = expected(entry.access, caller);
        const detail = `${route} as ${caller}: ${res.status} ${JSON.stringify(res.body)}`;
        if (want === 'ok') assert.ok(successes.includes(res.status), detail);
        else assert.equal(res.status, want, detail);
        if (res.status >= 400) assert.equal(typeof res.body?.error?.code, 'string', `error body shape: ${detail}`);
        if (caller === 'tenant-b') {
          const text = visibleText(res, path);
          for (const secret of tenantASecrets) assert.ok(!text.includes(secret), `tenant B saw "${secret}": ${detail}`);
        }
      }
    });
  }

  test('session lists are scoped: each tenant key sees its own sessions, never the other tenant\'s', async () => {
    const a = await ok(h.call('GET', '/v1/sessions', { token: tokens['tenant-a']! }), 200);
    const b = await ok(h.call('GET', '/v1/sessions', { token: tokens['tenant-b']! }), 200);
    const ids = (r: ApiResponse) => (r.body.items as Array<{ sessionId: string; tenantId: string }>).map((s) => s.sessionId);
    assert.ok(ids(a).includes(sessionA) && !ids(a).includes(sessionB));
    assert.ok(ids(b).includes(sessionB) && !ids(b).includes(sessionA));
    for (const s of b.body.items as Array<{ tenantId: string }>) assert.equal(s.tenantId, B.tenantId);
    // Asking explicitly for tenant A's sessions or filtering by A's user is the same 404 as a missing tenant.
    const explicit = await h.call('GET', `/v1/sessions?tenantId=${A.tenantId}`, { token: tokens['tenant-b']! });
    assert.equal(explicit.status, 404);
    const byAgent = await ok(h.call('GET', `/v1/sessions?agentId=${agent.agentId}`, { token: tokens['tenant-b']! }), 200);
    assert.ok(!ids(byAgent).includes(sessionA), 'an agent filter does not widen a tenant key past its tenant');
  });

  test('public routes answer without credentials and carry no tenant data', async () => {
    for (const r of PUBLIC_ROUTES) {
      const [method, path] = r.split(' ') as [string, string];
      const res = await h.call(method, path);
      assert.ok(res.status === 200 || res.status === 503, `${r}: ${res.status}`);
      for (const secret of tenantASecrets) assert.ok(!JSON.stringify(res.body).includes(secret));
    }
    const docs = await h.call('GET', '/openapi.json');
    assert.ok(!JSON.stringify(docs.body).includes(A.tenantId));
  });
});
