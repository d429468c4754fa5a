/** startSessionWithAddress's static-address and grace paths, and the reaper, on DynamoDB Local. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { createTestStore, type TestStore } from '../../support/test-store';
import {
  parsePools,
  PoolExhaustedError,
  releaseSession,
  startSessionWithAddress,
  StaticAddressUnavailableError,
  type StartSessionInput,
} from '../../../functions/src/domain/ip-allocation';
import { reap } from '../../../functions/src/domain/reaper';
import type { Clock, Pool } from '../../../functions/src/domain/types';
import { agent, pool, tenant, user } from '../../support/store-fixtures';

let t: TestStore;
let now = 1_000_000;
const clock: Clock = { now: () => now };
let small: Pool;
before(async () => {
  t = await createTestStore({ clock });
  await t.store.createTenant(tenant({ tenantId: 'al' }));
  // Two usable addresses: .2 and .3 (a /29 minus .0, .7, gateway .1 and .4-.6).
  small = pool({ tenantId: 'al', poolId: 'tiny', cidr: '10.30.0.0/29', gateway: '10.30.0.1', exclude: [{ first: '10.30.0.4', last: '10.30.0.6' }] });
  await t.store.createPool(small);
  await t.store.createAgent(agent({ agentId: 'al-agent' }));
});
after(() => t.close());

let ref = 0;
const input = (o: Partial<StartSessionInput> = {}): StartSessionInput => ({
  tenant: tenant({ tenantId: 'al' }),
  user: user({ tenantId: 'al', username: `u${ref}` }),
  pools: parsePools([small]),
  agentId: 'al-agent',
  agentSessionRef: `ref-${ref++}`,
  tunnelId: 1,
  l2tpSessionId: ref,
  authMethod: 'mschapv2',
  ...o,
});

describe('startSessionWithAddress', () => {
  test('static address: given when free, in-use error when held, not-in-pool when outside', async () => {
    const first = await startSessionWithAddress(t.store, clock, input({ user: user({ tenantId: 'al', staticIp: '10.30.0.3' }) }));
    assert.equal(first.session.assignedIp, '10.30.0.3');
    assert.equal(first.created, true);
    await assert.rejects(
      startSessionWithAddress(t.store, clock, input({ user: user({ tenantId: 'al', username: 'bob', staticIp: '10.30.0.3' }) })),
      (e) => e instanceof StaticAddressUnavailableError && e.reason === 'in-use' && e.ip === '10.30.0.3',
    );
    await assert.rejects(
      startSessionWithAddress(t.store, clock, input({ user: user({ tenantId: 'al', username: 'eve', staticIp: '10.30.0.5' }) })),
      (e) => e instanceof StaticAddressUnavailableError && e.reason === 'not-in-pool',
    );
    // The dynamic allocator skips the static user's address, then the pool is exhausted.
    const dynamic = await startSessionWithAddress(t.store, clock, input());
    assert.equal(dynamic.session.assignedIp, '10.30.0.2');
    await assert.rejects(startSessionWithAddress(t.store, clock, input()), (e) => {
      assert.ok(e instanceof PoolExhaustedError);
      assert.equal(e.message, 'no free address for tenant al');
      assert.deepEqual(e.poolIds, ['tiny']);
      return true;
    });
    // A retry of a recorded start that meets the full pool is refused here too: the session
    // service is the one that looks it up (sessions-service.ts, its unit test and the API test).
    await assert.rejects(startSessionWithAddress(t.store, clock, { ...input(), agentSessionRef: dynamic.session.agentSessionRef }), PoolExhaustedError);
    await releaseSession(t.store, clock, first.session.sessionId, 'user-request');
    await releaseSession(t.store, clock, dynamic.session.sessionId, 'user-request');
    assert.deepEqual(await t.store.listLeases('al', 'tiny'), []);
  });
  test('no pools: PoolExhaustedError naming none', async () => {
    await assert.rejects(startSessionWithAddress(t.store, clock, input({ pools: [] })), (e) => e instanceof PoolExhaustedError && e.poolIds.length === 0);
  });
});

describe('reap', () => {
  test('lost agents become dead, their sessions stop (agent-lost, counters kept), leases wait out the grace', async () => {
    await t.store.createAgent(agent({ agentId: 'lost', lastHeartbeatAt: now - 200_000 }));
    await t.store.createAgent(agent({ agentId: 'alive', lastHeartbeatAt: now - 1_000 }));
    await t.store.createAgent(agent({ agentId: 'draining-lost', state: 'draining', lastHeartbeatAt: now - 200_000 }));
    await t.store.createAgent(agent({ agentId: 'never-registered' }));
    const onLost = await startSessionWithAddress(t.store, clock, input({ agentId: 'lost' }));
    const onAlive = await startSessionWithAddress(t.store, clock, input({ agentId: 'alive' }));
    await t.store.updateSessionCounters(onLost.session.sessionId, { bytesIn: 7, bytesOut: 8, packetsIn: 1, packetsOut: 2 }, now);

    const summary = await reap(t.store, clock, { heartbeatTimeoutMs: 90_000, leaseGraceMs: 60_000 });
    assert.deepEqual([...summary.agentsMarkedDead].sort(), ['draining-lost', 'lost']);
    assert.equal(summary.sessionsStopped, 1);
    assert.equal((await t.store.getAgent('lost'))?.state, 'dead');
    assert.equal((await t.store.getAgent('lost'))?.activeSessions, 0);
    assert.equal((await t.store.getAgent('alive'))?.state, 'active');
    assert.equal((await t.store.getAgent('never-registered'))?.state, 'active');
    const stopped = await t.store.getSession(onLost.session.sessionId);
    assert.equal(stopped?.state, 'stopped');
    assert.equal(stopped?.endReason, 'agent-lost');
    assert.equal(stopped?.bytesIn, 7);
    assert.equal((await t.store.getSession(onAlive.session.sessionId))?.state, 'active');

    // Both addresses of the tiny pool are now held (one active, one in grace): exhausted.
    const leases = await t.store.listLeases('al', 'tiny');
    assert.equal(leases.find((l) => l.sessionId === onLost.session.sessionId)?.releaseAfter, now + 60_000);
    await assert.rejects(startSessionWithAddress(t.store, clock, input()), PoolExhaustedError);
    now += 60_001;
    const reused = await startSessionWithAddress(t.store, clock, input());
    assert.equal(reused.session.assignedIp, onLost.session.assignedIp);

    // A second pass has nothing left to do.
    const again = await reap(t.store, clock, { heartbeatTimeoutMs: 90_000 + 60_001, leaseGraceMs: 60_000 });
    assert.deepEqual(again.agentsMarkedDead, []);
    assert.equal(again.sessionsStopped, 0);
  });
});

describe('reaper entry configuration', () => {
  test('names missing and bad keys; applies defaults', async () => {
    const { createReaperHandler } = await import('../../../functions/src/entry/reaper');
    const { parseReaperConfig } = await import('../../../functions/src/config');
    assert.throws(() => parseReaperConfig({}), /TABLE_NAME: is required/);
    assert.throws(() => parseReaperConfig({ TABLE_NAME: 'tb-test', HEARTBEAT_TIMEOUT_MS: 'soon', LEASE_GRACE_MS: '-1' }), /HEARTBEAT_TIMEOUT_MS: .*; LEASE_GRACE_MS: /);
    const config = parseReaperConfig({ TABLE_NAME: 'tb-test' });
    assert.equal(config.heartbeatTimeoutMs, 90_000);
    assert.equal(config.leaseGraceMs, 300_000);
    const handler = createReaperHandler(parseReaperConfig({ TABLE_NAME: t.tableName, DYNAMODB_ENDPOINT: t.endpoint }), { log: pino({ level: 'silent' }) });
    const summary = await handler();
    assert.ok(summary.agentsChecked >= 5);
  });
});
