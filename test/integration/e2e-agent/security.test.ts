/**
 * Security review (issue 14) against the real agent process (bin/edge-agent.js in a namespace), a real broker on
 * DynamoDB Local and the simulator's L2TP/PPP clients. The scenarios run in order; the last one revokes the agent.
 *
 * - Finding 1: two tenants whose pools overlap (possible for pools created before the fleet-wide check) give a user
 *   of each the same address on the same agent. The agent used to evict the older session and hand its traffic to
 *   the newer one; now it refuses the newcomer and the victim keeps its session and its traffic.
 * - Finding 2: a pool in link-local space (a static 169.254.169.254 once made the agent route the metadata service
 *   into its TUN) or over the agent's own network gives no address and installs no route.
 * - Finding 9: revoking the agent ends its sessions at the broker and the agent tears them down.
 * - Finding 10: the agent reads its credential from AGENT_TOKEN_FILE; it is in neither its command line nor its
 *   environment.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { netnsSkipReason } from '../../../scripts/lib/netns';
import type { Pool } from '../../../functions/src/domain/types';
import { eventually, startE2e, type E2e } from '../../support/agent-process-harness';
import type { SimSession } from '../../simulator';
import { fixturePassword } from '../../support/fixture-password';

const skip = netnsSkipReason();
const VICTIM_TENANT = 'globex';
const GATEWAY = '10.8.0.1';

describe('security review (issue 14) against the real agent (netns)', { skip: skip ? `skipped: ${skip}` : false, timeout: 180_000 }, () => {
  let e2e: E2e;
  const detail = () => e2e.logTail();
  const admin = <T = any>(method: string, path: string, body?: unknown) => e2e.broker.admin<T>(method, path, body); // eslint-disable-line @typescript-eslint/no-explicit-any

  /** A tenant whose pool is written as a broker before issue 14 would have (no fleet-wide check, no address rules). */
  async function legacyTenant(tenantId: string, cidr: string, gateway: string): Promise<void> {
    assert.equal((await admin('POST', '/v1/tenants', { tenantId, name: tenantId, authMethods: ['mschapv2', 'chap-md5', 'pap'] })).status, 201);
    const pool: Pool = { tenantId, poolId: 'legacy', cidr, gateway, exclude: [], dns: ['192.0.2.53'], createdAt: Date.now() };
    await e2e.broker.testStore.store.createPool(pool);
  }

  const tunRoutes = () => execFileSync('ip', ['netns', 'exec', e2e.ns.name, 'ip', '-4', 'route', 'show', 'dev', 'tbr0'], { encoding: 'utf8' });
  const firstReply = (session: SimSession) =>
    eventually(`echo reply for ${session.address}`, async () => ((await session.ping(GATEWAY, { timeoutMs: 1000 })).received === 1 ? true : undefined), { detail });

  before(async () => {
    e2e = await startE2e({ label: 'sec14', tenantId: VICTIM_TENANT, users: ['bob'], cidr: '10.8.0.0/24', tokenInFile: true });
  });
  after(async () => {
    await e2e?.close();
  });

  test('finding 10: the credential came from AGENT_TOKEN_FILE and shows in neither /proc/<pid>/cmdline nor /proc/<pid>/environ', () => {
    const pid = e2e.agent.pid!;
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    const environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
    assert.match(cmdline, /edge-agent/);
    assert.match(environ, /AGENT_TOKEN_FILE=/);
    assert.ok(!cmdline.includes(e2e.token) && !environ.includes(e2e.token), 'the token is not exposed');
    assert.ok(e2e.logs.some((l) => l.msg === 'registered with the broker'), 'the agent authenticated with the token from the file');
  });

  test('finding 1: a user of another tenant given a live session\'s address on the same agent is refused; the victim keeps its session and traffic', async () => {
    const victimRun = await e2e.open({ tunnels: 1, sessionsPerTunnel: 1, credentials: () => ({ username: `bob@${VICTIM_TENANT}`, password: fixturePassword('bob'), method: 'mschapv2' }) });
    const [bob] = victimRun.sessions;
    assert.ok(bob?.address, `${JSON.stringify(victimRun.results())}\n${detail()}`);
    await firstReply(bob);

    // The attacker's tenant has an overlapping pool from before the fleet-wide check; its own key gives its user
    // the victim's address as a static IP, which the broker accepts (the address is in the attacker's pool).
    await legacyTenant('acme', '10.8.0.0/24', GATEWAY);
    const key = (await admin('POST', '/v1/api-keys', { scope: 'tenant', tenantId: 'acme', name: 'acme' })).body.token as string;
    const mallory = await fetch(`${e2e.broker.url}/v1/tenants/acme/users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'mallory', password: fixturePassword('mallory'), staticIp: bob.address }),
    });
    assert.equal(mallory.status, 201);

    const attackRun = await e2e.open({ tunnels: 1, sessionsPerTunnel: 1, credentials: () => ({ username: 'mallory@acme', password: fixturePassword('mallory'), method: 'mschapv2' }) });
    const [attack] = attackRun.results();
    assert.equal(attack?.ok, false, `the attacker's session came up: ${JSON.stringify(attack)}\n${detail()}`);
    await eventually(
      'the agent logs why it refused the address',
      async () => e2e.logs.find((l) => typeof l.msg === 'string' && l.msg.includes('address refused') && l.msg.includes('already the address of a live session')),
      { detail },
    );
    // The broker recorded the start and got its stop from the agent: the attacker holds nothing.
    const attackerSessions = await eventually(
      'the refused session stopped at the broker',
      async () => {
        const items = (await admin<{ items: { state: string; endReason?: string }[] }>('GET', '/v1/sessions?tenantId=acme')).body.items;
        return items.length > 0 && items.every((s) => s.state === 'stopped') ? items : undefined;
      },
      { detail },
    );
    assert.equal(attackerSessions[0]?.endReason, 'error');

    assert.equal(bob.phase, 'up', 'the victim was not evicted');
    assert.equal((await bob.ping(GATEWAY, { count: 3, intervalMs: 50, timeoutMs: 5000 })).received, 3, detail());
    const victim = (await e2e.sessions({ tenantId: VICTIM_TENANT, state: 'active' })).find((s) => s.assignedIp === bob.address);
    assert.ok(victim, 'the victim\'s session is still active at the broker');
    await attackRun.close();
    // Kept up for the revocation scenario.
    victimSessions.push(bob);
    runs.push(victimRun);
  });

  test('finding 2: link-local space and the agent\'s own network give no address and no route on the TUN', async () => {
    await legacyTenant('imds', '169.254.0.0/16', '169.254.0.1');
    assert.equal((await admin('POST', '/v1/tenants/imds/users', { username: 'meta', password: fixturePassword('meta'), staticIp: '169.254.169.254' })).status, 201);
    const third = e2e.ns.nsAddress.split('.')[2];
    await legacyTenant('onhost', `10.231.${third}.0/24`, `10.231.${third}.254`);
    assert.equal((await admin('POST', '/v1/tenants/onhost/users', { username: 'dyn', password: fixturePassword('dyn') })).status, 201);

    const run = await e2e.open({
      tunnels: 1,
      sessionsPerTunnel: 2,
      credentials: (i) => (i === 0 ? { username: 'meta@imds', password: fixturePassword('meta'), method: 'mschapv2' } : { username: 'dyn@onhost', password: fixturePassword('dyn'), method: 'mschapv2' }),
    });
    const results = run.results();
    assert.deepEqual(results.map((r) => r.ok), [false, false], `${JSON.stringify(results)}\n${detail()}`);
    const routes = tunRoutes();
    assert.doesNotMatch(routes, /169\.254\./, routes);
    assert.doesNotMatch(routes, new RegExp(`10\\.231\\.${third}\\.`), routes);
    // The agent's own link still works: it keeps heartbeating (the broker sees it fresh).
    const agents = (await admin<{ items: { agentId: string; networks?: string[] }[] }>('GET', '/v1/agents')).body.items;
    const me = agents.find((a) => a.agentId === e2e.agentId);
    assert.ok(me?.networks?.includes(`10.231.${third}.0/30`), JSON.stringify(me));
    await run.close();
  });

  test('finding 9: revoking the agent stops its sessions at the broker at once and the agent tears them down', async () => {
    const [bob] = victimSessions;
    assert.ok(bob, 'the victim session of the finding 1 scenario');
    const revoked = await admin('DELETE', `/v1/agents/${e2e.agentId}`);
    assert.equal(revoked.status, 200);
    const stopped = (await e2e.sessions({ tenantId: VICTIM_TENANT })).find((s) => s.assignedIp === bob.address);
    assert.deepEqual([stopped?.state, stopped?.endReason], ['stopped', 'agent-revoked']);
    // The agent learns at its next heartbeat (1 s here) and ends the session: the client sees the link go down.
    const down = await bob.waitForLinkDown(15_000).catch((error: Error) => assert.fail(`${error.message}\n${detail()}`));
    assert.equal(down.by, 'peer');
    await eventually('the agent logs the revocation', async () => e2e.logs.find((l) => l.msg === 'the broker revoked this agent: ending every session and taking no new ones'), { detail });
    // And it takes nobody new.
    const late = await e2e.open({ tunnels: 1, sessionsPerTunnel: 1, credentials: () => ({ username: `bob@${VICTIM_TENANT}`, password: fixturePassword('bob'), method: 'mschapv2' }), timeouts: { setupMs: 10_000 } });
    assert.equal(late.results()[0]?.ok, false);
    await late.close();
    for (const run of runs) await run.close();
  });
});

const victimSessions: SimSession[] = [];
const runs: { close(): Promise<void> }[] = [];
