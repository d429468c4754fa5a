import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  DEFAULT_SCALING_POLICY,
  desiredAgents,
  evaluateScaling,
  INITIAL_SCALING_STATE,
  servingAgents,
  validatePolicy,
  type ScalingPolicy,
  type ScalingState,
} from '../../../../../functions/src/domain/autoscaling';
import type { Agent } from '../../../../../functions/src/domain/types';
import { agent, fleetArb, FRESH_MS, NOW } from '../placement/fixtures';

const policy: ScalingPolicy = {
  ...DEFAULT_SCALING_POLICY,
  minAgents: 1,
  maxAgents: 8,
  agentCapacity: 100,
  scaleInAfterEvaluations: 3,
  scaleOutCooldownMs: 60_000,
  scaleInCooldownMs: 120_000,
  freshnessMs: FRESH_MS,
};
const MINUTE = 60_000;

const policyArb = fc
  .record({
    target: fc.double({ min: 0.3, max: 0.9, noNaN: true }),
    upperDelta: fc.double({ min: 0, max: 0.1, noNaN: true }),
    lowerDelta: fc.double({ min: 0.05, max: 0.25, noNaN: true }),
    min: fc.integer({ min: 0, max: 3 }),
    span: fc.integer({ min: 0, max: 8 }),
    capacity: fc.integer({ min: 1, max: 200 }),
    evals: fc.integer({ min: 1, max: 6 }),
  })
  .map(
    (r): ScalingPolicy => ({
      ...policy,
      targetUtilization: r.target,
      upperBand: Math.min(1, r.target + r.upperDelta),
      lowerBand: r.target - r.lowerDelta,
      minAgents: r.min,
      maxAgents: Math.max(1, r.min) + r.span,
      agentCapacity: r.capacity,
      scaleInAfterEvaluations: r.evals,
    }),
  );

const stateArb = fc.record({
  lowStreak: fc.integer({ min: 0, max: 10 }),
  lastScaleOutAt: fc.option(fc.integer({ min: NOW - 10 * MINUTE, max: NOW }), { nil: undefined }),
  lastScaleInAt: fc.option(fc.integer({ min: NOW - 10 * MINUTE, max: NOW }), { nil: undefined }),
}) as fc.Arbitrary<ScalingState>;

/** n equal serving agents carrying `sessions` in total (spread as evenly as possible). */
function fleetOf(n: number, sessions: number, now = NOW): Agent[] {
  return Array.from({ length: n }, (_, i) =>
    agent({ agentId: `a${i}`, lastHeartbeatAt: now - 1_000, activeSessions: Math.floor(sessions / n) + (i < sessions % n ? 1 : 0) }),
  );
}

describe('evaluateScaling', () => {
  test('generated policies are valid (the generator itself is checked)', () => {
    fc.assert(fc.property(policyArb, (p) => assert.deepEqual(validatePolicy(p), [])));
  });

  test('desired stays within [min, max] and covers the load at the target when max allows', () => {
    fc.assert(
      fc.property(policyArb, fc.integer({ min: 0, max: 5000 }), (p, sessions) => {
        const d = desiredAgents(sessions, p);
        assert.ok(d >= p.minAgents && d <= p.maxAgents);
        if (d < p.maxAgents) assert.ok(sessions <= d * p.agentCapacity * p.targetUtilization + 1e-9);
      }),
    );
  });

  test('set-desired-capacity is always within bounds (+ agents still draining)', () => {
    fc.assert(
      fc.property(policyArb, stateArb, fleetArb, (p, state, fleet) => {
        const step = evaluateScaling(state, { now: NOW, agents: fleet }, p);
        const draining = fleet.filter((a) => a.state === 'draining').length;
        for (const a of step.actions) {
          if (a.type !== 'set-desired-capacity') continue;
          assert.ok(a.desired >= p.minAgents, `desired ${a.desired} < min`);
          assert.ok(a.desired <= p.maxAgents + draining, `desired ${a.desired} > max + draining`);
        }
      }),
      { numRuns: 500 },
    );
  });

  test('never drains while utilization is at or above the lower band (so never above the upper band)', () => {
    fc.assert(
      fc.property(policyArb, stateArb, fleetArb, (p, state, fleet) => {
        const step = evaluateScaling(state, { now: NOW, agents: fleet }, p);
        if (step.actions.some((a) => a.type === 'drain')) {
          assert.ok(step.summary.utilization < p.lowerBand);
          assert.ok(step.summary.utilization < p.upperBand);
          assert.ok(!step.actions.some((a) => a.type === 'set-desired-capacity'), 'never out and in at once');
        }
      }),
      { numRuns: 500 },
    );
  });

  test('drain targets are the emptiest serving agents and leave at least `desired` (and min) serving', () => {
    fc.assert(
      fc.property(policyArb, fleetArb, (p, fleet) => {
        const state: ScalingState = { lowStreak: 100 }; // hysteresis satisfied, no cooldown
        const step = evaluateScaling(state, { now: NOW, agents: fleet }, p);
        const drained = new Set(step.actions.flatMap((a) => (a.type === 'drain' ? [a.agentId] : [])));
        if (drained.size === 0) return;
        const serving = servingAgents(fleet, NOW, p.freshnessMs);
        for (const id of drained) assert.ok(serving.some((a) => a.agentId === id), 'only serving agents are drained');
        const kept = serving.filter((a) => !drained.has(a.agentId));
        assert.ok(kept.length >= p.minAgents);
        assert.equal(kept.length, step.summary.desired);
        const maxDrained = Math.max(...serving.filter((a) => drained.has(a.agentId)).map((a) => a.activeSessions));
        for (const a of kept) assert.ok(a.activeSessions >= maxDrained, `kept ${a.agentId} (${a.activeSessions}) is emptier than a drained one`);
      }),
      { numRuns: 500 },
    );
  });

  test('hysteresis: load oscillating across the lower band never causes a scale-in (streak shorter than N)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 6 }),
        fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 10, maxLength: 60 }),
        (n, loads) => {
          const p = { ...policy, scaleInAfterEvaluations: n, scaleInCooldownMs: 0, scaleOutCooldownMs: 0, maxAgents: 20 };
          let state = INITIAL_SCALING_STATE;
          let agents = fleetOf(6, 0);
          let run = 0; // consecutive evaluations below the lower band
          for (let i = 0; i < loads.length; i++) {
            // Alternate a low load with a high one every (n-1) steps: the low run never reaches n.
            const sessions = i % n === n - 1 ? 360 : Math.min(loads[i]!, 100);
            agents = fleetOf(6, sessions, NOW + i * MINUTE);
            const step = evaluateScaling(state, { now: NOW + i * MINUTE, agents }, p);
            assert.equal(step.summary.serving, 6, 'the fleet is seen as serving');
            run = step.summary.utilization < p.lowerBand ? run + 1 : 0;
            if (run < n) assert.ok(!step.actions.some((a) => a.type === 'drain'), `drained after ${run} low evaluations`);
            state = step.state;
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  test('scale-in happens after N consecutive low evaluations and then respects the cooldown', () => {
    const p = { ...policy, scaleInAfterEvaluations: 3, scaleInCooldownMs: 10 * MINUTE };
    let state = INITIAL_SCALING_STATE;
    const decisions: string[] = [];
    for (let i = 0; i < 3; i++) {
      const fleet = fleetOf(4, 40, NOW + i * MINUTE); // 10% utilization, desired = ceil(40/60) = 1
      const step = evaluateScaling(state, { now: NOW + i * MINUTE, agents: fleet }, p);
      decisions.push(step.summary.decision);
      state = step.state;
      if (i === 2) {
        const drains = step.actions.filter((a) => a.type === 'drain');
        assert.equal(drains.length, 3);
        for (const d of drains) assert.equal(d.type === 'drain' && d.deadline, NOW + i * MINUTE + p.drainTimeoutMs);
      }
    }
    assert.deepEqual(decisions, ['hold', 'hold', 'scale-in']);
    // Right after: still low, but the cooldown holds any further scale-in.
    const again = evaluateScaling({ ...state, lowStreak: 10 }, { now: NOW + 3 * MINUTE, agents: fleetOf(4, 40, NOW + 3 * MINUTE) }, p);
    assert.equal(again.summary.note, 'scale-in cooldown');
  });

  test('scale-out before saturation: 2 agents at 70% ask for 3; cooldown holds a second request', () => {
    const step = evaluateScaling(INITIAL_SCALING_STATE, { now: NOW, agents: fleetOf(2, 140) }, policy);
    assert.deepEqual(step.actions, [{ type: 'set-desired-capacity', desired: 3 }]);
    const again = evaluateScaling(step.state, { now: NOW + 1000, agents: fleetOf(2, 150) }, policy);
    assert.deepEqual(again.actions, []);
    assert.equal(again.summary.note, 'scale-out cooldown');
    const later = evaluateScaling(step.state, { now: NOW + policy.scaleOutCooldownMs, agents: fleetOf(2, 150) }, policy);
    assert.deepEqual(later.actions, [{ type: 'set-desired-capacity', desired: 3 }]);
  });

  test('below the minimum the cooldown does not apply; draining agents keep their provider slot', () => {
    const draining = agent({ agentId: 'd', state: 'draining', activeSessions: 5, drainDeadline: NOW + MINUTE });
    const step = evaluateScaling({ lowStreak: 0, lastScaleOutAt: NOW }, { now: NOW, agents: [draining] }, { ...policy, minAgents: 2 });
    assert.deepEqual(step.actions, [{ type: 'set-desired-capacity', desired: 3 }]);
  });

  test('release: empty draining agents go at once; at the deadline the rest go with their sessions ended', () => {
    const empty = agent({ agentId: 'e', state: 'draining', activeSessions: 0, drainDeadline: NOW + MINUTE });
    const busy = agent({ agentId: 'b', state: 'draining', activeSessions: 3, drainDeadline: NOW + MINUTE });
    const late = agent({ agentId: 'l', state: 'draining', activeSessions: 3, drainDeadline: NOW - 1 });
    const fleet = [...fleetOf(2, 60), empty, busy, late];
    const step = evaluateScaling(INITIAL_SCALING_STATE, { now: NOW, agents: fleet }, policy);
    assert.deepEqual(
      step.actions.filter((a) => a.type === 'release'),
      [
        { type: 'release', agentId: 'e', cause: 'drained', endSessions: false },
        { type: 'release', agentId: 'l', cause: 'deadline-passed', endSessions: true },
      ],
    );
  });

  describe('agents the provider does not run (the local built-in agent, one enrolled by hand)', () => {
    const pinned = (id: string) => (a: Agent) => a.agentId !== id;

    test('they count as capacity but not in the provider\'s desired count', () => {
      // 2 agents with 70 sessions each: desired ceil(140 / 60) = 3, one of which the provider does not run.
      const fleet = fleetOf(2, 140);
      const step = evaluateScaling(INITIAL_SCALING_STATE, { now: NOW, agents: fleet, managed: pinned('a0') }, policy);
      assert.equal(step.summary.desired, 3);
      assert.deepEqual(step.actions, [{ type: 'set-desired-capacity', desired: 2 }]);
      const all = evaluateScaling(INITIAL_SCALING_STATE, { now: NOW, agents: fleet }, policy);
      assert.deepEqual(all.actions, [{ type: 'set-desired-capacity', desired: 3 }], 'negative control: every agent managed');
    });

    test('they are never drained, even when they are the emptiest', () => {
      const fleet = [agent({ agentId: 'builtin', activeSessions: 0 }), agent({ agentId: 'n1', activeSessions: 5 }), agent({ agentId: 'n2', activeSessions: 6 })];
      const step = evaluateScaling({ lowStreak: 100 }, { now: NOW, agents: fleet, managed: pinned('builtin') }, policy);
      const drained = step.actions.flatMap((a) => (a.type === 'drain' ? [a.agentId] : []));
      assert.deepEqual(drained, ['n1', 'n2']);
      const unpinned = evaluateScaling({ lowStreak: 100 }, { now: NOW, agents: fleet }, policy);
      assert.ok(unpinned.actions.some((a) => a.type === 'drain' && a.agentId === 'builtin'), 'negative control: the emptiest is drained when managed');
    });

    test('a fleet of only unmanaged agents holds, with the reason', () => {
      const fleet = [agent({ agentId: 'builtin', activeSessions: 0 }), agent({ agentId: 'other', activeSessions: 0 })];
      const step = evaluateScaling({ lowStreak: 100 }, { now: NOW, agents: fleet, managed: () => false }, policy);
      assert.deepEqual(step.actions, []);
      assert.equal(step.summary.note, 'no serving agent is run by the provider');
    });

    test('their draining is left to whoever drains them: no release', () => {
      const fleet = [...fleetOf(1, 10), agent({ agentId: 'manual', state: 'draining', activeSessions: 0 })];
      const step = evaluateScaling(INITIAL_SCALING_STATE, { now: NOW, agents: fleet, managed: pinned('manual') }, policy);
      assert.deepEqual(step.actions.filter((a) => a.type === 'release'), []);
      assert.equal(step.summary.draining, 1);
    });
  });

  test('validatePolicy names every problem', () => {
    const bad = { ...policy, targetUtilization: 1.5, lowerBand: 2, minAgents: -1, maxAgents: 0, agentCapacity: 0 };
    assert.ok(validatePolicy(bad).length >= 5);
    assert.deepEqual(validatePolicy(DEFAULT_SCALING_POLICY), []);
  });
});
