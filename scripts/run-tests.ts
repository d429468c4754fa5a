/**
 * `npm test`: starts DynamoDB Local (in memory) once, runs every test file with node's built-in
 * test runner (TypeScript via tsx), then stops DynamoDB Local. Integration tests read its endpoint
 * from DYNAMODB_ENDPOINT and each creates its own table, so files can run in parallel.
 *
 *   npm test                      all tests
 *   npm test -- test/unit/foo     only files whose path contains one of the given fragments
 */
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { startDynamoDbLocal } from './lib/dynamodb-local';

const ROOTS = ['test', 'contract', 'functions', 'edge-agent', 'infra'];
const SKIP_DIRS = new Set(['node_modules', 'cdk.out', 'dist', '.data', 'e2e', 'bench']);

function findTestFiles(dir: string, out: string[] = []): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (!SKIP_DIRS.has(name)) findTestFiles(path, out);
    } else if (name.endsWith('.test.ts')) {
      out.push(relative(process.cwd(), path));
    }
  }
  return out;
}

const filters = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const files = ROOTS.flatMap((root) => findTestFiles(root))
  .filter((f) => filters.length === 0 || filters.some((frag) => f.includes(frag)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}

const dynamo = await startDynamoDbLocal();
console.log(`DynamoDB Local for tests at ${dynamo.endpoint}; running ${files.length} test files`);
const concurrency = Number(process.env.TEST_CONCURRENCY ?? 3);
const child = spawn(
  process.execPath,
  // No --test-force-exit: on Node 20 (with tsx) it ended files before all their tests had run, at
  // random points (test/unit/edge-agent/ppp/fsm.test.ts ran 145-164 of its 164 tests), and reported success.
  // A file that leaks a handle now hangs until --test-timeout and fails as cancelled instead.
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-timeout=300000', ...files],
  {
    stdio: 'inherit',
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...process.env, DYNAMODB_ENDPOINT: dynamo.endpoint },
  },
);
const stopAll = () => child.kill('SIGTERM');
process.on('SIGINT', stopAll);
process.on('SIGTERM', stopAll);
const code: number = await new Promise((done) => child.on('exit', (c, signal) => done(c ?? (signal ? 1 : 0))));
await dynamo.stop();
process.exit(code);
