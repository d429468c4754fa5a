/**
 * Where tests live (issue 17): test/unit mirrors the source folders ('src/' dropped), and test
 * helpers sit in test/support, not in `testing/` folders beside tests or sources.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const UNIT = join(ROOT, 'test/unit');
/** Unit-test folders about the project as a whole or about the test harness itself. */
const NOT_MIRRORS = new Set(['architecture', 'e2e-harness']);
const WITH_SRC = new Set(['edge-agent', 'functions', 'contract', 'cli', 'console']);

/** The source folder a test/unit folder stands for, e.g. edge-agent/l2tp -> edge-agent/src/l2tp. */
export function sourceFolderOf(unitFolder: string): string {
  const [top, ...rest] = unitFolder.split('/');
  return WITH_SRC.has(top!) ? join(top!, 'src', ...rest) : join(top!, ...rest);
}

function folders(dir: string, skip: (name: string) => boolean): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !skip(e.name))
    .flatMap((e) => [join(dir, e.name), ...folders(join(dir, e.name), skip)]);
}

test('every folder of test/unit mirrors a source folder', () => {
  const strays = folders(UNIT, (name) => NOT_MIRRORS.has(name))
    .map((dir) => relative(UNIT, dir))
    .filter((unit) => !existsSync(join(ROOT, sourceFolderOf(unit))));
  assert.deepEqual(strays, []);
});

test('no testing/ helper folders outside test/support', () => {
  const skip = (name: string) => ['node_modules', '.git', 'cdk.out', 'support'].includes(name);
  const strays = ['test', 'edge-agent', 'functions', 'contract', 'infra', 'cli', 'console']
    .filter((top) => existsSync(join(ROOT, top)))
    .flatMap((top) => folders(join(ROOT, top), skip))
    .filter((dir) => dir.endsWith('/testing'))
    .map((dir) => relative(ROOT, dir));
  assert.deepEqual(strays, []);
});

test('the mirror rule maps as documented (negative control: a made-up folder has no source)', () => {
  assert.equal(sourceFolderOf('edge-agent/l2tp'), join('edge-agent', 'src', 'l2tp'));
  assert.equal(sourceFolderOf('infra/lib'), join('infra', 'lib'));
  assert.equal(existsSync(join(ROOT, sourceFolderOf('functions/no-such-folder'))), false);
});
