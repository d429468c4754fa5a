/**
 * The rolling-upgrade drill on one machine (issue 19): what the agent group's instance refresh
 * does in AWS (infra/lib/edge-fleet.ts: launch every replacement first, then the old VM goes
 * through the Drain hook), done by the local scaling provider with real agents in network
 * namespaces, a real simulator session and the broker on DynamoDB Local.
 *
 * Agent A holds a session; `rollingReplace` starts B (registered before anything else happens),
 * then drains A with the drain timeout as deadline. Checked: B is offered and takes a new session
 * while A is offered no more; A's session lasts until the deadline and ends there with
 * agent-shutdown; the next evaluation releases A and the provider stops it (exit 0); B's session is
 * untouched. Root only (netns); skipped otherwise.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  applyScalingActions,
  evaluateScaling,
  INITIAL_SCALING_STATE,
  rollingReplace,
  validatePolicy,
  type ScalingPolicy,
  type ScalingState,
} from '../../../functions/src/domain/autoscaling';
import { systemClock, type Agent } from '../../../functions/src/domain/types';
import { netnsSkipReason } from '../../../scripts/lib/netns';
import { startLocalFleet, TENANT, type LocalFleet } from '../scaling/local-fleet';
import { until } from '../../support/until';

const skip = netnsSkipReason();
const DRAIN_MS = 12_000;
const POLICY: ScalingPolicy = {
  targetUtilization: 0.6,
  upperBand: 0.75,
  lowerBand: 0.4,
  minAgents: 1,
  maxAgents: 4,
  agentCapacity: 10,
  scaleInAfterEvaluations: 1000, // the drill is about the replacement, not about scale-in
  scaleOutCooldownMs: 0,
  scaleInCooldownMs: 0,
  drainTimeoutMs: DRAIN_MS,
  freshnessMs: 5_000,
};

describe('rolling upgrade drill: replace an agent holding a session (netns)', { skip: skip ? `skipped: ${skip}` : false }, () => {
  let fleet: LocalFleet;
  let state: ScalingState = INITIAL_SCALING_STATE;
  before(async () => {
    assert.deepEqual(validatePolicy(POLICY), []);
    fleet = await startLocalFleet({ capacity: POLICY.agentCapacity, users: ['alice', 'bob'] });
  });
  after(async () => {
    await fleet?.close();
  });

  const store = () => fleet.broker.testStore.store;
  const agents = async (): Promise<Agent[]> => [...(await store().listAgents({ limit: 100 })).items];
  const endpoint = async (): Promise<string[]> => {
    const res = await fleet.broker.admin<{ agents: { agentId: string }[] }>('GET', `/v1/tenants/${TENANT}/endpoint?count=5`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.agents.map((a) => a.agentId);
  };

  test('B starts first, A drains to its deadline (agent-shutdown), B takes new sessions, A is released and stopped', async () => {
    await fleet.provider.setDesiredCapacity(1);
    const [a] = fleet.provider.agents().map((x) => x.agentId);
    assert.ok(a);
    const onA = await fleet.connect(a, 'alice');
    assert.ok(onA.results()[0]!.ok, `session on A: ${JSON.stringify(onA.results()[0])}\n${fleet.logTail(a)}`);
    await until('A reports its session', async () => ((await store().getAgent(a))?.activeSessions === 1 ? true : undefined), 30_000);

    const drainStartedAfter = Date.now();
    const step = await rollingReplace({ store: store(), clock: systemClock, provider: fleet.provider, drainTimeoutMs: DRAIN_MS }, [a]);
    assert.equal(step.replacements.length, 1);
    const b = step.replacements[0]!.agentId;
    assert.deepEqual(step.draining, [a]);
    assert.ok(step.deadline >= drainStartedAfter + DRAIN_MS, 'the deadline is the drain timeout from the drain on');

    // Launch before terminate: B was registered before A was drained, so capacity never dropped.
    const recordA = (await store().getAgent(a))!;
    const recordB = (await store().getAgent(b))!;
    assert.equal(recordA.state, 'draining');
    assert.equal(recordA.drainDeadline, step.deadline);
    assert.equal(recordB.state, 'active');
    const drainedAt = step.deadline - DRAIN_MS;
    assert.ok(recordB.registeredAt !== undefined && recordB.registeredAt <= drainedAt, `B registered (${recordB.registeredAt}) before A drained (${drainedAt})`);

    // New clients go to B only; B takes a session; A refuses new ones once it has the drain command.
    for (let i = 0; i < 5; i++) assert.deepEqual(await endpoint(), [b], 'only the replacement is offered');
    const onB = await fleet.connect(b, 'bob');
    assert.ok(onB.results()[0]!.ok, `session on B: ${JSON.stringify(onB.results()[0])}\n${fleet.logTail(b)}`);
    await until('A received the drain command', async () => (fleet.logTail(a, 200).includes('draining: no new sessions accepted') ? true : undefined));
    const refused = await fleet.connect(a, 'bob');
    assert.equal(refused.results()[0]!.ok, false, 'the draining agent refuses a new session');
    await refused.close();

    // A's client is not moved before the deadline...
    await new Promise((r) => setTimeout(r, Math.max(0, step.deadline - 1_500 - Date.now())));
    assert.equal(onA.up().length, 1, 'the session on A is still up shortly before the deadline');
    const evaluateEarly = evaluateScaling(state, { now: Date.now(), agents: await agents() }, POLICY);
    assert.ok(!evaluateEarly.actions.some((x) => x.type === 'release'), 'A is not released while its session is up and the deadline is ahead');

    // ...and ends at the deadline with the drain reason.
    const down = await onA.sessions[0]!.waitForLinkDown(Math.max(0, step.deadline - Date.now()) + 10_000);
    const downAt = Date.now();
    assert.ok(downAt >= step.deadline - 250, `ended ${step.deadline - downAt} ms before the deadline`);
    assert.equal(down.by, 'peer');
    const ended = await until('the broker records the end on A', async () => {
      const s = (await store().listSessions({ agentId: a }, { limit: 100 })).items.find((x) => x.assignedIp === onA.results()[0]!.address);
      return s?.state === 'stopped' ? s : undefined;
    });
    assert.equal(ended.endReason, 'agent-shutdown');

    // The evaluation releases A (empty now, or past its deadline) and the provider stops it.
    const release = await until('release of A', async () => {
      const next = evaluateScaling(state, { now: Date.now(), agents: await agents() }, POLICY);
      state = next.state;
      return next.actions.some((x) => x.type === 'release' && x.agentId === a) ? next : undefined;
    });
    const outcomes = await applyScalingActions({ store: store(), clock: systemClock, provider: fleet.provider }, release.actions);
    assert.ok(outcomes.every((o) => o.ok), JSON.stringify(outcomes));
    assert.equal(await fleet.agent(a).exited, 0, 'A exits gracefully after SIGTERM');
    assert.equal((await store().getAgent(a))?.state, 'dead');
    assert.deepEqual(fleet.provider.agents().map((x) => x.agentId), [b]);
    assert.equal(fleet.provider.desired, 1, 'the desired count is back to one');

    // B's session was never touched.
    assert.equal(onB.up().length, 1);
    const active = await store().listSessions({ tenantId: TENANT, state: 'active' }, { limit: 100 });
    assert.deepEqual(active.items.map((s) => s.agentId), [b]);
  });

  test('replacing an agent the provider does not run is refused and starts nothing', async () => {
    const running = fleet.provider.agents().map((x) => x.agentId);
    await assert.rejects(
      rollingReplace({ store: store(), clock: systemClock, provider: fleet.provider, drainTimeoutMs: DRAIN_MS }, ['agent-unknown']),
      /cannot replace agents this provider does not run: agent-unknown/,
    );
    assert.deepEqual(fleet.provider.agents().map((x) => x.agentId), running);
  });
});
