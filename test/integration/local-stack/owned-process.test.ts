/**
 * Children of the local stack never outlive it: the watchdog of scripts/lib/owned-process.ts ends
 * the child when its owner dies, even by SIGKILL, and a signal to the owner's process group (a
 * Ctrl-C in the terminal) does not reach the child directly.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { spawnOwned } from '../../../scripts/lib/owned-process';

/** Running: signalable and not a zombie (an exited process stays signalable until its parent reaps it). */
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false; // gone between the two looks
  }
};

async function waitFor(what: string, probe: () => boolean, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (!probe()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return Date.now() - started;
}

/** The pid of the command the watchdog runs (its only child). */
async function commandPid(watchdogPid: number): Promise<number> {
  let found: number | undefined;
  await waitFor('the owned command to start', () => {
    const children = readFileSync(`/proc/${watchdogPid}/task/${watchdogPid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    found = children.map(Number).find((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep'));
    return found !== undefined;
  }, 5_000);
  return found!;
}

test('stop(): SIGTERM reaches the command, the exit status comes back', async () => {
  const owned = spawnOwned('sleep', ['30']);
  const pid = await commandPid(owned.child.pid!);
  const code = await owned.stop(5_000);
  assert.equal(code, 128 + 15, 'sleep ended by SIGTERM');
  assert.equal(alive(pid), false);
});

test('the command ends within a second or two of its owner being SIGKILLed', async () => {
  // An owner process that starts an owned `sleep` and prints the watchdog's pid.
  const owner = spawn(process.execPath, ['--import', 'tsx', '-e', `
    const { spawnOwned } = await import(${JSON.stringify(new URL('../../../scripts/lib/owned-process.ts', import.meta.url).pathname)});
    const owned = spawnOwned('sleep', ['60'], { stdio: 'ignore' });
    console.log(owned.child.pid);
    setInterval(() => {}, 1000);
  `], { stdio: ['ignore', 'pipe', 'inherit'] });
  const watchdog = await new Promise<number>((resolve) => owner.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
  const sleeper = await commandPid(watchdog);
  owner.kill('SIGKILL');
  const took = await waitFor('the owned command to end', () => !alive(sleeper), 5_000);
  assert.ok(took < 5_000);
  await waitFor('the watchdog to end', () => !alive(watchdog), 5_000);
});

test('a signal to the owner\'s process group does not reach the command (own group)', async () => {
  const owned = spawnOwned('sleep', ['30']);
  const pid = await commandPid(owned.child.pid!);
  const { execFileSync } = await import('node:child_process');
  const group = Number(execFileSync('ps', ['-o', 'pgid=', '-p', String(process.pid)]).toString().trim());
  const childGroup = Number(execFileSync('ps', ['-o', 'pgid=', '-p', String(pid)]).toString().trim());
  assert.notEqual(childGroup, group);
  assert.equal(childGroup, owned.child.pid, 'the watchdog leads the command\'s group');
  await owned.stop(5_000);
});
