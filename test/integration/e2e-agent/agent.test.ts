/**
 * Black-box e2e of the edge agent: broker on the host, agent process in a namespace, simulated L2TP/PPP clients on
 * the host. One broker and agent for the whole file; the scenarios run in order and the last one stops the agent.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { netnsSkipReason } from '../../../scripts/lib/netns';
import type { AuthMethod } from '../../../functions/src/domain/types';
import { eventually, startE2e, type BrokerSession, type E2e } from '../../support/agent-process-harness';
import type { SimSession } from '../../simulator';
import { fixturePassword } from '../../support/fixture-password';

const skip = netnsSkipReason();
const TENANT = 'acme';
const GATEWAY = '10.8.0.1';
const USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy', 'kate', 'leo', 'mia'];
const cred = (user: string, method: AuthMethod, password = fixturePassword(user)) => ({ username: `${user}@${TENANT}`, password, method });

describe('edge agent end to end (netns)', { skip: skip ? `skipped: ${skip}` : false, timeout: 120_000 }, () => {
  let e2e: E2e;
  const detail = () => e2e.logTail();
  /** The broker's record of the session holding `address`, once `accept` holds for it. */
  const lastRecord = new Map<string, BrokerSession>();
  const brokerSession = (address: string, accept: (s: BrokerSession) => boolean, what: string, timeoutMs = 20_000) =>
    eventually(
      `${what} (session ${address})`,
      async () => {
        const found = (await e2e.sessions({ tenantId: TENANT })).filter((s) => s.assignedIp === address);
        const latest = found.sort((a, b) => String(b.startedAt).localeCompare(String(a.startedAt)))[0];
        if (latest) lastRecord.set(address, latest);
        return latest && accept(latest) ? latest : undefined;
      },
      { timeoutMs, detail: () => `broker record: ${JSON.stringify(lastRecord.get(address))}\n${detail()}` },
    );

  /**
   * The gateway answers once the agent has put it on its TUN, which may trail the first link-up of a pool by a few
   * ms (see the agent's "TUN routes installed" log): wait for a first reply, then measure.
   */
  const reachable = (session: SimSession) =>
    eventually(`first echo reply for ${session.address}`, async () => ((await session.ping(GATEWAY, { timeoutMs: 1000 })).received === 1 ? true : undefined), { detail });

  before(async () => {
    e2e = await startE2e({ label: 'agent', tenantId: TENANT, users: USERS });
  });
  after(async () => {
    await e2e?.close();
  });

  test('PAP, CHAP-MD5 and MS-CHAPv2 sessions get pool addresses, ping the gateway through the TUN, and report counters', async () => {
    const methods: AuthMethod[] = ['pap', 'chap-md5', 'mschapv2'];
    const run = await e2e.open({ tunnels: 1, sessionsPerTunnel: 3, credentials: (i) => cred(USERS[i] as string, methods[i] as AuthMethod) });
    const results = run.results();
    assert.ok(results.every((r) => r.ok), `${JSON.stringify(results)}\n${detail()}`);
    for (const r of results) {
      assert.match(r.address ?? '', /^10\.8\.0\.\d+$/);
      assert.notEqual(r.address, GATEWAY);
      assert.equal(r.gateway, GATEWAY);
      assert.deepEqual(r.dns, ['192.0.2.53']);
    }
    assert.equal(new Set(results.map((r) => r.address)).size, 3);

    await Promise.all(run.sessions.map(reachable));
    const pings = await Promise.all(run.sessions.map((s) => s.ping(GATEWAY, { count: 3, intervalMs: 50, timeoutMs: 5000 })));
    assert.deepEqual(pings.map((p) => p.received), [3, 3, 3], detail());

    const active = await e2e.sessions({ tenantId: TENANT, state: 'active' });
    for (const r of results) {
      const s = active.find((x) => x.assignedIp === r.address);
      assert.ok(s, `broker lists ${r.address} as active: ${JSON.stringify(active)}`);
    }

    await Promise.all(run.sessions.map((s) => s.disconnect()));
    for (const r of results) {
      const s = await brokerSession(r.address as string, (x) => x.state === 'stopped', 'stop report');
      assert.equal(s.endReason, 'user-request');
      const c = s.counters;
      assert.ok(c.packetsIn >= 3 && c.packetsOut >= 3 && c.bytesIn > 0 && c.bytesOut > 0, `counters: ${JSON.stringify(s)}`);
    }
    await run.close();
  });

  test('DELETE /v1/sessions/{id} tears that session down within seconds; the other keeps working', async () => {
    const run = await e2e.open({ tunnels: 1, sessionsPerTunnel: 2, credentials: (i) => cred(['dave', 'erin'][i] as string, 'mschapv2') });
    const [victim, other] = run.sessions;
    assert.ok(victim?.address && other?.address, JSON.stringify(run.results()));
    const record = await brokerSession(victim.address, (s) => s.state === 'active', 'active session');
    const started = Date.now();
    assert.equal((await e2e.broker.admin('DELETE', `/v1/sessions/${record.sessionId}`)).status, 202);
    const down = await victim.waitForLinkDown(15_000).catch((error: Error) => assert.fail(`${error.message}\n${detail()}`));
    const tookMs = Date.now() - started;
    assert.equal(down.by, 'peer');
    assert.ok(tookMs < 10_000, `link-down after ${tookMs} ms`);
    const stopped = await brokerSession(victim.address, (s) => s.state === 'stopped', 'stop after DELETE');
    assert.equal(stopped.endReason, 'admin-disconnect');
    assert.equal((await other.ping(GATEWAY, { count: 2, timeoutMs: 5000 })).received, 2);
    assert.equal(other.phase, 'up');
    await run.close();
  });

  test('a wrong password fails the session and the broker counts the failure', async () => {
    const run = await e2e.open({ tunnels: 1, sessionsPerTunnel: 1, credentials: () => cred('frank', 'chap-md5', 'not-the-password') });
    const [result] = run.results();
    assert.equal(result?.ok, false);
    assert.equal(result?.reason, 'auth-failure');
    await run.close();
    const frank = await eventually(
      'failedAttempts for frank',
      async () => {
        const users = await e2e.broker.admin<{ items: Array<{ username: string; failedAttempts: number }> }>('GET', `/v1/tenants/${TENANT}/users`);
        return users.body.items.find((u) => u.username === 'frank' && u.failedAttempts >= 1);
      },
      { detail },
    );
    assert.equal(frank.failedAttempts, 1);
  });

  test('clients behind one address and port (different tunnel ids) each get a working session', async () => {
    const users = ['grace', 'heidi', 'ivan'];
    const run = await e2e.open({ tunnels: 3, sessionsPerTunnel: 1, localPort: 0, credentials: (i) => cred(users[i] as string, 'pap') });
    const results = run.results();
    assert.ok(results.every((r) => r.ok), `${JSON.stringify(results)}\n${detail()}`);
    assert.deepEqual(results.map((r) => r.localTunnelId), [1, 2, 3], 'same socket, distinct tunnel ids');
    assert.equal(new Set(results.map((r) => r.peerTunnelId)).size, 3);
    const pings = await Promise.all(run.sessions.map((s) => s.ping(GATEWAY, { count: 2, timeoutMs: 5000 })));
    assert.deepEqual(pings.map((p) => p.received), [2, 2, 2]);
    const active = await e2e.sessions({ tenantId: TENANT, state: 'active' });
    const mine = results.map((r) => active.find((s) => s.assignedIp === r.address));
    assert.ok(mine.every((s) => s !== undefined), JSON.stringify(active));
    assert.equal(new Set(mine.map((s) => s?.tunnelId)).size, 3, 'three tunnels on the broker');
    await run.close();
  });

  test('broker outage: established sessions keep forwarding, new ones are refused, queued reports arrive later', async () => {
    const run = await e2e.open({ tunnels: 1, sessionsPerTunnel: 1, credentials: () => cred('judy', 'mschapv2') });
    const [judy] = run.sessions;
    assert.ok(judy?.address, JSON.stringify(run.results()));
    await brokerSession(judy.address, (s) => s.state === 'active', 'active session');
    await reachable(judy);

    const stopping = Date.now();
    await e2e.broker.stop();
    const stopMs = Date.now() - stopping;
    assert.ok(stopMs < 5000, `broker.stop() took ${stopMs} ms`);
    try {
      assert.equal((await judy.ping(GATEWAY, { count: 3, intervalMs: 50, timeoutMs: 5000 })).received, 3, detail());
      const refused = await e2e.open({ tunnels: 1, sessionsPerTunnel: 1, credentials: () => cred('kate', 'pap'), timeouts: { setupMs: 20_000 } });
      const [kate] = refused.results();
      assert.equal(kate?.ok, false, `a session came up while the broker was down: ${JSON.stringify(kate)}`);
      await refused.close();
      assert.equal((await judy.ping(GATEWAY, { count: 2, timeoutMs: 5000 })).received, 2, 'still forwarding');
      await judy.disconnect();
    } finally {
      await e2e.broker.start();
    }
    const stopped = await brokerSession(judy.address, (s) => s.state === 'stopped', 'queued stop report', 30_000);
    assert.equal(stopped.endReason, 'user-request');
    assert.ok(stopped.counters.packetsIn >= 6 && stopped.counters.packetsOut >= 6, `counters: ${JSON.stringify(stopped)}`);
    await run.close();
  });

  test('SIGTERM: the agent ends its sessions with agent-shutdown and exits 0', async () => {
    const run = await e2e.open({ tunnels: 1, sessionsPerTunnel: 2, credentials: (i) => cred(['leo', 'mia'][i] as string, 'chap-md5') });
    assert.ok(run.results().every((r) => r.ok), JSON.stringify(run.results()));
    for (const s of run.sessions) await brokerSession(s.address as string, (x) => x.state === 'active', 'active session');
    e2e.agent.kill('SIGTERM');
    const downs = await Promise.all(run.sessions.map((s) => s.waitForLinkDown(15_000)));
    assert.ok(downs.every((d) => d.by === 'peer'), JSON.stringify(downs));
    assert.equal(await e2e.agentExit, 0, detail());
    for (const s of run.sessions) {
      const stopped = await brokerSession(s.address as string, (x) => x.state === 'stopped', 'shutdown stop report');
      assert.equal(stopped.endReason, 'agent-shutdown');
    }
    await run.close();
  });
});
