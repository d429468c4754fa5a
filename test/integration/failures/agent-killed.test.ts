/**
 * kill -9 of an agent with live simulated sessions: the reaper (run here every second with a 3 s
 * heartbeat timeout and a 2 s lease grace) ends every session with `agent-lost`, keeps the counters
 * reported so far, and within grace + one reaper period of the agent being declared lost every
 * address is back: a second agent then gets exactly those addresses (the pool is sized to them).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { reap } from '../../../functions/src/domain/reaper';
import { systemClock, type Lease } from '../../../functions/src/domain/types';
import { netnsSkipReason } from '../../../scripts/lib/netns';
import { startLocalFleet, type LocalFleet } from '../scaling/local-fleet';
import { until } from '../../support/until';
import type { SimulatorRun } from '../../simulator';

const skip = netnsSkipReason();
const HEARTBEAT_TIMEOUT_MS = 3_000;
const LEASE_GRACE_MS = 2_000;
const REAPER_PERIOD_MS = 1_000;
/** Scheduling slack on a loaded 2-core machine (reaper passes and DynamoDB Local calls take time). */
const SLACK_MS = 3_000;
const SESSIONS = 5; // a /29: .1 is the gateway, .2-.6 are the only addresses

describe('agent killed with live sessions (netns)', { skip: skip ? `skipped: ${skip}` : false }, () => {
  let fleet: LocalFleet;
  let reaper: NodeJS.Timeout | undefined;
  const runs: SimulatorRun[] = [];
  before(async () => {
    fleet = await startLocalFleet({ capacity: 20, cidr: '10.8.0.0/29' });
  });
  after(async () => {
    clearInterval(reaper);
    await Promise.allSettled(runs.map((r) => r.close()));
    await fleet?.close();
  });

  test('sessions end agent-lost, counters kept, every address back within grace + one reaper period', async () => {
    await fleet.provider.setDesiredCapacity(2);
    const [victim, survivor] = fleet.provider.agents();
    assert.ok(victim && survivor);
    const store = fleet.broker.testStore.store;

    const addresses: string[] = [];
    for (let i = 0; i < SESSIONS; i++) {
      const run = await fleet.connect(victim.agentId);
      runs.push(run);
      const r = run.results()[0]!;
      assert.ok(r.ok, `session ${i}: ${JSON.stringify(r)}\n${fleet.logTail(victim.agentId)}`);
      addresses.push(r.address!);
    }
    const active = await until('5 active sessions at the broker', async () => {
      const page = await store.listSessions({ agentId: victim.agentId, state: 'active' }, { limit: 50 });
      return page.items.length === SESSIONS ? page.items : undefined;
    });
    // Counters the agent reported so far (an interim, as the agent sends them), to check they are kept.
    const reported = { bytesIn: 4_000, bytesOut: 3_000, packetsIn: 40, packetsOut: 30 };
    const interim = await fetch(`${fleet.broker.url.replace('0.0.0.0', '127.0.0.1')}/v1/agent/sessions/${active[0]!.sessionId}/interim`, {
      method: 'POST',
      headers: { authorization: `Bearer ${fleet.agent(victim.agentId).token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ counters: reported }),
    });
    assert.equal(interim.status, 200);

    const pass = () => reap(store, systemClock, { heartbeatTimeoutMs: HEARTBEAT_TIMEOUT_MS, leaseGraceMs: LEASE_GRACE_MS }).catch(() => undefined);
    reaper = setInterval(() => void pass(), REAPER_PERIOD_MS);

    fleet.agent(victim.agentId).signal('SIGKILL');
    assert.equal(await fleet.agent(victim.agentId).exited, null, 'killed by the signal');
    const lastHeartbeat = (await store.getAgent(victim.agentId))!.lastHeartbeatAt!;

    const dead = await until('the reaper declares the agent dead', async () => {
      const a = await store.getAgent(victim.agentId);
      return a?.state === 'dead' ? Date.now() : undefined;
    }, 30_000, 100);
    assert.ok(dead - lastHeartbeat <= HEARTBEAT_TIMEOUT_MS + REAPER_PERIOD_MS + SLACK_MS, `declared dead ${dead - lastHeartbeat} ms after its last heartbeat`);

    const blocking = (l: Lease, now: number) => l.releaseAfter === undefined || l.releaseAfter >= now;
    const back = await until('every address back and no session active', async () => {
      const now = Date.now();
      const leases = await store.listLeases('acme', 'main');
      const stillActive = await store.listSessions({ agentId: victim.agentId, state: 'active' }, { limit: 50 });
      return leases.some((l) => blocking(l, now)) || stillActive.items.length > 0 ? undefined : now;
    }, 30_000, 100);
    assert.ok(back - dead <= LEASE_GRACE_MS + REAPER_PERIOD_MS + SLACK_MS, `addresses back ${back - dead} ms after the agent was declared dead`);

    for (const s of active) {
      const after = (await store.getSession(s.sessionId))!;
      assert.equal(after.state, 'stopped');
      assert.equal(after.endReason, 'agent-lost');
    }
    const counted = (await store.getSession(active[0]!.sessionId))!;
    assert.deepEqual(
      { bytesIn: counted.bytesIn, bytesOut: counted.bytesOut, packetsIn: counted.packetsIn, packetsOut: counted.packetsOut },
      reported,
      'counters so far are kept',
    );

    // The survivor now gets the same five addresses: they really are free again.
    const reused: string[] = [];
    for (let i = 0; i < SESSIONS; i++) {
      const run = await fleet.connect(survivor.agentId);
      runs.push(run);
      const r = run.results()[0]!;
      assert.ok(r.ok, `re-use ${i}: ${JSON.stringify(r)}\n${fleet.logTail(survivor.agentId)}`);
      reused.push(r.address!);
    }
    assert.deepEqual([...reused].sort(), [...addresses].sort());
  });
});
