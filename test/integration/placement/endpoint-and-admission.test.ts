/**
 * Placement and admission through the real app on DynamoDB Local: the tenant endpoint route,
 * session-start refusals, and the autoscaler's drain/release path with a recording provider.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { applyScalingActions, RecordingScalingProvider } from '../../../functions/src/domain/autoscaling';
import { startDrain } from '../../../functions/src/domain/agents-service';
import { createHarness, heartbeatBody, seedTenant, startBody, startGranted, type Harness } from '../../support/api-harness';

let h: Harness;

async function enrol(name: string, options: { capacity?: number; address?: string; region?: string } = {}) {
  const capacity = options.capacity ?? 10;
  const res = await h.admin('POST', '/v1/agents', { name, region: options.region ?? 'eu-west-1', capacity });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const token = res.body.token as string;
  const reg = await h.call('POST', '/v1/agent/register', {
    token,
    body: { publicAddress: options.address ?? '203.0.113.10', capacity, version: '0.1.0' },
  });
  assert.equal(reg.status, 200, JSON.stringify(reg.body));
  return { agentId: res.body.agentId as string, token };
}

const ctx = () => ({ store: h.testStore.store, clock: h.clock });

describe('tenant endpoint and admission', () => {
  before(async () => {
    h = await createHarness({ VPN_DNS_DOMAIN: 'example.net' });
    await seedTenant(h, 'acme', { maxSessions: 3, maxSessionsPerUser: 1 });
    await seedTenant(h, 'other');
    for (const u of ['bob', 'carol', 'dave']) {
      const r = await h.admin('POST', '/v1/tenants/acme/users', { username: u, password: 'correct horse' });
      assert.equal(r.status, 201);
    }
  });
  after(() => h.close());

  test('no agent yet: 503 no-healthy-agent', async () => {
    const res = await h.admin('GET', '/v1/tenants/acme/endpoint');
    assert.equal(res.status, 503);
    assert.equal(res.body.error.code, 'no-healthy-agent');
  });

  test('returns healthy agents, the DNS name hint and the PSK revision (never the PSK)', async () => {
    await h.admin('PUT', '/v1/ipsec', { psk: 'a-very-secret-psk-value' });
    await enrol('edge-a', { address: '203.0.113.1' });
    await enrol('edge-b', { address: '203.0.113.2' });
    await enrol('edge-us', { address: '198.51.100.9', region: 'us-east-1' });
    const res = await h.admin('GET', '/v1/tenants/acme/endpoint?region=eu-west-1&count=5');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body.agents.map((a: { publicAddress: string }) => a.publicAddress).sort(), ['203.0.113.1', '203.0.113.2']);
    assert.equal(res.body.dnsName, 'acme.vpn.example.net');
    assert.deepEqual(res.body.ipsec, { pskName: 'fleet', pskRevision: 1, allowLegacyProposals: true }, 'legacy proposals are on by default');
    assert.ok(!JSON.stringify(res.body).includes('a-very-secret-psk-value'));
    const one = await h.admin('GET', '/v1/tenants/acme/endpoint');
    assert.equal(one.status, 200);
    assert.equal(one.body.agents.length, 2, 'default count is 2');
  });

  test('tenant keys: own tenant allowed, another tenant is 404; unknown tenant 404; bad count 400', async () => {
    const key = await h.admin('POST', '/v1/api-keys', { scope: 'tenant', tenantId: 'acme', name: 'acme-ops' });
    assert.equal(key.status, 201, JSON.stringify(key.body));
    const own = await h.call('GET', '/v1/tenants/acme/endpoint', { token: key.body.token });
    assert.equal(own.status, 200);
    const foreign = await h.call('GET', '/v1/tenants/other/endpoint', { token: key.body.token });
    assert.equal(foreign.status, 404);
    assert.equal((await h.admin('GET', '/v1/tenants/nobody/endpoint')).status, 404);
    assert.equal((await h.admin('GET', '/v1/tenants/acme/endpoint?count=0')).status, 400);
  });

  test('openapi.json documents the route and its schema', async () => {
    const doc = await h.call('GET', '/openapi.json');
    assert.ok(doc.body.paths['/v1/tenants/{tenantId}/endpoint']?.get);
    assert.ok(doc.body.components.schemas.TenantEndpoint);
  });

  test('admission: draining agent refused with agent-draining and left out of the endpoint', async () => {
    const a = await enrol('edge-drain', { address: '203.0.113.50' });
    await startDrain(ctx(), a.agentId, h.clock.now() + 60_000);
    const res = await startGranted(h, a.token, startBody('d-1'));
    assert.equal(res.status, 409);
    assert.equal(res.body.error.code, 'agent-draining');
    const hb = await h.call('POST', '/v1/agent/heartbeat', { token: a.token, body: heartbeatBody() });
    assert.ok(hb.body.commands.some((c: { type: string }) => c.type === 'drain'), 'drain command delivered');
    const ep = await h.admin('GET', '/v1/tenants/acme/endpoint?count=5');
    assert.ok(!ep.body.agents.some((x: { agentId: string }) => x.agentId === a.agentId));
  });

  test('admission: dead agent refused with agent-dead', async () => {
    const a = await enrol('edge-dead');
    await h.testStore.store.transitionAgent(a.agentId, ['active'], 'dead', h.clock.now());
    const res = await startGranted(h, a.token, startBody('x-1'));
    assert.equal(res.status, 409);
    assert.equal(res.body.error.code, 'agent-dead');
  });

  test('admission: full agent, per-user limit, tenant quota', async () => {
    const a = await enrol('edge-small', { capacity: 1 });
    // The broker counts what the agent reports (the agent itself refuses calls past its capacity),
    // and that count includes calls in setup: a heartbeat sent during s-1's setup says 1 of 1.
    const beat = (activeSessions: number) => ({ activeSessions, counters: { bytesIn: 0, bytesOut: 0, packetsIn: 0, packetsOut: 0 }, ackCommandIds: [] });
    assert.equal((await h.call('POST', '/v1/agent/heartbeat', { token: a.token, body: beat(1) })).status, 200);
    assert.equal((await startGranted(h, a.token, startBody('s-1'))).status, 201);
    assert.equal((await h.call('POST', '/v1/agent/heartbeat', { token: a.token, body: beat(2) })).status, 200);
    const full = await startGranted(h, a.token, startBody('s-2', 'acme', 'bob'));
    assert.equal(full.status, 409);
    assert.equal(full.body.error.code, 'agent-full');

    const b = await enrol('edge-big', { capacity: 10 });
    const perUser = await startGranted(h, b.token, startBody('b-1')); // alice again
    assert.equal(perUser.status, 409);
    assert.equal(perUser.body.error.code, 'quota-exceeded');
    assert.equal(perUser.body.error.field, 'maxSessionsPerUser');
    assert.equal((await startGranted(h, b.token, startBody('b-2', 'acme', 'bob'))).status, 201);
    assert.equal((await startGranted(h, b.token, startBody('b-3', 'acme', 'carol'))).status, 201);
    const quota = await startGranted(h, b.token, startBody('b-4', 'acme', 'dave'));
    assert.equal(quota.status, 409);
    assert.equal(quota.body.error.code, 'quota-exceeded');
    assert.equal(quota.body.error.field, 'maxSessions');
    // A retry of an already started session is not a new admission.
    assert.equal((await startGranted(h, b.token, startBody('b-2', 'acme', 'bob'))).status, 200);
  });

  test('stale agents are not offered: after 3 missed heartbeats the endpoint has no agent', async () => {
    h.clock.advance(3 * h.config.heartbeatIntervalSeconds * 1000 + 1);
    const res = await h.admin('GET', '/v1/tenants/acme/endpoint');
    assert.equal(res.status, 503);
    assert.equal(res.body.error.code, 'no-healthy-agent');
  });

  test('release at the drain deadline ends sessions with agent-shutdown and terminates the agent', async () => {
    const a = await enrol('edge-release');
    const started = await startGranted(h, a.token, startBody('r-1', 'other', 'alice'));
    assert.equal(started.status, 201, JSON.stringify(started.body));
    await startDrain(ctx(), a.agentId, h.clock.now() - 1);
    const provider = new RecordingScalingProvider();
    const outcomes = await applyScalingActions({ ...ctx(), provider }, [
      { type: 'release', agentId: a.agentId, cause: 'deadline-passed', endSessions: true },
    ]);
    assert.deepEqual(outcomes.map((o) => [o.ok, o.sessionsEnded]), [[true, 1]]);
    assert.deepEqual(provider.calls, [{ op: 'terminate', agentId: a.agentId }]);
    const session = await h.testStore.store.getSession(started.body.sessionId);
    assert.equal(session?.state, 'stopped');
    assert.equal(session?.endReason, 'agent-shutdown');
    assert.equal((await h.testStore.store.getAgent(a.agentId))?.state, 'dead');
  });
});

describe('placement between heartbeats', () => {
  let p: Harness;
  before(async () => {
    p = await createHarness();
    await seedTenant(p, 'acme');
    for (const u of ['bob', 'carol']) assert.equal((await p.admin('POST', '/v1/tenants/acme/users', { username: u, password: 'correct horse' })).status, 201);
  });
  after(() => p.close());

  // Regression: the endpoint used only the last heartbeat's count, so a burst of clients between two
  // heartbeats was sent to an agent that had meanwhile filled up and refused them (CDN 4): the
  // local autoscaling test failed that way now and then.
  test('sessions started since the last heartbeat count against the headroom the endpoint sees', async () => {
    const enrolOn = async (name: string, address: string) => {
      const res = await p.admin('POST', '/v1/agents', { name, region: 'eu-west-1', capacity: 2 });
      const token = res.body.token as string;
      assert.equal((await p.call('POST', '/v1/agent/register', { token, body: { publicAddress: address, capacity: 2, version: '0.1.0' } })).status, 200);
      return { agentId: res.body.agentId as string, token };
    };
    const x = await enrolOn('edge-x', '203.0.113.21');
    const y = await enrolOn('edge-y', '203.0.113.22');
    const offered = async () => ((await p.admin('GET', '/v1/tenants/acme/endpoint?count=5')).body.agents as { agentId: string }[]).map((a) => a.agentId).sort();
    assert.deepEqual(await offered(), [x.agentId, y.agentId].sort());

    p.clock.advance(10);
    assert.equal((await startGranted(p, x.token, startBody('x-1', 'acme', 'bob'))).status, 201);
    assert.deepEqual(await offered(), [x.agentId, y.agentId].sort(), 'one of two slots left');
    assert.equal((await startGranted(p, x.token, startBody('x-2', 'acme', 'carol'))).status, 201);
    assert.deepEqual(await offered(), [y.agentId], 'x is full although its last heartbeat said 0');

    // The next heartbeat is the agent's own count again (one of the two has ended meanwhile).
    p.clock.advance(10);
    const beat = { activeSessions: 1, counters: { bytesIn: 0, bytesOut: 0, packetsIn: 0, packetsOut: 0 }, ackCommandIds: [] };
    assert.equal((await p.call('POST', '/v1/agent/heartbeat', { token: x.token, body: beat })).status, 200);
    assert.deepEqual(await offered(), [x.agentId, y.agentId].sort());
  });
});
