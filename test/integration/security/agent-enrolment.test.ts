/**
 * Issue 14 findings 8 and 9 at the API, through app.request() on DynamoDB Local.
 *
 * 8. An agent's registration overrode what the operator enrolled: an agent registering
 *    198.18.66.66 became a tenant's endpoint, and its capacity replaced the enrolled one.
 * 9. Revoking an agent left its sessions active (they waited for the reaper) while the agent, which
 *    read 401 agent-revoked as "broker unreachable", kept forwarding.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness, heartbeatBody, seedTenant, startBody, startGranted, type Harness } from '../../support/api-harness';

let h: Harness;
before(async () => {
  h = await createHarness();
  await seedTenant(h, 'acme', { maxSessionsPerUser: 10 });
});
after(async () => {
  await h?.close();
});

async function enrol(body: Record<string, unknown>): Promise<{ agentId: string; token: string }> {
  const res = await h.admin('POST', '/v1/agents', { region: 'eu-west-1', ...body });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return { agentId: res.body.agentId, token: res.body.token };
}
const register = (token: string, body: Record<string, unknown>) =>
  h.call('POST', '/v1/agent/register', { token, body: { version: 'test', ...body } });
const listed = async (agentId: string) => (await h.admin('GET', '/v1/agents')).body.items.find((a: { agentId: string }) => a.agentId === agentId);

describe('finding 8: the enrolment, not the agent, says where it is and how much it takes', () => {
  test('an enrolled address is pinned: a registration reporting another one does not move the tenant endpoint', async () => {
    const agent = await enrol({ name: 'pinned', publicAddress: '203.0.113.21', capacity: 100 });
    assert.equal((await listed(agent.agentId)).publicAddress, '203.0.113.21');
    const reg = await register(agent.token, { publicAddress: '198.18.66.66', capacity: 10_000 });
    assert.equal(reg.status, 200);
    assert.equal(reg.body.publicAddress, '203.0.113.21', 'the reply tells the agent what is on record');
    assert.equal(reg.body.capacity, 100);
    const me = await listed(agent.agentId);
    assert.deepEqual([me.publicAddress, me.capacity, me.enrolledCapacity], ['203.0.113.21', 100, 100]);
    const endpoint = await h.admin('GET', '/v1/tenants/acme/endpoint');
    assert.equal(endpoint.status, 200, JSON.stringify(endpoint.body));
    const addresses = endpoint.body.agents.map((a: { publicAddress: string }) => a.publicAddress);
    assert.ok(addresses.includes('203.0.113.21') && !addresses.includes('198.18.66.66'), JSON.stringify(addresses));
    await h.admin('DELETE', `/v1/agents/${agent.agentId}`);
  });

  test('without an enrolled address the first registration pins it; later ones cannot change it', async () => {
    const agent = await enrol({ name: 'tofu' });
    assert.equal((await listed(agent.agentId)).publicAddress, undefined);
    await register(agent.token, { publicAddress: '203.0.113.22', capacity: 50 });
    await register(agent.token, { publicAddress: '198.18.66.66', capacity: 50 });
    assert.equal((await listed(agent.agentId)).publicAddress, '203.0.113.22');
    await h.admin('DELETE', `/v1/agents/${agent.agentId}`);
  });

  test('capacity: the agent may lower it below the enrolled value and raise it back, never above it', async () => {
    const agent = await enrol({ name: 'capped', capacity: 1000 });
    const capacities: number[] = [];
    for (const reported of [10_000, 400, 1000, 100_000]) {
      await register(agent.token, { publicAddress: '203.0.113.23', capacity: reported });
      capacities.push((await listed(agent.agentId)).capacity);
    }
    assert.deepEqual(capacities, [1000, 400, 1000, 1000]);
    await h.admin('DELETE', `/v1/agents/${agent.agentId}`);
  });

  test('enrolment validates the address', async () => {
    const res = await h.admin('POST', '/v1/agents', { name: 'bad', publicAddress: 'not-an-ip' });
    assert.equal(res.status, 400);
    assert.equal(res.body.error.field, 'publicAddress');
  });
});

describe('finding 9: revoking an agent ends its sessions', () => {
  test('DELETE /v1/agents/{id}: its active sessions stop at once (agent-revoked), their addresses stay held for the grace period, the agent is told 401 agent-revoked', async () => {
    const agent = await enrol({ name: 'to-revoke', capacity: 50 });
    await register(agent.token, { publicAddress: '203.0.113.24', capacity: 50 });
    const started = [];
    for (const ref of ['r1', 'r2', 'r3']) {
      const res = await startGranted(h, agent.token, startBody(ref));
      assert.equal(res.status, 201, JSON.stringify(res.body));
      started.push(res.body as { sessionId: string; address: string; poolId: string });
    }
    const revoked = await h.admin('DELETE', `/v1/agents/${agent.agentId}`);
    assert.equal(revoked.status, 200);
    assert.equal(revoked.body.revoked, true);
    const sessions = (await h.admin('GET', `/v1/sessions?agentId=${agent.agentId}`)).body.items as { state: string; endReason?: string }[];
    assert.equal(sessions.length, 3);
    for (const s of sessions) assert.deepEqual([s.state, s.endReason], ['stopped', 'agent-revoked']);
    // The leases are kept (with releaseAfter) so the addresses are not handed out while the agent may still forward.
    const leases = await h.testStore.store.listLeases('acme', started[0]!.poolId);
    for (const s of started) {
      const lease = leases.find((l) => l.ip === s.address);
      assert.ok(lease?.releaseAfter !== undefined && lease.releaseAfter > h.clock.now(), JSON.stringify(lease));
    }
    const hb = await h.call('POST', '/v1/agent/heartbeat', { token: agent.token, body: heartbeatBody() });
    assert.equal(hb.status, 401);
    assert.equal(hb.body.error.code, 'agent-revoked');
    // Repeating the revocation is harmless.
    assert.equal((await h.admin('DELETE', `/v1/agents/${agent.agentId}`)).status, 200);
  });
});
