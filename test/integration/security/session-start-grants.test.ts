/**
 * Issue 14 #3: the session start's grant was optional, so an agent could start sessions for any
 * user without authenticating them: agent B started a session for bob@globex with no
 * /authenticate call, and with agent A's grant for alice. Now every start needs the grant of its
 * own authentication: same agent, tenant, user, method and agentSessionRef, at most 60 s old.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness, grantFor, seedAgent, seedTenant, startBody, type Harness } from '../../support/api-harness';

let h: Harness;
let a: { agentId: string; token: string };
let b: { agentId: string; token: string };
before(async () => {
  h = await createHarness();
  await seedTenant(h, 'acme');
  await seedTenant(h, 'globex', { cidr: '10.50.0.0/24' });
  await h.admin('POST', '/v1/tenants/globex/users', { username: 'bob', password: 'bobs secret' });
  a = await seedAgent(h, 'edge-a');
  b = await seedAgent(h, 'edge-b');
});
after(async () => {
  await h?.close();
});

const start = (token: string, body: unknown) => h.call('POST', '/v1/agent/sessions', { token, body });

test('agent B cannot start sessions for users it did not authenticate', async () => {
  const bob = startBody('b-1', 'globex', 'bob');
  // No authentication at all.
  const none = await start(b.token, bob);
  assert.deepEqual([none.status, none.body.error.field], [400, 'grant']);
  const forged = await start(b.token, { ...bob, grant: 'k1.eyJ1c2VybmFtZSI6ImJvYiJ9.AAAA' });
  assert.deepEqual([forged.status, forged.body.error.code], [403, 'grant-invalid']);

  // Agent A's genuine grant for alice, in B's hands.
  const aliceBody = startBody('a-1', 'acme', 'alice');
  const alicesGrant = await grantFor(h, a.token, aliceBody);
  for (const body of [{ ...bob, grant: alicesGrant }, { ...aliceBody, grant: alicesGrant }]) {
    const res = await start(b.token, body);
    assert.deepEqual([res.status, res.body.error.code], [403, 'grant-invalid'], JSON.stringify(body));
  }
  // A itself may use it, once: for the session it was issued for, not for a second one.
  assert.equal((await start(a.token, { ...aliceBody, grant: alicesGrant })).status, 201);
  const again = await start(a.token, { ...startBody('a-2', 'acme', 'alice'), grant: alicesGrant });
  assert.deepEqual([again.status, again.body.error.code], [403, 'grant-invalid']);

  const active = await h.admin('GET', '/v1/sessions?state=active');
  assert.deepEqual(active.body.items.map((s: { tenantId: string; username: string; agentId: string }) => [s.tenantId, s.username, s.agentId]), [['acme', 'alice', a.agentId]]);
});
