/**
 * Every CLI command against a real broker on DynamoDB Local (test/support/live-broker.ts), run
 * in-process through runCli over real HTTP: tables, --json, exit codes and the API's errors.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fixturePassword } from '../../support/fixture-password';
import { startLiveBroker, type LiveBroker } from '../../support/live-broker';
import { runCliCaptured, type CliRunOptions } from '../../support/cli-run';
import { registeredAgent, type FakeAgent } from './agent-sessions';

let broker: LiveBroker;
let env: Record<string, string>;
const cli = (argv: string[], options: CliRunOptions = {}) => runCliCaptured(argv, { env, ...options });
const json = async (argv: string[], options: CliRunOptions = {}) => {
  const run = await cli(['--json', ...argv], options);
  assert.equal(run.code, 0, `${argv.join(' ')}: ${run.stderr}`);
  return JSON.parse(run.stdout);
};

before(async () => {
  broker = await startLiveBroker();
  env = { BROKER_URL: broker.url, TUNNEL_BROKER_TOKEN: broker.adminToken };
});
after(async () => {
  await broker?.close();
});

describe('tunnel-broker tenants', () => {
  test('create, list, show, update, delete (and the API\'s refusal of a non-empty tenant)', async () => {
    const created = await cli(['tenants', 'create', 'cli-t1', '--name', 'CLI One', '--auth-methods', 'mschapv2,pap', '--max-sessions', '10', '--min-password-length', '12']);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /^tenantId:\s+cli-t1$/m);
    assert.match(created.stdout, /^maxSessions:\s+10$/m);
    const table = await cli(['tenants', 'list']);
    assert.match(table.stdout, /^TENANT\s+NAME\s+AUTH METHODS/);
    assert.match(table.stdout, /^cli-t1\s+CLI One\s+mschapv2,pap\s+10/m);
    const shown = await json(['tenants', 'show', 'cli-t1']);
    assert.equal(shown.passwordPolicy.minLength, 12);
    const updated = await json(['tenants', 'update', 'cli-t1', '--max-sessions', 'none', '--name', 'Renamed']);
    assert.equal(updated.name, 'Renamed');
    assert.equal(updated.maxSessions, undefined, 'none removes the limit');

    const dup = await cli(['tenants', 'create', 'cli-t1', '--name', 'Again']);
    assert.equal(dup.code, 1);
    assert.match(dup.stderr, /^error: 409 tenant-exists: /m);
    assert.match(dup.stderr, /^request id: \S+/m);
    assert.match(dup.stderr, /^hint: pick another tenantId/m);

    assert.equal((await cli(['pools', 'create', 'p1', '-t', 'cli-t1', '--cidr', '10.70.0.0/24', '--dns', '192.0.2.53'])).code, 0);
    const notEmpty = await cli(['tenants', 'delete', 'cli-t1']);
    assert.equal(notEmpty.code, 1);
    assert.match(notEmpty.stderr, /tenant-not-empty/);
    assert.match(notEmpty.stderr, /hint: .*cascade=true/);
    const cascaded = await cli(['tenants', 'delete', 'cli-t1', '--cascade']);
    assert.equal(cascaded.code, 0, cascaded.stderr);
    assert.match(cascaded.stderr, /tenant cli-t1 (deleted|is being deleted)/);
    if (/being deleted/.test(cascaded.stderr)) assert.equal((await cli(['tenants', 'delete', 'cli-t1', '--cascade'])).code, 0);
    const gone = await cli(['tenants', 'show', 'cli-t1']);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /404 not-found/);
  });
});

describe('tunnel-broker pools', () => {
  test('create, list, update, delete; a refused block shows the API\'s code and field', async () => {
    assert.equal((await cli(['tenants', 'create', 'cli-pools', '--name', 'Pools'])).code, 0);
    const created = await json(['pools', 'create', 'main', '-t', 'cli-pools', '--cidr', '10.71.0.0/24', '--dns', '192.0.2.53,192.0.2.54', '--exclude', '10.71.0.2-10.71.0.9']);
    assert.deepEqual([created.cidr, created.gateway, created.dns, created.exclude], ['10.71.0.0/24', '10.71.0.1', ['192.0.2.53', '192.0.2.54'], [{ first: '10.71.0.2', last: '10.71.0.9' }]]);
    const table = await cli(['pools', 'list', '-t', 'cli-pools']);
    assert.match(table.stdout, /^main\s+10\.71\.0\.0\/24\s+10\.71\.0\.1\s+192\.0\.2\.53,192\.0\.2\.54\s+10\.71\.0\.2-10\.71\.0\.9/m);
    const updated = await json(['pools', 'update', 'main', '-t', 'cli-pools', '--dns', '192.0.2.99']);
    assert.deepEqual(updated.dns, ['192.0.2.99']);
    const overlap = await cli(['pools', 'create', 'other', '-t', 'cli-pools', '--cidr', '10.71.0.128/25', '--dns', '192.0.2.53']);
    assert.equal(overlap.code, 1);
    assert.match(overlap.stderr, /409 pool-overlap/);
    const publicBlock = await cli(['pools', 'create', 'pub', '-t', 'cli-pools', '--cidr', '198.18.0.0/24x', '--dns', '192.0.2.53']);
    assert.equal(publicBlock.code, 1);
    assert.match(publicBlock.stderr, /400 validation-failed: .*\(field cidr\)/);
    const deleted = await cli(['pools', 'delete', 'main', '-t', 'cli-pools']);
    assert.equal(deleted.code, 0);
    assert.deepEqual(await json(['pools', 'list', '-t', 'cli-pools']), []);
  });
});

describe('tunnel-broker users', () => {
  before(async () => {
    await broker.seedTenant('cli-users', { cidr: '10.72.0.0/24', users: [] });
  });

  test('create with the password on stdin, list, show, password, lock, unlock, delete', async () => {
    const created = await cli(['users', 'create', 'Carol', '-t', 'cli-users', '--no-chap-md5'], { stdin: `${fixturePassword('carol')}\n` });
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /^username:\s+carol$/m, 'stored in canonical form');
    assert.ok(!created.stdout.includes(fixturePassword('carol')));
    const listed = await cli(['users', 'list', '-t', 'cli-users']);
    assert.match(listed.stdout, /^USER\s+DISABLED\s+LOCKED/);
    assert.match(listed.stdout, /^carol\s+no\s+no\s+0\s+-\s+no/m);

    const weak = await cli(['users', 'password', 'carol', '-t', 'cli-users'], { stdin: 'short\n' });
    assert.equal(weak.code, 1);
    assert.match(weak.stderr, /400 password-too-weak: .*\(field password\)/);
    assert.ok(!weak.stderr.includes('short\n') && !weak.stdout.includes('short'));
    const noPassword = await cli(['users', 'password', 'carol', '-t', 'cli-users'], { stdin: '' });
    assert.equal(noPassword.code, 2);
    assert.match(noPassword.stderr, /no password given on standard input/);
    assert.equal((await cli(['users', 'password', 'carol', '-t', 'cli-users'], { stdin: 'a much better password\n' })).code, 0);

    const locked = await json(['users', 'lock', 'carol', '-t', 'cli-users']);
    assert.equal(locked.disabled, true);
    const unlocked = await json(['users', 'unlock', 'carol', '-t', 'cli-users']);
    assert.deepEqual([unlocked.disabled, unlocked.locked, unlocked.failedAttempts], [false, false, 0]);
    assert.equal((await json(['users', 'show', 'CAROL', '-t', 'cli-users'])).username, 'carol');
    assert.equal((await cli(['users', 'delete', 'carol', '-t', 'cli-users'])).code, 0);
    assert.equal((await cli(['users', 'show', 'carol', '-t', 'cli-users'])).code, 1);
  });

  test('import from CSV creates each row with progress on stderr; failed rows are reported and exit 6', async () => {
    const csv = 'username,password,staticIp\ndave,"pass,word-one",10.72.0.50\nerin,second-password,\nfrank,short,\n';
    const run = await cli(['users', 'import', '/tmp/users.csv', '-t', 'cli-users'], { files: { '/tmp/users.csv': { text: csv } } });
    assert.equal(run.code, 6, run.stderr);
    assert.deepEqual(run.stderr.split('\n').filter((l) => l.startsWith('[')), [
      '[1/3] dave: created',
      '[2/3] erin: created',
      '[3/3] frank: failed (line 4): 400 password-too-weak: password: must be at least 8 characters (it has 5) (field password)',
    ]);
    assert.equal(run.stdout, '2 created, 1 failed\n');
    assert.match(run.stderr, /error: 1 of 3 users were not created/);
    const users = await json(['users', 'list', '-t', 'cli-users']);
    assert.deepEqual(users.map((u: { username: string; staticIp?: string }) => [u.username, u.staticIp]).sort(), [['dave', '10.72.0.50'], ['erin', undefined]]);

    const bad = await cli(['users', 'import', '/tmp/bad.csv', '-t', 'cli-users'], { files: { '/tmp/bad.csv': { text: 'username,pass\nx,y\n' } } });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown column "pass"/);
    assert.match(bad.stderr, /nothing was imported/);
  });
});

describe('tunnel-broker sessions and agents', () => {
  let agent: FakeAgent;
  let sessionIds: string[];
  before(async () => {
    await broker.seedTenant('cli-sess', { cidr: '10.73.0.0/24', users: ['alice', 'bob'] });
    agent = await registeredAgent(broker, 'cli-edge-1', '203.0.113.71');
    sessionIds = [await agent.start('cli-sess', 'alice'), await agent.start('cli-sess', 'bob'), await agent.start('cli-sess', 'alice')];
  });

  test('list with filters (table and JSON), show, disconnect', async () => {
    const table = await cli(['sessions', 'list', '--tenant', 'cli-sess', '--state', 'active']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^SESSION\s+TENANT\s+USER\s+AGENT\s+STATE\s+ADDRESS/);
    assert.equal(table.stdout.trim().split('\n').length, 4);
    const alice = await json(['sessions', 'list', '-t', 'cli-sess', '-u', 'Alice']);
    assert.deepEqual(alice.map((s: { sessionId: string }) => s.sessionId).sort(), [sessionIds[0], sessionIds[2]].sort());
    assert.equal((await json(['sessions', 'list', '--agent', agent.agentId])).length, 3);
    assert.deepEqual(await json(['sessions', 'list', '-t', 'cli-sess', '--since', new Date(Date.now() + 60_000).toISOString()]), []);
    const badFilter = await cli(['sessions', 'list', '-u', 'alice']);
    assert.equal(badFilter.code, 1, 'username needs tenantId: the broker says so');
    assert.match(badFilter.stderr, /400 validation-failed/);

    const shown = await cli(['sessions', 'show', sessionIds[1]!]);
    assert.match(shown.stdout, new RegExp(`^sessionId:\\s+${sessionIds[1]}$`, 'm'));
    assert.match(shown.stdout, /^username:\s+bob$/m);
    const disconnected = await json(['sessions', 'disconnect', sessionIds[1]!]);
    assert.ok(disconnected.disconnectRequestedAt);
    assert.equal((await agent.heartbeat()).commands.filter((c) => c.type === 'disconnect-session').length, 1);
    await agent.stop(sessionIds[1]!);
    const ended = await json(['sessions', 'show', sessionIds[1]!]);
    assert.deepEqual([ended.state, ended.endReason], ['stopped', 'admin-disconnect']);
    const again = await cli(['sessions', 'disconnect', sessionIds[1]!]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /409 session-stopped/);
  });

  test('--watch refreshes until interrupted and exits 0 (--json: one line per refresh)', async () => {
    let frames = 0;
    let interrupt!: () => void;
    const interrupted = new Promise<void>((resolve) => (interrupt = resolve));
    let stoppedOne = false;
    const run = await cli(['--json', 'sessions', 'list', '-t', 'cli-sess', '-s', 'active', '--watch', '--interval', '0.1'], {
      interrupt: interrupted,
      onStdout: (text) => {
        frames += text.split('\n').filter(Boolean).length;
        // Between frames a session ends: a later frame must show it gone.
        if (frames === 1 && !stoppedOne) {
          stoppedOne = true;
          void agent.stop(sessionIds[2]!);
        }
        if (frames >= 4) interrupt();
      },
    });
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(lines.length >= 4);
    assert.equal(lines[0].items.length, 2);
    assert.equal(lines.at(-1).items.length, 1, 'the stopped session left the refreshed listing');
    assert.ok(lines.every((l: { at: string }) => !Number.isNaN(Date.parse(l.at))));
  });

  test('agents list, drain --wait with progress until the last session ends, revoke', async () => {
    const table = await cli(['agents', 'list']);
    assert.match(table.stdout, new RegExp(`^${agent.agentId}\\s+cli-edge-1\\s+local\\s+active\\s+203\\.0\\.113\\.71`, 'm'));
    const remaining = await json(['sessions', 'list', '--agent', agent.agentId, '--state', 'active']);
    assert.equal(remaining.length, 1);
    // The agent ends its last session a little after the drain starts.
    const ending = new Promise((resolve) => setTimeout(resolve, 700)).then(() => agent.stop(remaining[0].sessionId));
    const drained = await cli(['--json', 'agents', 'drain', agent.agentId, '--deadline', '600', '--wait', '--interval', '0.2', '--timeout', '30']);
    await ending;
    assert.equal(drained.code, 0, drained.stderr);
    const progress = drained.stderr.split('\n').filter((l) => /^\[\d+s\]/.test(l));
    assert.match(progress[0]!, new RegExp(`^\\[0s\\] ${agent.agentId}: 1 active session\\(s\\) left$`));
    assert.match(progress.at(-1)!, /: 0 active session\(s\) left$/);
    assert.match(drained.stderr, /is drained/);
    const after = JSON.parse(drained.stdout);
    assert.equal(after.state, 'draining');
    assert.ok(Math.abs(Date.parse(after.drainDeadline) - (Date.now() + 600_000)) < 60_000);

    const other = await registeredAgent(broker, 'cli-edge-2', '203.0.113.72');
    await other.start('cli-sess', 'bob');
    const timedOut = await cli(['agents', 'drain', other.agentId, '--wait', '--interval', '0.1', '--timeout', '0.3']);
    assert.equal(timedOut.code, 5);
    assert.match(timedOut.stderr, /error: .* still holds 1 active session\(s\)/);
    assert.match(timedOut.stderr, /hint: .*sessions list --agent/);

    const revoked = await json(['agents', 'revoke', other.agentId]);
    assert.equal(revoked.revoked, true);
    const onRevoked = await cli(['agents', 'drain', other.agentId]);
    assert.equal(onRevoked.code, 1);
    assert.match(onRevoked.stderr, /409 agent-revoked/);
    assert.match((await cli(['agents', 'list'])).stdout, new RegExp(`^${other.agentId}\\s+cli-edge-2\\s+local\\s+revoked`, 'm'));
    assert.match((await cli(['agents', 'drain', 'agent-nobody'])).stderr, /404 not-found/);
  });
});

describe('tunnel-broker api-keys and psk', () => {
  test('api-keys create prints the token once; list never shows secrets; revoke refuses the key at once', async () => {
    await broker.seedTenant('cli-keys', { cidr: '10.74.0.0/24', users: [] });
    const created = await cli(['api-keys', 'create', '--name', 'ops', '--scope', 'tenant', '--tenant', 'cli-keys']);
    assert.equal(created.code, 0, created.stderr);
    const token = created.stdout.trim();
    assert.match(token, /^tbk_/);
    assert.match(created.stderr, /never shown again/);
    const keyId = token.split('_')[1]!;
    const listed = await cli(['api-keys', 'list', '--tenant', 'cli-keys']);
    assert.match(listed.stdout, new RegExp(`^${keyId}\\s+tenant\\s+cli-keys\\s+ops\\s+valid`, 'm'));
    assert.ok(!listed.stdout.includes(token.split('_').slice(2).join('_')));
    assert.equal((await cli(['api-keys', 'revoke', keyId])).code, 0);
    assert.match((await cli(['api-keys', 'list', '--tenant', 'cli-keys'])).stdout, new RegExp(`^${keyId}\\s+tenant\\s+cli-keys\\s+ops\\s+revoked`, 'm'));
    const withRevoked = await cli(['users', 'list', '-t', 'cli-keys'], { env: { BROKER_URL: broker.url, TUNNEL_BROKER_TOKEN: token } });
    assert.equal(withRevoked.code, 1);
    assert.match(withRevoked.stderr, /401 api-key-revoked/);
    assert.match(withRevoked.stderr, /hint: this API key was revoked/);
  });

  test('psk set reads the key from stdin; show never prints it', async () => {
    const psk = 'cli-test-psk-0123456789';
    const before = await json(['psk', 'show']);
    const set = await cli(['psk', 'set', '--no-allow-legacy-proposals'], { stdin: `${psk}\n` });
    assert.equal(set.code, 0, set.stderr);
    assert.ok(!set.stdout.includes(psk) && !set.stderr.includes(psk));
    const shown = await cli(['psk', 'show']);
    assert.match(shown.stdout, /^configured:\s+yes$/m);
    assert.match(shown.stdout, /^allowLegacyProposals:\s+no$/m);
    assert.match(shown.stdout, new RegExp(`^revision:\\s+${before.revision + 1}$`, 'm'));
    assert.ok(!shown.stdout.includes(psk));
    const tooShort = await cli(['psk', 'set'], { stdin: 'short\n' });
    assert.equal(tooShort.code, 1);
    assert.match(tooShort.stderr, /400 validation-failed: .*\(field psk\)/);
    assert.ok(!tooShort.stderr.includes('short\n'));
  });
});
