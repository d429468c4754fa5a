/**
 * Issue 18: operator routes refuse unknown fields with a 400 naming the field (a typo such as
 * `maxSession` used to be dropped: 201 and no limit), and change nothing; the agent protocol keeps
 * accepting fields it does not know, so agents of two versions run side by side.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness, heartbeatBody, seedAgent, seedTenant, type Harness } from '../../support/api-harness';

let h: Harness;
before(async () => {
  h = await createHarness();
  await seedTenant(h, 'acme');
});
after(async () => {
  await h?.close();
});

describe('operator routes are strict', () => {
  test('a misspelt field is 400 naming it, and nothing is created', async () => {
    const typo = await h.admin('POST', '/v1/tenants', { tenantId: 'typo', name: 'Typo', maxSession: 5 });
    assert.equal(typo.status, 400);
    assert.equal(typo.body.error.code, 'validation-failed');
    assert.equal(typo.body.error.field, 'maxSession');
    assert.match(typo.body.error.message, /unknown field/);
    assert.equal((await h.admin('GET', '/v1/tenants/typo')).status, 404);
  });

  test('nested unknown fields are named by their path', async () => {
    const res = await h.admin('POST', '/v1/tenants/acme/pools', {
      poolId: 'second',
      cidr: '10.99.0.0/24',
      dns: ['1.1.1.1'],
      exclude: [{ first: '10.99.0.10', last: '10.99.0.20', lats: '10.99.0.30' }],
    });
    assert.equal(res.status, 400);
    assert.equal(res.body.error.field, 'exclude.0.lats');
  });

  test('every operator body and query refuses an extra field', async () => {
    for (const [method, path, body] of [
      ['POST', '/v1/tenants/acme/users', { username: 'bob', password: 'long enough pw', statcIp: '10.8.0.9' }],
      ['POST', '/v1/agents', { name: 'edge', capcity: 5 }],
      ['POST', '/v1/api-keys', { scope: 'fleet', name: 'k', tenant: 'acme' }],
      ['PUT', '/v1/ipsec', { psk: 'a-long-enough-psk', allowLegacy: true }],
    ] as const) {
      const res = await h.admin(method, path, body);
      assert.equal(res.status, 400, `${method} ${path}: ${JSON.stringify(res.body)}`);
      assert.ok(['statcIp', 'capcity', 'tenant', 'allowLegacy'].includes(res.body.error.field), JSON.stringify(res.body));
    }
    const query = await h.admin('GET', '/v1/sessions?tenantid=acme');
    assert.equal(query.status, 400);
    assert.equal(query.body.error.field, 'tenantid');
    assert.equal((await h.admin('GET', '/v1/tenants/acme/users?limt=5')).body.error.field, 'limt');
  });
});

describe('the agent protocol tolerates new fields', () => {
  test('register and heartbeat with fields this broker does not know are accepted', async () => {
    const agent = await seedAgent(h, 'newer-agent');
    const reg = await h.call('POST', '/v1/agent/register', {
      token: agent.token,
      body: { publicAddress: '203.0.113.10', capacity: 50, version: '9.9.9', someFutureField: { x: 1 } },
    });
    assert.equal(reg.status, 200, JSON.stringify(reg.body));
    const beat = await h.call('POST', '/v1/agent/heartbeat', { token: agent.token, body: { ...heartbeatBody(), futureCounter: 7 } });
    assert.equal(beat.status, 200, JSON.stringify(beat.body));
  });
});
