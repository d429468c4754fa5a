import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const CLI = resolve('bin/edge-agent.js');
const run = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', timeout: 30_000 });

const BASE = { BROKER_URL: 'http://127.0.0.1:9', AGENT_ID: 'agent-x', AGENT_TOKEN: 'tba_agent-x_secret123' };

test('--help prints the settings and exits 0', () => {
  const r = run(['--help']);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /--broker-url <value>\s+BROKER_URL/);
});

test('a configuration error is one line on stderr and exit 2', () => {
  const r = run([]);
  assert.equal(r.status, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, /BROKER_URL is required/);
});

