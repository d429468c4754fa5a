/**
 * Agent credentials: rotation hands out a new token once and refuses the old one at once; revocation refuses the
 * agent's very next request (no cache, no grace).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness, heartbeatBody, seedAgent, type Harness } from '../../support/api-harness';

/** The secret of a `tbk_<keyId>_<secret>` / `tba_<agentId>_<secret>` token (base64url: may itself contain `_`). */
const secretPart = (token: string): string => token.split('_').slice(2).join('_');

let h: Harness;
before(async () => {
  h = await createHarness();
});
after(async () => {
  await h?.close();
});

const heartbeat = (token: string) => h.call('POST', '/v1/agent/heartbeat', { token, body: heartbeatBody() });

describe('agent credential rotation', () => {
  test('returns a new token once; the old token is refused immediately, the new one works', async () => {
    const agent = await seedAgent(h, 'rotating');
    assert.equal((await heartbeat(agent.token)).status, 200);
    const rotated = await h.admin('POST', `/v1/agents/${agent.agentId}/rotate-credential`);
    assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
    assert.equal(rotated.body.agentId, agent.agentId);
    assert.match(rotated.body.token, new RegExp(`^tba_${agent.agentId}_`));
    assert.notEqual(rotated.body.token, agent.token);
    assert.equal(rotated.body.agent.tokenHash, undefined, 'the hash is not rendered');
    const old = await heartbeat(agent.token);
    assert.equal(old.status, 401);
    assert.equal((await heartbeat(rotated.body.token)).status, 200);
    // The token is shown once: nothing else returns it.
    const listed = await h.admin('GET', '/v1/agents');
    assert.ok(!JSON.stringify(listed.body).includes(secretPart(rotated.body.token)));
  });

  test('rotating twice leaves only the latest token valid', async () => {
    const agent = await seedAgent(h, 'twice');
    const first = await h.admin('POST', `/v1/agents/${agent.agentId}/rotate-credential`);
    const second = await h.admin('POST', `/v1/agents/${agent.agentId}/rotate-credential`);
    assert.equal((await heartbeat(first.body.token)).status, 401);
    assert.equal((await heartbeat(second.body.token)).status, 200);
  });

  test('unknown agent is 404; a tenant key or an agent credential may not rotate (403)', async () => {
    const agent = await seedAgent(h, 'guarded');
    assert.equal((await h.admin('POST', '/v1/agents/agent-0000000000000000/rotate-credential')).status, 404);
    assert.equal((await h.call('POST', `/v1/agents/${agent.agentId}/rotate-credential`, { token: agent.token })).status, 403);
    await h.admin('POST', '/v1/tenants', { tenantId: 'rot', name: 'Rot' });
    const key = await h.admin('POST', '/v1/api-keys', { scope: 'tenant', tenantId: 'rot', name: 'k' });
    assert.equal((await h.call('POST', `/v1/agents/${agent.agentId}/rotate-credential`, { token: key.body.token })).status, 403);
    assert.equal((await heartbeat(agent.token)).status, 200, 'refused attempts change nothing');
  });
});

describe('agent revocation', () => {
  test('a revoked agent is refused on its next request, on every agent route', async () => {
    const agent = await seedAgent(h, 'doomed');
    assert.equal((await heartbeat(agent.token)).status, 200);
    assert.equal((await h.admin('DELETE', `/v1/agents/${agent.agentId}`)).status, 200);
    for (const [method, path, body] of [
      ['POST', '/v1/agent/heartbeat', heartbeatBody()],
      ['GET', '/v1/agent/settings', undefined],
      ['POST', '/v1/agent/register', { publicAddress: '203.0.113.10', capacity: 5, version: '1' }],
      ['POST', '/v1/agent/authenticate', { method: 'pap', username: 'alice@x', password: 'p' }],
    ] as const) {
      const res = await h.call(method, path, { token: agent.token, ...(body ? { body } : {}) });
      assert.equal(res.status, 401, `${method} ${path}`);
      assert.equal(res.body.error.code, 'agent-revoked');
    }
  });

  test('a revoked agent cannot be rotated back to life (409)', async () => {
    const agent = await seedAgent(h, 'dead-end');
    await h.admin('DELETE', `/v1/agents/${agent.agentId}`);
    const res = await h.admin('POST', `/v1/agents/${agent.agentId}/rotate-credential`);
    assert.equal(res.status, 409);
    assert.equal(res.body.error.code, 'agent-revoked');
  });
});
