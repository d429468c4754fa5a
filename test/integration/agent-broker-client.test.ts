import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrokerClient } from '../../edge-agent/src/broker/broker-client';
import { BrokerUnavailableError } from '../../edge-agent/src/broker/http-transport';
import { computeMsChapV2Response } from '../../contract/src/ppp-auth';
import { startLiveBroker } from '../support/live-broker';
import { fixturePassword } from '../support/fixture-password';

const counters = (n: number) => ({ bytesIn: n * 100, bytesOut: n * 50, packetsIn: n, packetsOut: n });

/** Authenticates a user with PAP through the agent client, for the session `ref`; returns the grant. */
async function papGrant(client: BrokerClient, username: string, password: string, ref: string): Promise<string> {
  const verdict = await client.authenticate({ method: 'pap', username, password, agentSessionRef: ref, peerAddress: '198.51.100.4' });
  if (!verdict.ok) throw new Error(`authenticate ${username}: ${verdict.reason}`);
  return verdict.grant;
}

test('the agent client registers, authenticates, starts, accounts and stops against the real broker, surviving an outage', async (t) => {
  const broker = await startLiveBroker();
  t.after(() => broker.close());
  await broker.seedTenant('acme');
  const { agentId, token } = await broker.enrolAgent();
  const stateDir = mkdtempSync(join(tmpdir(), 'agent-state-'));
  t.after(() => rmSync(stateDir, { recursive: true, force: true }));
  const fast = { attempts: 2, baseDelayMs: 10, timeoutMs: 2_000 };
  const client = new BrokerClient({ baseUrl: broker.url, token, stateDir, ...fast });

  const registered = await client.register({ publicAddress: '127.0.0.1', capacity: 100, version: 'test' });
  assert.equal(registered.agentId, agentId);

  const authenticatorChallenge = Buffer.alloc(16, 7);
  const peerChallenge = Buffer.alloc(16, 9);
  const ntResponse = await computeMsChapV2Response({
    authenticatorChallenge,
    peerChallenge,
    username: 'alice@acme',
    password: fixturePassword('alice'),
  });
  const verdict = await client.authenticate({
    method: 'mschapv2',
    username: 'alice@acme',
    agentSessionRef: 'ref-1',
    peerAddress: '198.51.100.4',
    authenticatorChallenge: authenticatorChallenge.toString('hex'),
    peerChallenge: peerChallenge.toString('hex'),
    ntResponse: ntResponse.ntResponse.toString('hex'),
  });
  assert.equal(verdict.ok, true);
  assert.ok(verdict.ok && verdict.authenticatorResponse?.startsWith('S='));

  const grant = verdict.ok ? verdict.grant : '';
  const start = { agentSessionRef: 'ref-1', tunnelId: 3, l2tpSessionId: 4, tenantId: 'acme', username: 'alice', authMethod: 'mschapv2' as const, grant };
  const started = await client.startSession(start);
  const retried = await client.startSession(start);
  assert.equal(retried.sessionId, started.sessionId, 'a retried start is the same session');
  assert.equal(retried.created, false);

  await client.reportInterim(started.sessionId, counters(1)); // returns at once: memory only
  await client.flushOutbox();
  let session = (await broker.admin('GET', `/v1/sessions/${started.sessionId}`)).body;
  assert.equal(session.counters.packetsIn, 1);

  // Broker outage: reports queue on disk, nothing is lost, not even across an agent restart.
  await broker.stop();
  await assert.rejects(client.heartbeat({ activeSessions: 1, counters: counters(2), ackCommandIds: [] }), BrokerUnavailableError);
  await client.reportInterim(started.sessionId, counters(2));
  await client.reportStop(started.sessionId, 'user-request', counters(3));
  assert.equal(client.pendingReports, 1, 'the stop supersedes the queued interim');

  await broker.start();
  const restarted = new BrokerClient({ baseUrl: broker.url, token, stateDir, ...fast });
  assert.deepEqual(await restarted.flushOutbox(), { delivered: 1, pending: 0 });
  session = (await broker.admin('GET', `/v1/sessions/${started.sessionId}`)).body;
  assert.equal(session.state, 'stopped');
  assert.equal(session.endReason, 'user-request');
  assert.equal(session.counters.packetsIn, 3);
});

test('reports queued while a delivery pass is running are delivered by the same flush', async (t) => {
  const broker = await startLiveBroker();
  t.after(() => broker.close());
  await broker.seedTenant('acme', { users: ['alice', 'bob', 'carol'] });
  const { token } = await broker.enrolAgent();
  const stateDir = mkdtempSync(join(tmpdir(), 'agent-state-'));
  t.after(() => rmSync(stateDir, { recursive: true, force: true }));
  const client = new BrokerClient({ baseUrl: broker.url, token, stateDir, attempts: 2, baseDelayMs: 10 });
  await client.register({ publicAddress: '127.0.0.1', capacity: 100, version: 'test' });

  const started = [];
  for (const [i, username] of ['alice', 'bob', 'carol'].entries()) {
    const agentSessionRef = `ref-${i}`;
    const grant = await papGrant(client, `${username}@acme`, fixturePassword(username), agentSessionRef);
    started.push(await client.startSession({ agentSessionRef, tunnelId: 1, l2tpSessionId: i + 1, tenantId: 'acme', username, authMethod: 'pap', grant }));
  }
  // Three stops reported at the same moment, as when a tunnel with three sessions closes.
  await Promise.all(started.map((s, i) => client.reportStop(s.sessionId, 'user-request', counters(i + 1))));
  assert.equal(client.pendingReports, 0);
  for (const s of started) {
    assert.equal((await broker.admin('GET', `/v1/sessions/${s.sessionId}`)).body.state, 'stopped');
  }
});

test('a start refused by the user quota delivers that user\'s pending stop first and succeeds (stops wait behind starts)', async (t) => {
  const broker = await startLiveBroker();
  t.after(() => broker.close());
  assert.equal((await broker.admin('POST', '/v1/tenants', { tenantId: 'quota', name: 'quota', maxSessionsPerUser: 1 })).status, 201);
  assert.equal((await broker.admin('POST', '/v1/tenants/quota/pools', { poolId: 'main', cidr: '10.9.0.0/24', dns: ['192.0.2.53'] })).status, 201);
  assert.equal((await broker.admin('POST', '/v1/tenants/quota/users', { username: 'bob', password: fixturePassword('bob') })).status, 201);
  const { token } = await broker.enrolAgent();
  const stateDir = mkdtempSync(join(tmpdir(), 'agent-state-'));
  t.after(() => rmSync(stateDir, { recursive: true, force: true }));
  const fast = { attempts: 2, baseDelayMs: 10, timeoutMs: 2_000 };
  const start = async (c: BrokerClient, ref: string) => ({
    agentSessionRef: ref,
    tunnelId: 3,
    l2tpSessionId: 4,
    tenantId: 'quota',
    username: 'bob',
    authMethod: 'pap' as const,
    grant: await papGrant(c, 'bob@quota', fixturePassword('bob'), ref),
  });

  const firstClient = new BrokerClient({ baseUrl: broker.url, token, stateDir, ...fast });
  const first = await firstClient.startSession(await start(firstClient, 'old'));
  // Bob's old session ends while the broker is unreachable: its stop waits in the outbox.
  await broker.stop();
  const client = new BrokerClient({ baseUrl: broker.url, token, stateDir, ...fast });
  await client.reportStop(first.sessionId, 'tunnel-closed', counters(1), { tenantId: 'quota', username: 'bob' });
  assert.equal(client.pendingReports, 1);
  await broker.start();

  const next = await client.startSession(await start(client, 'new'));
  assert.equal(next.created, true);
  assert.equal(client.pendingReports, 0, 'the stop was delivered on the way');
  assert.equal((await broker.admin('GET', `/v1/sessions/${first.sessionId}`)).body.state, 'stopped');

  // Without an owed stop the refusal stands.
  await assert.rejects(client.startSession(await start(client, 'third')), (error: Error) => /quota-exceeded/.test(error.message));
});

test('a state directory that cannot be written: stop reports still reach the broker from memory, the agent hears why once', async (t) => {
  const broker = await startLiveBroker();
  t.after(() => broker.close());
  await broker.seedTenant('acme');
  const { token } = await broker.enrolAgent();
  const parent = mkdtempSync(join(tmpdir(), 'agent-state-'));
  // A read-only file system, as in the report (EROFS); without root, a path below a file (ENOTDIR).
  let stateDir = join(parent, 'ro');
  mkdirSync(stateDir);
  const readOnly = process.getuid?.() === 0 && spawnSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', stateDir]).status === 0;
  const mounted = stateDir;
  t.after(() => {
    if (readOnly) spawnSync('umount', [mounted]);
    rmSync(parent, { recursive: true, force: true });
  });
  if (!readOnly) {
    writeFileSync(join(parent, 'file'), 'x');
    stateDir = join(parent, 'file', 'state');
  }
  const heard: string[] = [];
  const fast = { attempts: 2, baseDelayMs: 10, timeoutMs: 2_000 };
  const client = new BrokerClient({ baseUrl: broker.url, token, stateDir, ...fast, onStateUnwritable: (p) => heard.push(p.reason) });
  assert.equal(heard.length, 1);
  assert.match(heard[0]!, readOnly ? /EROFS/ : /ENOTDIR/);

  const startOf = async (ref: string) => {
    const challenge = Buffer.alloc(16, 7);
    const peer = Buffer.alloc(16, 9);
    const answer = await computeMsChapV2Response({ authenticatorChallenge: challenge, peerChallenge: peer, username: 'alice@acme', password: fixturePassword('alice') });
    const verdict = await client.authenticate({
      method: 'mschapv2',
      username: 'alice@acme',
      agentSessionRef: ref,
      peerAddress: '198.51.100.4',
      authenticatorChallenge: challenge.toString('hex'),
      peerChallenge: peer.toString('hex'),
      ntResponse: answer.ntResponse.toString('hex'),
    });
    assert.ok(verdict.ok);
    const grant = verdict.ok ? verdict.grant : '';
    return client.startSession({ agentSessionRef: ref, tunnelId: 3, l2tpSessionId: 4, tenantId: 'acme', username: 'alice', authMethod: 'mschapv2', grant });
  };

  // Broker up: delivered at once.
  const first = await startOf('ref-1');
  await client.reportStop(first.sessionId, 'user-request', counters(1));
  assert.equal((await broker.admin('GET', `/v1/sessions/${first.sessionId}`)).body.endReason, 'user-request');

  // Broker down: kept in memory, and delivered once it is back (nothing lost while the process lives).
  const second = await startOf('ref-2');
  await broker.stop();
  await client.reportStop(second.sessionId, 'idle-timeout', counters(2));
  assert.equal(client.pendingReports, 1);
  await broker.start();
  assert.deepEqual(await client.flushOutbox(), { delivered: 1, pending: 0 });
  const session = (await broker.admin('GET', `/v1/sessions/${second.sessionId}`)).body;
  assert.equal(session.state, 'stopped');
  assert.equal(session.endReason, 'idle-timeout');
  assert.equal(heard.length, 1, 'said once');
});
