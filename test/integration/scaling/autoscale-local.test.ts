/**
 * The whole scaling loop on one machine: agents are processes in network namespaces run by the
 * local scaling provider; simulated clients ask `GET /v1/tenants/{t}/endpoint` where to connect;
 * the autoscaler is `evaluateScaling` + `applyScalingActions` over the real store.
 *
 * Stated spread tolerance (placement draws agents weighted by headroom, capacity 10 each): with
 * 15 sessions on 3 agents every agent holds 1..9 (mean 5), with 24 every agent holds 5..10 (mean 8).
 * A simulation of the policy puts the chance of a legitimate run outside these at ~0.1%.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  applyScalingActions,
  evaluateScaling,
  INITIAL_SCALING_STATE,
  validatePolicy,
  type ScalingPolicy,
  type ScalingState,
  type ScalingStep,
} from '../../../functions/src/domain/autoscaling';
import { systemClock, type Agent } from '../../../functions/src/domain/types';
import { netnsSkipReason } from '../../../scripts/lib/netns';
import type { SimulatorRun } from '../../simulator';
import { startLocalFleet, TENANT, type LocalFleet } from './local-fleet';
import { until } from '../../support/until';

const skip = netnsSkipReason();
const CAPACITY = 10;
const DRAIN_MS = 15_000;
const POLICY: ScalingPolicy = {
  targetUtilization: 0.6,
  upperBand: 0.75,
  lowerBand: 0.4,
  minAgents: 3,
  maxAgents: 4,
  agentCapacity: CAPACITY,
  scaleInAfterEvaluations: 1,
  scaleOutCooldownMs: 0,
  scaleInCooldownMs: 0,
  drainTimeoutMs: DRAIN_MS,
  freshnessMs: 5_000,
};

interface Client {
  readonly agentId: string;
  readonly run: SimulatorRun;
}

describe('local autoscaling loop (netns)', { skip: skip ? `skipped: ${skip}` : false }, () => {
  let fleet: LocalFleet;
  let state: ScalingState = INITIAL_SCALING_STATE;
  let clients: Client[] = [];
  before(async () => {
    assert.deepEqual(validatePolicy(POLICY), []);
    fleet = await startLocalFleet({ capacity: CAPACITY });
  });
  after(async () => {
    await fleet?.close();
  });

  const store = () => fleet.broker.testStore.store;
  const agents = async (): Promise<Agent[]> => [...(await store().listAgents({ limit: 100 })).items];
  const evaluate = async (): Promise<ScalingStep> => {
    const step = evaluateScaling(state, { now: Date.now(), agents: await agents() }, POLICY);
    state = step.state;
    return step;
  };
  const apply = async (step: ScalingStep) => {
    const outcomes = await applyScalingActions({ store: store(), clock: systemClock, provider: fleet.provider }, step.actions);
    assert.ok(outcomes.every((o) => o.ok), JSON.stringify(outcomes));
    return outcomes;
  };
  const endpoint = async (count = 1): Promise<string[]> => {
    const res = await fleet.broker.admin<{ agents: { agentId: string }[] }>('GET', `/v1/tenants/${TENANT}/endpoint?count=${count}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.agents.map((a) => a.agentId);
  };
  /** One new client placed by the endpoint route. */
  const place = async (): Promise<Client> => {
    const [agentId] = await endpoint();
    const run = await fleet.connect(agentId!);
    const r = run.results()[0]!;
    assert.ok(r.ok, `client on ${agentId}: ${JSON.stringify(r)}\n${fleet.logTail(agentId!)}`);
    const client = { agentId: agentId!, run };
    clients.push(client);
    return client;
  };
  const perAgent = (list: readonly Client[]) => {
    const counts = new Map<string, number>(fleet.provider.agents().map((a) => [a.agentId, 0]));
    for (const c of list) counts.set(c.agentId, (counts.get(c.agentId) ?? 0) + 1);
    return counts;
  };
  /** Waits until the broker's agent records show exactly these session counts. */
  const settled = (expected: Map<string, number>) =>
    until(`agent records showing ${JSON.stringify([...expected])}`, async () => {
      const records = await agents();
      return [...expected].every(([id, n]) => records.find((a) => a.agentId === id)?.activeSessions === n) ? true : undefined;
    }, 30_000);

  test('spread within tolerance; more load adds an agent; less load drains one, whose sessions last until the deadline and then end agent-shutdown', async () => {
    await fleet.provider.setDesiredCapacity(3);
    const initial = fleet.provider.agents().map((a) => a.agentId);
    assert.equal(initial.length, 3);

    // 15 clients: spread, and the fleet is right-sized (15 / (10 x 0.6) = 3 agents).
    for (let i = 0; i < 15; i++) await place();
    let counts = perAgent(clients);
    assert.ok([...counts.values()].every((n) => n >= 1 && n <= 9), `15 sessions spread: ${JSON.stringify([...counts])}`);
    await settled(counts);
    const hold = await evaluate();
    assert.equal(hold.summary.decision, 'hold', JSON.stringify(hold.summary));
    assert.deepEqual(hold.actions, []);

    // 24 clients: spread, and the autoscaler adds a fourth agent (24 / 6 = 4).
    for (let i = 0; i < 9; i++) await place();
    counts = perAgent(clients);
    assert.ok([...counts.values()].every((n) => n >= 5 && n <= 10), `24 sessions spread: ${JSON.stringify([...counts])}`);
    await settled(counts);
    const out = await evaluate();
    assert.equal(out.summary.decision, 'scale-out', JSON.stringify(out.summary));
    assert.deepEqual(out.actions, [{ type: 'set-desired-capacity', desired: 4 }]);
    await apply(out);
    const added = fleet.provider.agents().map((a) => a.agentId).filter((id) => !initial.includes(id));
    assert.equal(added.length, 1, 'one agent added');
    const fresh = added[0]!;
    await until('the new agent offered by the endpoint', async () => ((await endpoint(5)).includes(fresh) ? true : undefined));

    // New clients now favour the empty agent; give it at least two.
    for (let i = 0; i < 10 && clients.filter((c) => c.agentId === fresh).length < 2; i++) await place();
    assert.ok(clients.filter((c) => c.agentId === fresh).length >= 2, `new agent got clients: ${JSON.stringify([...perAgent(clients)])}`);

    // Lower the load: one session stays on `victim`, two on every other agent (7 in all, 0.175 utilization).
    const victim = initial[0]!;
    const keep: Client[] = [];
    const drop: Client[] = [];
    for (const c of clients) (keep.filter((k) => k.agentId === c.agentId).length < (c.agentId === victim ? 1 : 2) ? keep : drop).push(c);
    await Promise.all(drop.map((c) => c.run.close()));
    clients = keep;
    assert.equal(keep.length, 7);
    await settled(perAgent(keep));

    const scaleIn = await evaluate();
    assert.equal(scaleIn.summary.decision, 'scale-in', JSON.stringify(scaleIn.summary));
    assert.equal(scaleIn.actions.length, 1);
    const drain = scaleIn.actions[0]!;
    assert.ok(drain.type === 'drain' && drain.agentId === victim, `the emptiest agent is drained: ${JSON.stringify(drain)}`);
    const deadline = drain.deadline;
    await apply(scaleIn);
    assert.equal((await store().getAgent(victim))?.state, 'draining');

    // No new placements on it: neither by the endpoint nor by the agent itself (once it got the command).
    for (let i = 0; i < 5; i++) assert.ok(!(await endpoint(5)).includes(victim), 'a draining agent is never offered');
    await until('the agent received the drain command', async () => (fleet.logTail(victim, 200).includes('draining: no new sessions accepted') ? true : undefined));
    const refused = await fleet.connect(victim);
    assert.equal(refused.results()[0]!.ok, false, 'the draining agent refuses a new session');
    await refused.close();

    // Nothing is cut before the deadline...
    const kept = keep.find((c) => c.agentId === victim)!;
    await new Promise((r) => setTimeout(r, Math.max(0, deadline - 1_500 - Date.now())));
    assert.equal(kept.run.up().length, 1, 'the draining agent\'s session is still up shortly before the deadline');
    const activeNow = await store().listSessions({ tenantId: TENANT, state: 'active' }, { limit: 100 });
    assert.equal(activeNow.items.length, 7, 'no session of any agent was cut');

    // ...and at the deadline the remaining session ends with the drain reason.
    const down = await kept.run.sessions[0]!.waitForLinkDown(Math.max(0, deadline - Date.now()) + 10_000);
    const downAt = Date.now();
    assert.ok(downAt >= deadline - 250, `ended ${deadline - downAt} ms before the deadline`);
    assert.equal(down.by, 'peer');
    const ended = await until('the broker records the drain end', async () => {
      const page = await store().listSessions({ agentId: victim }, { limit: 100 });
      const s = page.items.find((x) => x.assignedIp === kept.run.results()[0]!.address);
      return s?.state === 'stopped' ? s : undefined;
    });
    assert.equal(ended.endReason, 'agent-shutdown');

    // Empty now: the next evaluation releases it and the provider stops the process.
    const release = await until('release of the drained agent', async () => {
      const step = await evaluate();
      return step.actions.some((a) => a.type === 'release' && a.agentId === victim) ? step : undefined;
    });
    await apply(release);
    assert.equal(await fleet.agent(victim).exited, 0, 'graceful exit after SIGTERM');
    assert.equal((await store().getAgent(victim))?.state, 'dead');
    assert.deepEqual(fleet.provider.agents().map((a) => a.agentId).sort(), [...initial.slice(1), fresh].sort());
    const stillActive = await store().listSessions({ tenantId: TENANT, state: 'active' }, { limit: 100 });
    assert.equal(stillActive.items.length, 6, 'the other agents\' sessions are untouched');
  });
});
