/**
 * Issue 18, "the first packets of a new pool are lost": a session counted as up (forwarding,
 * reported started) before the agent had installed the pool's TUN route and gateway, so the first
 * ping of the first session of each pool was dropped (packetsIn 3, packetsOut 2). The real agent
 * (bin/edge-agent.js, real TUN in a network namespace, `ip` configuring it) and the simulator: the
 * very first packet of a session in a pool the agent has never served is answered.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { netnsSkipReason } from '../../../scripts/lib/netns';
import { startE2e, type E2e } from '../../support/agent-process-harness';
import { fixturePassword } from '../../support/fixture-password';

const skip = netnsSkipReason();

describe('first packets of a new pool (real agent, netns)', { skip: skip ? `skipped: ${skip}` : false, timeout: 180_000 }, () => {
  let e2e: E2e;
  before(async () => {
    e2e = await startE2e({ label: 'firstpkt', tenantId: 'fp-one', users: ['ann'], cidr: '10.8.0.0/24' });
  });
  after(async () => {
    await e2e?.close();
  });

  for (const pool of [
    { tenantId: 'fp-one', user: 'ann', gateway: '10.8.0.1', seed: false },
    { tenantId: 'fp-two', user: 'bob', gateway: '10.9.0.1', seed: true, cidr: '10.9.0.0/24' },
  ]) {
    test(`${pool.tenantId}: the first ping of the pool's first session, sent the moment PPP is up, is answered`, async () => {
      if (pool.seed) await e2e.broker.seedTenant(pool.tenantId, { cidr: pool.cidr!, users: [pool.user], authMethods: ['mschapv2'] });
      const run = await e2e.open({ tunnels: 1, sessionsPerTunnel: 1, credentials: () => ({ username: `${pool.user}@${pool.tenantId}`, password: fixturePassword(pool.user), method: 'mschapv2' }) });
      const [session] = run.sessions;
      assert.ok(session?.address, JSON.stringify(run.results()));
      // No wait of any kind between "up" and the first packet.
      const first = await session.ping(pool.gateway, { count: 1, timeoutMs: 3000 });
      assert.equal(first.received, 1, `the first packet was lost\n${e2e.logTail()}`);
      await run.close();
    });
  }
});
