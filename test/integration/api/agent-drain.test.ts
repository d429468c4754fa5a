/**
 * The operator's drain route (issue 19): POST /v1/agents/{agentId}/drain puts an agent into
 * `draining` with a deadline, queues the `drain` command its heartbeat fetches, and refuses what
 * cannot be drained with a named error.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness, heartbeatBody, seedAgent, seedTenant, startBody, startGranted, type Harness } from '../../support/api-harness';

let h: Harness;
before(async () => {
  h = await createHarness();
  await seedTenant(h, 'acme');
});
after(async () => {
  await h?.close();
});

describe('POST /v1/agents/{agentId}/drain', () => {
  test('drains with the given deadline; the heartbeat carries the drain command; new sessions are refused', async () => {
    const agent = await seedAgent(h, 'drain-me');
    const drained = await h.admin('POST', `/v1/agents/${agent.agentId}/drain`, { deadlineSeconds: 120 });
    assert.equal(drained.status, 200, JSON.stringify(drained.body));
    assert.equal(drained.body.state, 'draining');
    assert.equal(drained.body.drainDeadline, new Date(h.clock.now() + 120_000).toISOString());
    const beat = await h.call('POST', '/v1/agent/heartbeat', { token: agent.token, body: heartbeatBody() });
    assert.deepEqual(
      beat.body.commands.map((c: { type: string; deadline?: string }) => [c.type, c.deadline]),
      [['drain', drained.body.drainDeadline]],
    );
    const start = await startGranted(h, agent.token, startBody('drain-ref-1'));
    assert.equal(start.status, 409);
    assert.equal(start.body.error.code, 'agent-draining');
    const listed = await h.admin('GET', '/v1/agents');
    const row = listed.body.items.find((a: { agentId: string }) => a.agentId === agent.agentId);
    assert.equal(row.state, 'draining');
    assert.equal(row.drainDeadline, drained.body.drainDeadline);
  });

  test('a repeated drain keeps the first deadline and queues one command; no body field means one hour', async () => {
    const agent = await seedAgent(h, 'drain-twice');
    const first = await h.admin('POST', `/v1/agents/${agent.agentId}/drain`, {});
    assert.equal(first.body.drainDeadline, new Date(h.clock.now() + 3_600_000).toISOString());
    h.clock.advance(5_000);
    const again = await h.admin('POST', `/v1/agents/${agent.agentId}/drain`, { deadlineSeconds: 10 });
    assert.equal(again.status, 200);
    assert.equal(again.body.drainDeadline, first.body.drainDeadline);
    const beat = await h.call('POST', '/v1/agent/heartbeat', { token: agent.token, body: heartbeatBody() });
    assert.equal(beat.body.commands.length, 1);
  });

  test('refusals: unknown 404, revoked 409 agent-revoked, bad deadline or unknown field 400, tenant key 403; nothing changes', async () => {
    assert.equal((await h.admin('POST', '/v1/agents/agent-nobody/drain', {})).body.error.code, 'not-found');
    const revoked = await seedAgent(h, 'drain-revoked');
    assert.equal((await h.admin('DELETE', `/v1/agents/${revoked.agentId}`)).status, 200);
    const onRevoked = await h.admin('POST', `/v1/agents/${revoked.agentId}/drain`, {});
    assert.equal(onRevoked.status, 409);
    assert.equal(onRevoked.body.error.code, 'agent-revoked');

    const agent = await seedAgent(h, 'drain-refused');
    for (const body of [{ deadlineSeconds: -1 }, { deadlineSeconds: 86_401 }, { deadlineSeconds: 1.5 }, { deadline: 60 }]) {
      const bad = await h.admin('POST', `/v1/agents/${agent.agentId}/drain`, body);
      assert.equal(bad.status, 400, JSON.stringify(body));
      assert.equal(bad.body.error.field, Object.keys(body)[0]);
    }
    const key = await h.admin('POST', '/v1/api-keys', { scope: 'tenant', tenantId: 'acme', name: 'tenant-ops' });
    const asTenant = await h.call('POST', `/v1/agents/${agent.agentId}/drain`, { token: key.body.token, body: {} });
    assert.equal(asTenant.status, 403);
    const listed = await h.admin('GET', '/v1/agents');
    assert.equal(listed.body.items.find((a: { agentId: string }) => a.agentId === agent.agentId).state, 'active');
  });

  test('is in /openapi.json with its body schema', async () => {
    const doc = await h.call('GET', '/openapi.json');
    const op = doc.body.paths['/v1/agents/{agentId}/drain']?.post;
    assert.ok(op, 'POST /v1/agents/{agentId}/drain in the document');
    assert.equal(op.requestBody.content['application/json'].schema.$ref, '#/components/schemas/DrainAgent');
    assert.ok(doc.body.components.schemas.DrainAgent.properties.deadlineSeconds);
  });
});
