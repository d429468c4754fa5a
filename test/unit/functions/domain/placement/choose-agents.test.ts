import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { chooseAgents, headroom, ineligibility } from '../../../../../functions/src/domain/placement';
import { agent, FRESH_MS, fleetArb, NOW, seededRandom } from './fixtures';

const request = { now: NOW, freshnessMs: FRESH_MS, region: 'eu' };

describe('chooseAgents', () => {
  test('never a draining, dead, revoked, stale, unregistered, full or other-region agent', () => {
    fc.assert(
      fc.property(fleetArb, fc.integer({ min: 1, max: 4 }), fc.integer(), (fleet, count, seed) => {
        const result = chooseAgents(fleet, { ...request, count }, seededRandom(seed));
        if (!result.ok) return;
        assert.ok(result.agents.length >= 1 && result.agents.length <= count);
        assert.equal(new Set(result.agents.map((a) => a.agentId)).size, result.agents.length, 'distinct agents');
        for (const a of result.agents) {
          assert.equal(a.region, 'eu');
          assert.equal(a.revoked, false);
          assert.equal(a.state, 'active');
          assert.ok(a.lastHeartbeatAt! >= NOW - FRESH_MS, 'fresh heartbeat');
          assert.ok(a.publicAddress !== undefined);
          assert.ok(a.activeSessions < a.capacity, 'has headroom');
        }
      }),
      { numRuns: 500 },
    );
  });

  test('fails only when no agent qualifies, with the right reason', () => {
    fc.assert(
      fc.property(fleetArb, fc.integer(), (fleet, seed) => {
        const result = chooseAgents(fleet, request, seededRandom(seed));
        const inRegion = fleet.filter((a) => a.region === 'eu');
        const reasons = inRegion.map((a) => ineligibility(a, request));
        if (result.ok) return;
        assert.ok(!reasons.includes(undefined), 'an eligible agent existed');
        assert.equal(result.reason, reasons.includes('full') ? 'all-agents-full' : 'no-healthy-agent');
      }),
      { numRuns: 500 },
    );
  });

  test('repeated placements that fill agents never exceed capacity', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 6 }), fc.integer(), (caps, seed) => {
        let fleet = caps.map((capacity, i) => agent({ agentId: `a${i}`, capacity }));
        const total = caps.reduce((s, c) => s + c, 0);
        const random = seededRandom(seed);
        for (let i = 0; i < total; i++) {
          const r = chooseAgents(fleet, request, random);
          assert.ok(r.ok, `placement ${i} of ${total} should succeed`);
          const id = r.agents[0]!.agentId;
          fleet = fleet.map((a) => (a.agentId === id ? { ...a, activeSessions: a.activeSessions + 1 } : a));
        }
        for (const a of fleet) assert.equal(a.activeSessions, a.capacity);
        const last = chooseAgents(fleet, request, random);
        assert.deepEqual(last, { ok: false, reason: 'all-agents-full' });
      }),
      { numRuns: 200 },
    );
  });

  test('spreads: over many placements each agent gets a share proportional to its headroom (±5 points)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 80 }), { minLength: 2, maxLength: 5 }), fc.integer(), (loads, seed) => {
        const fleet = loads.map((activeSessions, i) => agent({ agentId: `a${i}`, capacity: 100, activeSessions }));
        const totalHeadroom = fleet.reduce((s, a) => s + headroom(a), 0);
        const hits = new Map<string, number>();
        const random = seededRandom(seed);
        const N = 4000;
        for (let i = 0; i < N; i++) {
          const r = chooseAgents(fleet, request, random);
          assert.ok(r.ok);
          hits.set(r.agents[0]!.agentId, (hits.get(r.agents[0]!.agentId) ?? 0) + 1);
        }
        for (const a of fleet) {
          const expected = headroom(a) / totalHeadroom;
          const observed = (hits.get(a.agentId) ?? 0) / N;
          assert.ok(Math.abs(observed - expected) < 0.05, `${a.agentId}: expected ${expected.toFixed(3)}, observed ${observed.toFixed(3)}`);
        }
      }),
      { numRuns: 30 },
    );
  });

  test('equal agents: a burst of placements does not herd onto one agent', () => {
    const fleet = [0, 1, 2].map((i) => agent({ agentId: `a${i}` }));
    const random = seededRandom(42);
    const hits = [0, 0, 0];
    for (let i = 0; i < 300; i++) {
      const r = chooseAgents(fleet, request, random);
      assert.ok(r.ok);
      hits[Number(r.agents[0]!.agentId.slice(1))]!++;
    }
    for (const h of hits) assert.ok(h > 70 && h < 130, `hits ${hits.join(',')}`);
  });

  test('reasons: nobody healthy vs everybody full; region filter', () => {
    assert.deepEqual(chooseAgents([], request), { ok: false, reason: 'no-healthy-agent' });
    const stale = agent({ agentId: 's', lastHeartbeatAt: NOW - FRESH_MS - 1 });
    const draining = agent({ agentId: 'd', state: 'draining' });
    assert.deepEqual(chooseAgents([stale, draining], request), { ok: false, reason: 'no-healthy-agent' });
    const full = agent({ agentId: 'f', capacity: 5, activeSessions: 5 });
    assert.deepEqual(chooseAgents([stale, full], request), { ok: false, reason: 'all-agents-full' });
    const us = agent({ agentId: 'u', region: 'us' });
    assert.deepEqual(chooseAgents([us], request), { ok: false, reason: 'no-healthy-agent' });
    const r = chooseAgents([us], { ...request, region: 'us' });
    assert.ok(r.ok && r.agents[0]!.agentId === 'u');
  });

  test('count returns distinct agents, at most the eligible ones', () => {
    const fleet = [agent({ agentId: 'a' }), agent({ agentId: 'b' }), agent({ agentId: 'c', state: 'draining' })];
    const r = chooseAgents(fleet, { ...request, count: 3 }, seededRandom(7));
    assert.ok(r.ok);
    assert.deepEqual(r.agents.map((a) => a.agentId).sort(), ['a', 'b']);
  });
});
