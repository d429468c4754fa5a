/**
 * `npm start` stops completely however it is stopped, and follows the current run after a restart:
 *  - SIGTERM to npm's pid alone (npm forwards it to its shell only) leaves no process behind;
 *  - SIGINT to the group (Ctrl-C) while the built-in agent holds sessions ends them all with
 *    agent-shutdown, recorded by the broker before it goes down;
 *  - a second run on another port, with the first run's data directory, has its built-in agent
 *    register with the new port (it used to retry the old one forever);
 *  - the built-in agent is restarted when it dies; SIGHUP (the terminal closed) stops it all;
 *  - a second stack with its own ports, names and data directory runs beside the first.
 * Root only (the built-in agent needs CAP_NET_ADMIN for its TUN device).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { netnsSkipReason } from '../../../scripts/lib/netns';
import { connectSessions, FAST, freshNames, isAlive, removeDataDir, seedTenant, startStackProcess, TENANT, type StackProcess } from './stack-process';
import { until } from '../../support/until';

const skip = netnsSkipReason();

interface SessionView {
  readonly sessionId: string;
  readonly agentId: string;
  readonly state: string;
  readonly endReason?: string;
}
interface AgentView {
  readonly agentId: string;
  readonly name: string;
  readonly state: string;
  readonly lastHeartbeatAt?: string;
}

const builtInAgent = async (stack: StackProcess): Promise<AgentView> => {
  const { body } = await stack.admin<{ items: AgentView[] }>('GET', '/v1/agents?limit=100');
  const found = body.items.find((a) => a.name === 'local-agent');
  assert.ok(found, 'the built-in agent is enrolled');
  return found;
};

describe('npm start: signals and restarts', { skip: skip ? `skipped: ${skip}` : false }, () => {
  const started: StackProcess[] = [];
  after(async () => {
    await Promise.allSettled(started.map((s) => s.stop()));
    for (const s of started) removeDataDir(s.names);
  });
  const start = async (...args: Parameters<typeof startStackProcess>) => {
    const stack = await startStackProcess(...args);
    started.push(stack);
    return stack;
  };

  test('SIGTERM to the npm pid (not the group) leaves no process behind within 10 s', async () => {
    const stack = await start({ names: await freshNames(), env: FAST });
    await stack.waitForOutput(/Edge agent\s+agent-\S+ registered/);
    const tree = stack.processTree();
    assert.ok(tree.length >= 6, `npm, sh, node, watchdogs, java, agent: ${tree.length} processes`);
    const sent = Date.now();
    process.kill(stack.npm.pid!, 'SIGTERM');
    await until('every process of the stack to exit', async () => (tree.some(isAlive) ? undefined : true), 10_000, 100);
    const took = Date.now() - sent;
    assert.ok(took <= 10_000, `took ${took} ms`);
    await assert.rejects(fetch(`${stack.url}/healthz`), 'the broker no longer answers');
    assert.match(stack.output(), /parent process exited: stopping the local stack[\s\S]*stopped/);
  });

  test('SIGINT to the group ends the agent\'s sessions with agent-shutdown, recorded; a restart on another port follows the new port', async () => {
    const names = await freshNames();
    const first = await start({ names, env: FAST });
    await seedTenant(first, '10.8.0.0/28');
    const agent = await builtInAgent(first);
    const run = await connectSessions({ address: '127.0.0.1', port: names.l2tpPort }, 3);
    assert.equal(run.up().length, 3, JSON.stringify(run.results()));
    await until('3 active sessions at the broker', async () => {
      const { body } = await first.admin<{ items: SessionView[] }>('GET', `/v1/sessions?tenantId=${TENANT}&state=active`);
      return body.items.length === 3 ? true : undefined;
    }, 10_000);

    process.kill(-first.npm.pid!, 'SIGINT'); // Ctrl-C: every process of the terminal's foreground group
    await first.exited;
    await run.close();
    assert.doesNotMatch(first.output(), /second SIGTERM|without a clean shutdown/);

    // The next run, on another port, with the same data directory.
    const second = await start({ names: { ...names, port: names.port + 1 }, env: FAST });
    const { body } = await second.admin<{ items: SessionView[] }>('GET', `/v1/sessions?tenantId=${TENANT}`);
    assert.equal(body.items.length, 3);
    for (const s of body.items) {
      assert.equal(s.state, 'stopped', JSON.stringify(s));
      assert.equal(s.endReason, 'agent-shutdown', JSON.stringify(s));
    }
    const since = Date.now();
    await second.waitForOutput(/Edge agent\s+agent-\S+ registered/);
    const again = await until('the built-in agent to heartbeat to the new port', async () => {
      const a = await builtInAgent(second);
      return a.state === 'active' && Date.parse(a.lastHeartbeatAt ?? '0') >= since - 1_000 ? a : undefined;
    }, 15_000);
    assert.equal(again.agentId, agent.agentId, 'the same enrolment, now talking to the new port');
    const agentLog = readFileSync(join(names.dataDir, 'logs', 'local-agent.log'), 'utf8');
    assert.doesNotMatch(agentLog.slice(agentLog.lastIndexOf('"registered with the broker"')), new RegExp(`ECONNREFUSED 127\\.0\\.0\\.1:${names.port}\\b`));
  });

  test('the built-in agent is restarted when it dies; SIGHUP to the group (the terminal closed) stops everything', async () => {
    const stack = await start({ names: await freshNames(), env: FAST });
    await stack.waitForOutput(/Edge agent\s+agent-\S+ registered/);
    const agentPid = stack.processTree().find((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('edge-agent.js') && readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'node');
    assert.ok(agentPid, 'the agent process');
    process.kill(agentPid, 'SIGKILL');
    await stack.waitForOutput(/agent: exited \(exit code 137\); restarting in 1 s/, 10_000);
    const since = Date.now();
    await until('the restarted agent to heartbeat', async () => {
      const a = await builtInAgent(stack);
      return Date.parse(a.lastHeartbeatAt ?? '0') > since ? true : undefined;
    }, 20_000);

    const tree = stack.processTree();
    process.kill(-stack.npm.pid!, 'SIGHUP');
    await until('every process of the stack to exit', async () => (tree.some(isAlive) ? undefined : true), 10_000, 100);
    // The signal reaches npm and the stack together: npm dies of it, so on a busy machine the stack's
    // parent watch can notice first. Either way the stack says why it stopped and every process exits.
    assert.match(stack.output(), /SIGHUP: (stopping the local stack|already stopping)/);
  });

  test('a second stack with its own ports, names and data directory runs beside the first, both healthy', async () => {
    const [a, b] = await Promise.all([start({ names: await freshNames(), env: FAST }), start({ names: await freshNames(), env: FAST })]);
    for (const [i, stack] of [a, b].entries()) {
      await stack.waitForOutput(/Edge agent\s+agent-\S+ registered/);
      assert.equal((await fetch(`${stack.url}/healthz`)).status, 200);
      // Pools of their own: both agents route their pool to their TUN device in this namespace.
      await seedTenant(stack, `10.9.${i}.0/28`);
      const run = await connectSessions({ address: '127.0.0.1', port: stack.names.l2tpPort }, 1);
      assert.equal(run.up().length, 1, `a session through ${stack.url}'s agent: ${JSON.stringify(run.results())}`);
      await run.close();
    }
    assert.notEqual((await builtInAgent(a)).agentId, (await builtInAgent(b)).agentId);

    // A third one that forgot to change the TUN name: its banner says the agent failed, and what fixes it.
    const clash = await start({ names: { ...(await freshNames()), tunName: a.names.tunName }, env: FAST });
    assert.match(clash.output(), new RegExp(`Edge agent\\s+FAILED: cannot open TUN device ${a.names.tunName}: .*\\n\\s+fix: .*set AGENT_TUN_NAME`));
    assert.doesNotMatch(clash.output(), /Edge agent\s+agent-\S+ registered/);
    assert.equal((await fetch(`${clash.url}/healthz`)).status, 200, 'the rest of that stack runs');
  });
});
