/**
 * `npm start` runs the autoscaler's evaluation on its schedule with the local provider: as root it
 * launches agents in network namespaces (reaching the broker over its Unix socket), stops them
 * with the stack, and a later run declares dead any that a killed run left behind; with
 * --no-autoscale, or without root, it only says what it would do. The built-in agent counts as capacity and is
 * never the provider's to drain. Root only (namespaces, TUN devices).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { netnsSkipReason } from '../../../scripts/lib/netns';
import { FAST, freshNames, isAlive, removeDataDir, startStackProcess, type StackNames, type StackProcess } from './stack-process';
import { until } from '../../support/until';

const skip = netnsSkipReason();
/** The built-in agent plus one the provider must launch. */
const TWO_AGENTS = { ...FAST, MIN_AGENTS: '2', MAX_AGENTS: '3', AGENT_CAPACITY: '50' };

interface AgentView {
  readonly agentId: string;
  readonly name: string;
  readonly state: string;
  readonly capacity: number;
}

const agents = async (stack: StackProcess) => (await stack.admin<{ items: AgentView[] }>('GET', '/v1/agents?limit=100')).body.items;
const stackNamespaces = (pid: number) =>
  execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.startsWith(`tbl-${pid}-`));

describe('npm start: the autoscaler with the local provider', { skip: skip ? `skipped: ${skip}` : false }, () => {
  const dirs: StackNames[] = [];
  const stacks: StackProcess[] = [];
  after(async () => {
    await Promise.allSettled(stacks.map((s) => s.stop()));
    for (const d of dirs) removeDataDir(d);
  });
  const start = async (names: StackNames, env: Record<string, string>, args: string[] = [], asUser?: string) => {
    const stack = await startStackProcess({ names, env, args, ...(asUser ? { asUser } : {}) });
    stacks.push(stack);
    return stack;
  };

  test('as root it launches the agents the policy asks for, in namespaces, and stops them with the stack', async () => {
    const names = await freshNames();
    dirs.push(names);
    const stack = await start(names, TWO_AGENTS);
    const scaled = await until('a scaled agent to register', async () => (await agents(stack)).find((a) => a.name.startsWith('scaled-') && a.state === 'active'), 90_000, 500);
    assert.equal(scaled.capacity, 50);
    await stack.waitForOutput(/autoscaler: scale-out: set the provider's fleet to 1 agent\(s\)/);
    const nodePid = Number(execFileSync('pgrep', ['-P', String(descendantShell(stack)), 'node'], { encoding: 'utf8' }).trim().split('\n')[0]);
    assert.equal(stackNamespaces(nodePid).length, 1, 'one namespace of this stack');
    assert.equal((await agents(stack)).filter((a) => a.name.startsWith('scaled-')).length, 1, 'only one: the built-in agent counts');
    const tree = stack.processTree();

    await stack.stop();
    // Watchdogs and DynamoDB Local's bridge notice their parent within half a second.
    await until('every process of the stack, the scaled agent included, to be gone', async () => (tree.some(isAlive) ? undefined : true), 5_000, 100);
    assert.deepEqual(stackNamespaces(nodePid), [], 'its namespace is gone');
    const record = JSON.parse(readFileSync(join(names.dataDir, 'local-fleet.json'), 'utf8')) as { agents: unknown[] };
    assert.deepEqual(record.agents, [], 'nothing left to clean up after a clean stop');

    // The next run shows both agents of the last one as dead until they come back.
    const next = await start(names, { ...FAST, MIN_AGENTS: '1' });
    const after = await agents(next);
    assert.equal(after.find((a) => a.agentId === scaled.agentId)?.state, 'dead');
  });

  test('a run killed with SIGKILL: its agents end with it, and the next run declares them dead at once', async () => {
    const names = await freshNames();
    dirs.push(names);
    const stack = await start(names, { ...TWO_AGENTS, HEARTBEAT_TIMEOUT_MS: '600000' }); // the reaper alone would wait 10 min
    const scaled = await until('a scaled agent to register', async () => (await agents(stack)).find((a) => a.name.startsWith('scaled-') && a.state === 'active'), 90_000, 500);
    const tree = stack.processTree();
    process.kill(Number(execFileSync('pgrep', ['-P', String(descendantShell(stack)), 'node'], { encoding: 'utf8' }).trim()), 'SIGKILL');
    await until('every process of the killed stack to end', async () => (tree.some(isAlive) ? undefined : true), 15_000, 200);

    const next = await start(names, { ...FAST, MIN_AGENTS: '1', HEARTBEAT_TIMEOUT_MS: '600000' });
    assert.match(next.output(), new RegExp(`autoscaler: 1 agent\\(s\\) an earlier run left behind are gone: marked dead \\(${scaled.agentId}\\)`));
    assert.equal((await agents(next)).find((a) => a.agentId === scaled.agentId)?.state, 'dead');
  });

  test('without root: the autoscaler only plans, there is no built-in agent, DynamoDB Local is still isolated', async () => {
    const names = await freshNames();
    dirs.push(names);
    const stack = await start(names, TWO_AGENTS, [], 'nobody');
    assert.match(stack.output(), /Edge agent\s+not started: it needs root/);
    assert.match(stack.output(), /Autoscaler\s+every 2 s; plan only \(not root/);
    assert.match(stack.output(), /DynamoDB Local .*in a network namespace of its own: reachable from this host only/);
    await stack.waitForOutput(/autoscaler: plan only, would set the provider's fleet to 2 agent\(s\)/);
    assert.deepEqual(await agents(stack), []);
  });

  test('--no-autoscale: it evaluates and says what it would do, and launches nothing', async () => {
    const names = await freshNames();
    dirs.push(names);
    const stack = await start(names, TWO_AGENTS, ['--no-autoscale']);
    assert.match(stack.output(), /Autoscaler\s+every 2 s; plan only \(--no-autoscale\)/);
    await stack.waitForOutput(/autoscaler: plan only, would set the provider's fleet to 1 agent\(s\)/);
    await new Promise((r) => setTimeout(r, 5_000)); // a few more evaluations
    assert.deepEqual((await agents(stack)).filter((a) => a.name.startsWith('scaled-')), []);
    assert.equal(stack.output().match(/would set the provider's fleet/g)?.length, 1, 'said once, not per tick');
  });
});

/** npm's shell, whose child is the stack's node process. */
function descendantShell(stack: StackProcess): number {
  return Number(execFileSync('pgrep', ['-P', String(stack.npm.pid), 'sh'], { encoding: 'utf8' }).trim());
}
