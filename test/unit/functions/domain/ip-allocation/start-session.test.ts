/**
 * The address allocator (functions/src/domain/ip-allocation/start-session.ts) on the in-memory
 * store: which address a start gets, from which pool, and every refusal. Its races against real
 * transactions run on DynamoDB Local (test/integration/store/allocation-*.test.ts).
 */
import { beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIpv4 } from '../../../../../contract/src/ipv4';
import {
  LeaseHints,
  parsePools,
  PoolExhaustedError,
  PoolNotAllowedError,
  startSessionWithAddress,
  StaticAddressUnavailableError,
  type StartSessionInput,
} from '../../../../../functions/src/domain/ip-allocation';
import { sessionIdFor } from '../../../../../functions/src/domain/session-id';
import type { Store } from '../../../../../functions/src/domain/store';
import type { Clock, Pool } from '../../../../../functions/src/domain/types';
import { createInMemoryStore } from '../../../../../functions/src/store/memory';
import { pool, tenant, user } from '../../../../support/store-fixtures';

let now: number;
const clock: Clock = { now: () => now };
let store: Store;
let ref = 0;

beforeEach(async () => {
  now = 1_000_000;
  store = createInMemoryStore({ clock });
  await store.createTenant(tenant());
});

/** A /29 with two client addresses, .2 and .3 (.1 is the gateway, .4-.6 excluded). */
const tiny = (o: Partial<Pool> = {}) => pool({ poolId: 'tiny', cidr: '10.30.0.0/29', gateway: '10.30.0.1', exclude: [{ first: '10.30.0.4', last: '10.30.0.6' }], ...o });

const input = (pools: Pool[], o: Partial<StartSessionInput> = {}): StartSessionInput => ({
  tenant: tenant(),
  user: user({ username: `u${ref}` }),
  pools: parsePools(pools),
  agentId: 'agent-1',
  agentSessionRef: `ref-${ref++}`,
  tunnelId: 1,
  l2tpSessionId: ref,
  authMethod: 'mschapv2',
  ...o,
});

describe('startSessionWithAddress', () => {
  test('records the session and its lease, with the id derived from agent and reference', async () => {
    const i = input([tiny()]);
    const { session, created } = await startSessionWithAddress(store, clock, i);
    assert.equal(created, true);
    assert.equal(session.sessionId, sessionIdFor('agent-1', i.agentSessionRef));
    assert.ok(['10.30.0.2', '10.30.0.3'].includes(session.assignedIp));
    assert.deepEqual(await store.getSession(session.sessionId), session);
    assert.deepEqual((await store.listLeases('acme', 'tiny')).map((l) => [l.ip, l.sessionId]), [[session.assignedIp, session.sessionId]]);
  });

  test('hands out only leasable addresses, each once, then PoolExhaustedError naming the pools tried', async () => {
    const a = await startSessionWithAddress(store, clock, input([tiny()]));
    const b = await startSessionWithAddress(store, clock, input([tiny()]));
    assert.deepEqual([a.session.assignedIp, b.session.assignedIp].sort(), ['10.30.0.2', '10.30.0.3']);
    await assert.rejects(startSessionWithAddress(store, clock, input([tiny()])), (e) => {
      assert.ok(e instanceof PoolExhaustedError);
      assert.equal(e.code, 'pool-exhausted');
      assert.deepEqual(e.poolIds, ['tiny']);
      return true;
    });
  });

  test('pools are tried in order: the second once the first is full', async () => {
    const second = pool({ poolId: 'second', cidr: '10.31.0.0/29', gateway: '10.31.0.1' });
    const ips: string[] = [];
    for (let i = 0; i < 3; i++) ips.push((await startSessionWithAddress(store, clock, input([tiny(), second]))).session.assignedIp);
    assert.deepEqual(ips.slice(0, 2).sort(), ['10.30.0.2', '10.30.0.3']);
    assert.match(ips[2]!, /^10\.31\.0\./);
  });

  test('a retry of a start (same agent and reference) returns the recorded session, created false, and leases nothing more', async () => {
    const first = await startSessionWithAddress(store, clock, input([tiny()]));
    const retry = await startSessionWithAddress(store, clock, input([tiny()], { agentSessionRef: first.session.agentSessionRef }));
    assert.deepEqual(retry, { session: first.session, created: false });
    assert.equal((await store.listLeases('acme', 'tiny')).length, 1);
  });

  test('a lease in its grace keeps its address until releaseAfter has passed (the lease rule)', async () => {
    const a = await startSessionWithAddress(store, clock, input([tiny()]));
    const b = await startSessionWithAddress(store, clock, input([tiny()]));
    await store.stopSession(a.session.sessionId, { reason: 'agent-lost', at: now, leaseGraceUntil: now + 60_000 });
    now += 60_000;
    await assert.rejects(startSessionWithAddress(store, clock, input([tiny()])), PoolExhaustedError, 'held at releaseAfter itself');
    now += 1;
    const c = await startSessionWithAddress(store, clock, input([tiny()]));
    assert.equal(c.session.assignedIp, a.session.assignedIp);
    assert.notEqual(c.session.assignedIp, b.session.assignedIp);
  });

  test('a large pool is tried by random probes first, skipping addresses the hints know are taken', async () => {
    const big = pool({ poolId: 'big', cidr: '10.40.0.0/24', gateway: '10.40.0.1' });
    const hints = new LeaseHints(clock.now);
    const counted = countingListLeases(store);
    const { session } = await startSessionWithAddress(counted.store, clock, input([big], { hints }));
    assert.equal(counted.reads(), 0, 'won on a probe: the lease list was never read');
    assert.equal(hints.has(big, parseIpv4(session.assignedIp)!), true, 'its own address is remembered');
  });

  test('lost races move on to other addresses and read the lease list again', async () => {
    const losing = losingFirstStarts(store, 20);
    const { session, created } = await startSessionWithAddress(losing.store, clock, input([tiny()]));
    assert.equal(created, true);
    assert.ok(['10.30.0.2', '10.30.0.3'].includes(session.assignedIp));
    assert.equal(losing.lost(), 20);
  });

  describe('a user with a static address', () => {
    test('gets exactly it', async () => {
      const { session } = await startSessionWithAddress(store, clock, input([tiny()], { user: user({ username: 'bob', staticIp: '10.30.0.3' }) }));
      assert.equal(session.assignedIp, '10.30.0.3');
    });
    test('is refused when another session holds it, when no pool can lease it, and when its pool is barred on the agent', async () => {
      await startSessionWithAddress(store, clock, input([tiny()], { user: user({ username: 'bob', staticIp: '10.30.0.3' }) }));
      const refusal = async (o: Partial<StartSessionInput>, pools = [tiny()]) => {
        const error = await startSessionWithAddress(store, clock, input(pools, o)).then(() => undefined, (e: unknown) => e);
        assert.ok(error instanceof StaticAddressUnavailableError, String(error));
        return [error.reason, error.code];
      };
      assert.deepEqual(await refusal({ user: user({ username: 'eve', staticIp: '10.30.0.3' }) }), ['in-use', 'static-address-unavailable']);
      assert.deepEqual(await refusal({ user: user({ username: 'eve', staticIp: '10.30.0.5' }) }), ['not-in-pool', 'static-address-unavailable'], 'excluded');
      assert.deepEqual(await refusal({ user: user({ username: 'eve', staticIp: '10.30.0.1' }) }), ['not-in-pool', 'static-address-unavailable'], 'the gateway');
      assert.deepEqual(await refusal({ user: user({ username: 'eve', staticIp: '10.30.0.2' }), agentNetworks: ['10.30.0.0/16'] }), ['pool-not-allowed', 'static-address-unavailable']);
    });
  });

  test('pools on the agent\'s own networks or in reserved space are skipped; PoolNotAllowedError when none is left', async () => {
    const onHost = pool({ poolId: 'on-host', cidr: '10.50.0.0/29', gateway: '10.50.0.1' });
    const { session } = await startSessionWithAddress(store, clock, input([onHost, tiny()], { agentNetworks: ['10.50.0.0/24'] }));
    assert.equal(session.poolId, 'tiny');
    const linkLocal = pool({ poolId: 'link-local', cidr: '169.254.10.0/29', gateway: '169.254.10.1' });
    await assert.rejects(startSessionWithAddress(store, clock, input([onHost, linkLocal], { agentNetworks: ['10.50.0.0/24'] })), (e) => {
      assert.ok(e instanceof PoolNotAllowedError);
      assert.match(e.message, /10\.50\.0\.0\/29 overlaps 10\.50\.0\.0\/24.*169\.254\.10\.0\/29 overlaps 169\.254\.0\.0\/16/);
      return true;
    });
  });

  test('no pool at all: PoolExhaustedError naming none', async () => {
    await assert.rejects(startSessionWithAddress(store, clock, input([])), (e) => e instanceof PoolExhaustedError && e.poolIds.length === 0);
  });
});

/** The store, counting its lease-list reads. */
function countingListLeases(inner: Store): { store: Store; reads: () => number } {
  let reads = 0;
  return {
    store: { ...inner, listLeases: (t, p) => (reads++, inner.listLeases(t, p)) },
    reads: () => reads,
  };
}

/** The store, answering `address-taken` to the first `n` starts as if concurrent allocators won them. */
function losingFirstStarts(inner: Store, n: number): { store: Store; lost: () => number } {
  let lost = 0;
  return {
    store: { ...inner, startSession: async (s, l) => (lost < n ? (lost++, { outcome: 'address-taken' as const }) : inner.startSession(s, l)) },
    lost: () => lost,
  };
}
