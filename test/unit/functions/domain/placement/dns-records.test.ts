import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { planTenantRecords, Route53Publisher, type Route53Api } from '../../../../../functions/src/domain/placement';
import { agent, FRESH_MS, NOW } from './fixtures';

const options = { domain: 'example.net', now: NOW, freshnessMs: FRESH_MS, agentsPerTenant: 2 };
const fleet = [
  agent({ agentId: 'a', publicAddress: '203.0.113.1' }),
  agent({ agentId: 'b', publicAddress: '203.0.113.2' }),
  agent({ agentId: 'c', publicAddress: '203.0.113.3' }),
  agent({ agentId: 'drain', publicAddress: '203.0.113.9', state: 'draining' }),
  agent({ agentId: 'full', publicAddress: '203.0.113.8', activeSessions: 100 }),
];

describe('planTenantRecords', () => {
  test('new tenants get agentsPerTenant eligible addresses, sorted; draining and full agents never appear', () => {
    const plan = planTenantRecords(['acme', 'beta'], fleet, new Map(), options, () => 0.5);
    assert.equal(plan.changes.length, 2);
    for (const change of plan.changes) {
      assert.equal(change.addresses.length, 2);
      assert.deepEqual([...change.addresses].sort(), change.addresses);
      for (const a of change.addresses) assert.ok(['203.0.113.1', '203.0.113.2', '203.0.113.3'].includes(a), a);
    }
    assert.equal(plan.changes[0]!.name, 'acme.vpn.example.net');
  });

  test('a record whose agents are all still eligible is kept (no change), one with a gone agent is replaced', () => {
    const current = new Map([
      ['acme', ['203.0.113.1', '203.0.113.2']],
      ['beta', ['203.0.113.2', '203.0.113.9']], // .9 is draining now
    ]);
    const plan = planTenantRecords(['acme', 'beta'], fleet, current, options, () => 0.1);
    assert.deepEqual(plan.changes.map((c) => c.tenantId), ['beta']);
    assert.ok(!plan.changes[0]!.addresses.includes('203.0.113.9'));
    assert.deepEqual(plan.records.get('acme'), ['203.0.113.1', '203.0.113.2']);
  });

  test('a short record grows when more agents become eligible; with one candidate one address is enough', () => {
    const current = new Map([['acme', ['203.0.113.1']]]);
    assert.equal(planTenantRecords(['acme'], fleet, current, options).changes.length, 1);
    const single = [fleet[0]!];
    assert.equal(planTenantRecords(['acme'], single, current, options).changes.length, 0);
  });

  test('no eligible agent: the tenant is unplaced and its record is left as it is', () => {
    const current = new Map([['acme', ['203.0.113.1']]]);
    const plan = planTenantRecords(['acme', 'beta'], [fleet[3]!], current, options);
    assert.deepEqual(plan.changes, []);
    assert.deepEqual(plan.unplaced, ['acme', 'beta']);
    assert.deepEqual(plan.records.get('acme'), ['203.0.113.1']);
  });
});

describe('Route53Publisher', () => {
  const store = { listTenants: async () => ({ items: [{ tenantId: 'acme', name: 'A', authMethods: [], createdAt: 0 }] as never[] }) };

  test('UPSERTs changed records with the TTL; a failed call is retried on the next publish', async () => {
    const inputs: unknown[] = [];
    let fail = true;
    const client: Route53Api = {
      async changeResourceRecordSets(input) {
        inputs.push(input);
        if (fail) throw new Error('Throttling');
      },
    };
    const p = new Route53Publisher({ client, hostedZoneId: 'Z1', domain: 'example.net', ttlSeconds: 30, agentsPerTenant: 1, freshnessMs: FRESH_MS, random: () => 0 });
    await assert.rejects(p.publish(store, fleet, NOW), /Throttling/);
    fail = false;
    const result = await p.publish(store, fleet, NOW);
    assert.equal(result.changed.length, 1);
    assert.deepEqual(inputs[1], {
      HostedZoneId: 'Z1',
      ChangeBatch: {
        Comment: 'tunnel-broker autoscaler: tenant VPN endpoints',
        Changes: [{ Action: 'UPSERT', ResourceRecordSet: { Name: 'acme.vpn.example.net', Type: 'A', TTL: 30, ResourceRecords: [{ Value: '203.0.113.1' }] } }],
      },
    });
    assert.equal((await p.publish(store, fleet, NOW)).changed.length, 0);
    assert.equal(inputs.length, 2);
  });
});
