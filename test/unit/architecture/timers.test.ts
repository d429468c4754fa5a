/**
 * Every wait in the agent goes through its injected TimerService (issue 17), so the whole agent runs
 * on a fake clock in tests: Node's timer functions appear only in edge-agent/src/clock/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const AGENT = join(ROOT, 'edge-agent/src');
const CLOCK = join(AGENT, 'clock');

/** Calls of Node's timers in code (comments stripped), e.g. `setTimeout(` or `globalThis.setInterval (`. */
export function nodeTimerCalls(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  return [...code.matchAll(/\b(setTimeout|setInterval|timers\/promises)\b\s*[(']/g)].map((m) => m[1]!);
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

test('no setTimeout or setInterval in edge-agent/src outside clock/', () => {
  const offenders = sources(AGENT)
    .filter((file) => !file.startsWith(CLOCK + '/'))
    .flatMap((file) => nodeTimerCalls(readFileSync(file, 'utf8')).map((call) => `${relative(ROOT, file)}: ${call}`));
  assert.deepEqual(offenders, []);
});

test('the check sees a timer call and ignores one in a comment (negative control)', () => {
  assert.deepEqual(nodeTimerCalls('const t = setTimeout(() => {}, 5);'), ['setTimeout']);
  assert.deepEqual(nodeTimerCalls("import { setTimeout } from 'node:timers/promises';"), ['timers/promises']);
  assert.deepEqual(nodeTimerCalls('// setTimeout(x, 1)\n/* setInterval(y, 2) */\nconst a = 1;'), []);
});
