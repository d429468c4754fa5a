/**
 * The stack's own reaper finds dead agents: two extra agents are enrolled with `npm start`'s broker
 * and run in network namespaces; one is killed with SIGKILL while it holds sessions. Within the
 * reaper's interval plus its heartbeat timeout it is `dead`, its sessions end with `agent-lost`,
 * the endpoint names only live agents, and once LEASE_GRACE_MS has passed its addresses are free
 * (the pool is sized so the survivor can only fill it with them). Then the same after a restart:
 * the second agent is killed, the stack restarted at once with its record left over, and the new
 * run's reaper deals with it. Root only (namespaces, TUN devices).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createNetns, netnsSkipReason } from '../../../scripts/lib/netns';
import { adminApiEnroller, NetnsAgentLauncher, type NetnsAgent } from '../../../scripts/lib/netns-agent-launcher';
import type { SimulatorRun } from '../../simulator';
import { connectSessions, FAST, freshNames, removeDataDir, seedTenant, startStackProcess, TENANT, type StackNames, type StackProcess } from './stack-process';
import { until } from '../../support/until';

const skip = netnsSkipReason();
/** Reaper interval + heartbeat timeout (FAST), plus scheduling slack on a loaded 2-core machine. */
const DEAD_WITHIN_MS = 1_000 + 4_000 + 6_000;
const LEASE_GRACE_MS = 3_000;
/** A /29: .1 is the gateway, .2-.6 the only addresses. */
const POOL = '10.8.0.0/29';
const POOL_SIZE = 5;

interface SessionView {
  readonly agentId: string;
  readonly state: string;
  readonly endReason?: string;
  readonly ip?: string;
}

describe('npm start: the reaper finds agents that were killed', { skip: skip ? `skipped: ${skip}` : false }, () => {
  let names: StackNames;
  let stack: StackProcess;
  let launcher: NetnsAgentLauncher;
  const runs: SimulatorRun[] = [];
  before(async () => {
    names = await freshNames();
    stack = await startStackProcess({ names, env: FAST });
    await seedTenant(stack, POOL);
    launcher = extraAgents(stack);
  });
  after(async () => {
    await Promise.allSettled(runs.map((r) => r.close()));
    for (const a of launcher?.launched.values() ?? []) await a.stop().catch(() => undefined);
    await stack?.stop();
    if (names) removeDataDir(names);
  });

  /** Agents enrolled by hand, reaching the broker over its Unix socket (it listens on 127.0.0.1 only). */
  function extraAgents(current: StackProcess): NetnsAgentLauncher {
    return new NetnsAgentLauncher({
      createNamespace: (label) => createNetns(label),
      enrol: adminApiEnroller(current.url, current.adminToken, { capacity: 20 }),
      brokerPort: names.port,
      brokerSocket: join(names.dataDir, 'run', 'broker.sock'),
      capacity: 20,
      readyTimeoutMs: 60_000,
    });
  }

  const sessionsOf = async (current: StackProcess, agentId: string) =>
    (await current.admin<{ items: SessionView[] }>('GET', `/v1/sessions?tenantId=${TENANT}&agentId=${agentId}&limit=100`)).body.items;
  const agentState = async (current: StackProcess, agentId: string) =>
    (await current.admin<{ items: { agentId: string; state: string }[] }>('GET', '/v1/agents?limit=100')).body.items.find((a) => a.agentId === agentId)?.state;
  const endpointAgents = async (current: StackProcess) => {
    const { status, body } = await current.admin<{ agents: { agentId: string }[] }>('GET', `/v1/tenants/${TENANT}/endpoint?count=5`);
    assert.equal(status, 200, JSON.stringify(body));
    return body.agents.map((a) => a.agentId);
  };
  const connect = async (agent: NetnsAgent, count: number) => {
    const run = await connectSessions({ address: agent.address, port: 1701 }, count, agent.namespace.hostAddress);
    runs.push(run);
    return run;
  };

  /**
   * After `victim` was killed: dead within the reaper's interval + timeout of `since` (the kill, or
   * the start of a stack that was not running then), sessions agent-lost, not in the endpoint.
   */
  async function expectReaped(current: StackProcess, victim: NetnsAgent, held: number, since: number) {
    // A probe that starts before the deadline counts: under load an answer itself can take a second or two.
    await until(`${victim.agentId} to be dead`, async () => ((await agentState(current, victim.agentId)) === 'dead' ? true : undefined), DEAD_WITHIN_MS - (Date.now() - since));
    const sessions = await until('its sessions to end', async () => {
      const all = await sessionsOf(current, victim.agentId);
      return all.length === held && all.every((s) => s.state === 'stopped') ? all : undefined;
    }, 5_000);
    for (const s of sessions) assert.equal(s.endReason, 'agent-lost', JSON.stringify(s));
    assert.ok(!(await endpointAgents(current)).includes(victim.agentId), 'the endpoint never names the dead agent');
  }

  test('kill -9 of an agent with sessions: dead, sessions agent-lost, endpoint without it, addresses free after the grace', async () => {
    const [victim, survivor] = await Promise.all([launcher.launch('victim'), launcher.launch('survivor')]);
    const held = await connect(victim, 2);
    assert.equal(held.up().length, 2, JSON.stringify(held.results()));
    await until('both agents offered by the endpoint', async () => {
      const offered = await endpointAgents(stack);
      return offered.includes(victim.agentId) && offered.includes(survivor.agentId) ? true : undefined;
    }, 10_000);

    const killedAt = Date.now();
    victim.signal('SIGKILL');
    await victim.exited;
    await expectReaped(stack, victim, 2, killedAt);
    assert.match(stack.output(), new RegExp(`reaper: marked dead: [^\\n]*${victim.agentId}`));

    // The survivor can take the whole pool only once the dead agent's two addresses are free.
    await new Promise((r) => setTimeout(r, LEASE_GRACE_MS + 2_000));
    const fill = await connect(survivor, POOL_SIZE);
    assert.equal(fill.up().length, POOL_SIZE, `the whole pool after the grace: ${JSON.stringify(fill.results())}`);
    const more = await connect(survivor, 1);
    assert.equal(more.up().length, 0, 'negative control: the pool really holds 5');
  });

  test('the same after a restart of the stack with the dead agent\'s record left over', async () => {
    const survivor = [...launcher.launched.values()].find((a) => !a.child.killed && a.namespace.name.includes('survivor'))!;
    const holding = (await sessionsOf(stack, survivor.agentId)).filter((s) => s.state === 'active').length;
    assert.equal(holding, POOL_SIZE);
    // Killed, then the stack stopped before its reaper could notice: the record says `active`.
    survivor.signal('SIGKILL');
    await survivor.exited;
    await stack.stop();
    stack = await startStackProcess({ names, env: FAST });
    // Its reaper ran from the start: the agent is dead within one interval + timeout of the stack being up.
    await expectReaped(stack, survivor, POOL_SIZE, Date.now());
    // Its addresses come back after the grace: the built-in agent of the new run gets the whole pool.
    await new Promise((r) => setTimeout(r, LEASE_GRACE_MS + 2_000));
    const fill = await connectSessions({ address: '127.0.0.1', port: names.l2tpPort }, POOL_SIZE);
    runs.push(fill);
    assert.equal(fill.up().length, POOL_SIZE, JSON.stringify(fill.results()));
  });
});
