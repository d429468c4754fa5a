/**
 * The CLI's security cases (issue 19), through the real executable bin/tunnel-broker.js: a
 * tenant-scoped token reaches nothing of another tenant; the token is never in the process's
 * arguments nor in anything it prints, on success or failure; Ctrl-C ends --watch with 0; an
 * unreachable broker is exit 3.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLiveBroker, type LiveBroker } from '../../support/live-broker';
import { freePort } from '../../../scripts/lib/dynamodb-local';
import { registeredAgent } from './agent-sessions';

const BIN = new URL('../../../bin/tunnel-broker.js', import.meta.url).pathname;

let broker: LiveBroker;
let tenantToken: string;
let otherSession: string;
let dir: string;

interface BinRun { code: number | null; stdout: string; stderr: string; cmdline: string }

/** Runs the executable; `whileRunning` sees its pid (to read /proc) and may signal it. */
function runBin(argv: string[], env: Record<string, string>, whileRunning?: (pid: number, output: () => string) => Promise<void>): Promise<BinRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...argv], { env: { PATH: process.env.PATH ?? '', HOME: dir, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let cmdline = '';
    child.stdout.on('data', (d) => void (stdout += d));
    child.stderr.on('data', (d) => void (stderr += d));
    child.stdin.end();
    try {
      cmdline = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8');
    } catch {
      // exited already; checked below through whileRunning where it matters
    }
    const pending = whileRunning?.(child.pid!, () => stdout).catch(reject);
    child.on('error', reject);
    child.on('exit', async (code) => {
      await pending;
      resolve({ code, stdout, stderr, cmdline });
    });
  });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tb-cli-sec-'));
  broker = await startLiveBroker();
  await broker.seedTenant('sec-mine', { cidr: '10.75.0.0/24', users: ['alice'] });
  await broker.seedTenant('sec-other', { cidr: '10.75.1.0/24', users: ['mallory'] });
  const key = await broker.admin('POST', '/v1/api-keys', { scope: 'tenant', tenantId: 'sec-mine', name: 'cli-sec' });
  tenantToken = key.body.token;
  const agent = await registeredAgent(broker, 'sec-edge', '203.0.113.75');
  await agent.start('sec-mine', 'alice');
  otherSession = await agent.start('sec-other', 'mallory');
});
after(async () => {
  await broker?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the CLI with a tenant-scoped token', () => {
  test('sees its own tenant only; another tenant\'s users, pools, sessions and keys are 404; fleet commands 403', async () => {
    const env = { BROKER_URL: broker.url, TUNNEL_BROKER_TOKEN: tenantToken };
    const tenants = await runBin(['--json', 'tenants', 'list'], env);
    assert.equal(tenants.code, 0, tenants.stderr);
    assert.deepEqual(JSON.parse(tenants.stdout).map((t: { tenantId: string }) => t.tenantId), ['sec-mine']);
    const sessions = await runBin(['--json', 'sessions', 'list'], env);
    assert.deepEqual(JSON.parse(sessions.stdout).map((s: { tenantId: string }) => s.tenantId), ['sec-mine']);
    for (const argv of [
      ['users', 'list', '-t', 'sec-other'],
      ['pools', 'list', '-t', 'sec-other'],
      ['tenants', 'show', 'sec-other'],
      ['sessions', 'show', otherSession],
      ['sessions', 'disconnect', otherSession],
      ['users', 'lock', 'mallory', '-t', 'sec-other'],
      ['api-keys', 'list', '--tenant', 'sec-other'],
    ]) {
      const run = await runBin(argv, env);
      assert.equal(run.code, 1, argv.join(' '));
      assert.match(run.stderr, /error: 404 not-found/, argv.join(' '));
    }
    for (const argv of [['agents', 'list'], ['psk', 'show'], ['tenants', 'create', 'x', '--name', 'x']]) {
      const run = await runBin(argv, env);
      assert.equal(run.code, 1, argv.join(' '));
      assert.match(run.stderr, /error: 403 forbidden/, argv.join(' '));
    }
    const untouched = await broker.admin('GET', `/v1/sessions/${otherSession}`);
    assert.equal(untouched.body.disconnectRequestedAt, undefined, 'the refused disconnect changed nothing');
    assert.equal((await broker.admin('GET', '/v1/tenants/sec-other/users/mallory')).body.disabled, false);
  });
});

describe('the token stays secret', () => {
  test('never in the process\'s arguments, nor in its output on success, API error or network error', async () => {
    const secret = tenantToken.split('_').slice(2).join('_');
    const watched = await runBin(['sessions', 'list', '--watch', '--interval', '0.2'], { BROKER_URL: broker.url, TUNNEL_BROKER_TOKEN: tenantToken }, async (pid, output) => {
      while (!output().includes('session(s)')) await new Promise((r) => setTimeout(r, 50));
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      assert.ok(cmdline.includes('sessions') && !cmdline.includes(secret) && !cmdline.includes(tenantToken), cmdline);
      process.kill(pid, 'SIGINT');
    });
    assert.equal(watched.code, 0, `Ctrl-C ends --watch with 0: ${watched.stderr}`);
    assert.match(watched.stdout, /^SESSION\s+TENANT/m);
    const runs = [
      watched,
      await runBin(['users', 'list', '-t', 'sec-other'], { BROKER_URL: broker.url, TUNNEL_BROKER_TOKEN: tenantToken }),
      await runBin(['tenants', 'list'], { BROKER_URL: broker.url, TUNNEL_BROKER_TOKEN: `${tenantToken}x` }),
      await runBin(['tenants', 'list'], { BROKER_URL: `http://127.0.0.1:${await freePort()}`, TUNNEL_BROKER_TOKEN: tenantToken }),
    ];
    assert.equal(runs[2]!.code, 1);
    assert.match(runs[2]!.stderr, /401 unauthorized/);
    assert.equal(runs[3]!.code, 3);
    assert.match(runs[3]!.stderr, /cannot reach the broker at http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/);
    assert.match(runs[3]!.stderr, /hint: check BROKER_URL/);
    for (const run of runs) {
      const all = run.stdout + run.stderr + run.cmdline;
      assert.ok(!all.includes(secret), `the token's secret leaked: ${all}`);
    }
  });

  test('the config file is read, and refused while others can read the token in it', async () => {
    const path = join(dir, 'config.json');
    writeFileSync(path, JSON.stringify({ brokerUrl: broker.url, token: tenantToken }));
    chmodSync(path, 0o644);
    const open = await runBin(['tenants', 'list'], { TUNNEL_BROKER_CONFIG: path });
    assert.equal(open.code, 4);
    assert.match(open.stderr, /readable by others \(mode 644\)/);
    assert.match(open.stderr, new RegExp(`hint: chmod 600 ${path}`));
    chmodSync(path, 0o600);
    const ok = await runBin(['--json', 'tenants', 'list'], { TUNNEL_BROKER_CONFIG: path });
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(JSON.parse(ok.stdout).map((t: { tenantId: string }) => t.tenantId), ['sec-mine']);
  });
});
