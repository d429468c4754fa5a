import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { checkAuthenticatorResponse, computeChapMd5, computeMsChapV2Response } from '../../../contract/src/ppp-auth';
import { createHarness, grantFor, heartbeatBody, seedAgent, seedTenant, startBody, startGranted, type Harness } from '../../support/api-harness';

let h: Harness;
let agent: { agentId: string; token: string };
before(async () => {
  h = await createHarness();
  agent = await seedAgent(h);
  await seedTenant(h, 'acme');
});
after(async () => {
  await h?.close();
});

const asAgent = (method: string, path: string, body?: unknown, token = agent.token) =>
  h.call(method, path, { token, ...(body !== undefined ? { body } : {}) });

/** What every authenticate body carries besides the method's fields. */
const AUTH_COMMON = { agentSessionRef: 'ref-auth', peerAddress: '198.51.100.4' };
const authBody = (body: Record<string, unknown>) => ({ ...AUTH_COMMON, ...body });
/** Authenticates the start's user on this test's agent, then starts with the grant. */
const start = (body: ReturnType<typeof startBody>, password?: string) => startGranted(h, agent.token, body, password);

async function mschapv2(username: string, password: string, common: { agentSessionRef?: string; peerAddress?: string } = {}) {
  const authenticatorChallenge = randomBytes(16);
  const client = await computeMsChapV2Response({ password, authenticatorChallenge, username });
  const body = {
    method: 'mschapv2',
    username,
    ...AUTH_COMMON,
    ...common,
    authenticatorChallenge: authenticatorChallenge.toString('hex'),
    peerChallenge: client.peerChallenge.toString('hex'),
    ntResponse: client.ntResponse.toString('hex'),
  };
  return { body, client, authenticatorChallenge };
}

describe('registration, settings and heartbeat', () => {
  test('register returns settings; GET settings gives the agent the PSK in clear', async () => {
    const reg = await asAgent('POST', '/v1/agent/register', { publicAddress: '203.0.113.10', capacity: 80, version: '0.2.0' });
    assert.equal(reg.status, 200);
    assert.equal(reg.body.agentId, agent.agentId);
    assert.equal(reg.body.capacity, 50, 'capped at the enrolled 50');
    assert.equal(reg.body.settings.heartbeatIntervalSeconds, 30);
    await h.admin('PUT', '/v1/ipsec', { psk: 'agent-visible-psk', allowLegacyProposals: true });
    const settings = await asAgent('GET', '/v1/agent/settings');
    assert.equal(settings.status, 200);
    assert.deepEqual(settings.body.ipsec, { psk: 'agent-visible-psk', allowLegacyProposals: true });
    const hb = await asAgent('POST', '/v1/agent/heartbeat', heartbeatBody());
    assert.equal(hb.body.settingsRevision, settings.body.revision);
    const listed = await h.admin('GET', '/v1/agents');
    const me = listed.body.items.find((a: { agentId: string }) => a.agentId === agent.agentId);
    assert.equal(me.version, '0.2.0');
    assert.equal(me.capacity, 50, 'the agent cannot raise the enrolled capacity');
    assert.equal(me.lastHeartbeatAt, '2024-05-01T12:00:00.000Z');
  });

  test('bad bodies are 400 naming the field', async () => {
    const res = await asAgent('POST', '/v1/agent/heartbeat', { activeSessions: -1, counters: {}, ackCommandIds: [] });
    assert.equal(res.status, 400);
    assert.equal(res.body.error.field, 'activeSessions');
  });
});

describe('PPP authentication', () => {
  test('MS-CHAPv2 with the realm and domain forms; the authenticator response checks out client-side', async () => {
    for (const name of ['alice@acme', 'ACME\\alice']) {
      const { body, client, authenticatorChallenge } = await mschapv2(name, 'correct horse');
      const res = await asAgent('POST', '/v1/agent/authenticate', body);
      assert.equal(res.status, 200);
      assert.equal(res.body.ok, true, JSON.stringify(res.body));
      assert.equal(res.body.tenantId, 'acme');
      assert.equal(res.body.username, 'alice');
      assert.equal(res.body.authenticatorResponse, client.expectedAuthenticatorResponse);
      assert.ok(
        await checkAuthenticatorResponse({
          password: 'correct horse',
          authenticatorChallenge,
          peerChallenge: client.peerChallenge,
          ntResponse: client.ntResponse,
          username: name,
          received: res.body.authenticatorResponse,
        }),
      );
    }
  });

  test('PAP and CHAP-MD5 with real material; wrong answers fail with bad-credentials', async () => {
    const pap = await asAgent('POST', '/v1/agent/authenticate', authBody({ method: 'pap', username: 'alice@acme', password: 'correct horse' }));
    assert.equal(pap.body.ok, true);
    const challenge = randomBytes(16);
    const response = computeChapMd5({ id: 42, secret: 'correct horse', challenge });
    const chap = await asAgent('POST', '/v1/agent/authenticate', {
      ...AUTH_COMMON,
      method: 'chap-md5',
      username: 'alice@acme',
      id: 42,
      challenge: challenge.toString('hex'),
      response: response.toString('hex'),
    });
    assert.equal(chap.body.ok, true, JSON.stringify(chap.body));
    const wrongId = await asAgent('POST', '/v1/agent/authenticate', {
      ...AUTH_COMMON,
      method: 'chap-md5',
      username: 'alice@acme',
      id: 43,
      challenge: challenge.toString('hex'),
      response: response.toString('hex'),
    });
    assert.deepEqual(wrongId.body, { ok: false, reason: 'bad-credentials', retryable: false });
    // Clear the counter again so later tests start from zero.
    assert.equal((await asAgent('POST', '/v1/agent/authenticate', authBody({ method: 'pap', username: 'alice@acme', password: 'correct horse' }))).body.ok, true);
  });

  test('the credential check and the user read go to DynamoDB as one request; a bad credential still learns nothing', async () => {
    const sent: string[] = [];
    h.testStore.client.middlewareStack.add(
      (next, context) => (args) => {
        sent.push(context.commandName ?? '?');
        return next(args);
      },
      { step: 'initialize', name: 'readAheadCounter' },
    );
    try {
      const ok = await asAgent('POST', '/v1/agent/authenticate', authBody({ method: 'pap', username: 'alice@acme', password: 'correct horse' }));
      assert.equal(ok.body.ok, true);
      assert.deepEqual(sent, ['BatchGetItemCommand'], 'agent + user in one request, tenant from the settings cache');
      const wrongToken = `${agent.token.slice(0, -4)}AAAA`;
      const refused = await asAgent('POST', '/v1/agent/authenticate', authBody({ method: 'pap', username: 'alice@acme', password: 'correct horse' }), wrongToken);
      assert.equal(refused.status, 401);
      assert.equal(refused.body.ok, undefined);
      const broken = await h.call('POST', '/v1/agent/authenticate', { token: agent.token, rawBody: '{not json', headers: { 'content-type': 'application/json' } });
      assert.equal(broken.status, 400);
    } finally {
      h.testStore.client.middlewareStack.remove('readAheadCounter');
    }
  });

  test('unknown tenant/user, disallowed method and malformed names are refused with reasons', async () => {
    await seedTenant(h, 'paponly', { authMethods: ['pap'], cidr: '10.20.0.0/24' });
    const cases: [unknown, string][] = [
      [authBody({ method: 'pap', username: 'alice@nobody', password: 'x' }), 'unknown-tenant'],
      [authBody({ method: 'pap', username: 'alice', password: 'x' }), 'unknown-tenant'],
      [authBody({ method: 'pap', username: 'mallory@acme', password: 'x' }), 'unknown-user'],
      [(await mschapv2('alice@paponly', 'correct horse')).body, 'method-not-allowed'],
      [authBody({ method: 'pap', username: 'a\\b\\c', password: 'x' }), 'malformed-username'],
    ];
    for (const [body, reason] of cases) {
      const res = await asAgent('POST', '/v1/agent/authenticate', body);
      assert.equal(res.status, 200);
      assert.equal(res.body.ok, false);
      assert.equal(res.body.reason, reason, JSON.stringify(body));
    }
  });

  test('guessing from one address makes that address wait, not the user; a success clears it', async () => {
    await h.admin('POST', '/v1/tenants/acme/users', { username: 'dave', password: 'secret-of-d-1' });
    const from = (peerAddress: string, password: string) => mschapv2('dave@acme', password, { peerAddress }).then((m) => asAgent('POST', '/v1/agent/authenticate', m.body));
    for (let i = 1; i <= 5; i++) {
      const res = await from('198.51.100.66', 'guess');
      assert.equal(res.body.reason, 'bad-credentials', `attempt ${i}`);
    }
    const waiting = await from('198.51.100.66', 'secret-of-d-1');
    assert.deepEqual(waiting.body, { ok: false, reason: 'throttled', retryable: true, lockedUntil: '2024-05-01T12:00:30.000Z' }, 'refused unverified');
    assert.equal((await from('203.0.113.5', 'secret-of-d-1')).body.ok, true, 'the user from elsewhere is not held back');

    const users = await h.admin('GET', '/v1/tenants/acme/users');
    const dave = users.body.items.find((u: { username: string }) => u.username === 'dave');
    assert.equal(dave.locked, false);
    assert.equal(dave.failedAttempts, 0, 'the success cleared the user counter');
    const events = await h.admin('GET', '/v1/tenants/acme/users/dave/auth-events');
    assert.equal(events.body.items.length, 5, 'the throttled attempt was neither verified nor recorded');
    assert.ok(events.body.items.every((e: { agentId: string; source: string }) => e.agentId === agent.agentId && e.source === '198.51.100.66'));

    h.clock.advance(30_000);
    assert.equal((await from('198.51.100.66', 'secret-of-d-1')).body.ok, true, 'after its wait the pair may try again');
    assert.equal((await from('198.51.100.66', 'guess')).body.reason, 'bad-credentials', 'and its success cleared it');
  });
});

describe('sessions', () => {
  test('start is idempotent on agentSessionRef: same session, one lease', async () => {
    const first = await start(startBody('ref-idem'));
    assert.equal(first.status, 201);
    assert.equal(first.body.gateway, '10.8.0.1');
    assert.deepEqual(first.body.dns, ['1.1.1.1']);
    assert.equal(first.body.poolId, 'main');
    // The pool as the broker parsed it, beside the text agents already deployed read.
    assert.equal(first.body.cidr, '10.8.0.0/24');
    assert.deepEqual(first.body.block, { network: '10.8.0.0', prefixLength: 24 });
    const again = await start(startBody('ref-idem'));
    assert.equal(again.status, 200);
    assert.deepEqual(again.body.block, first.body.block, 'a retry hands the same block');
    assert.equal(again.body.sessionId, first.body.sessionId);
    assert.equal(again.body.address, first.body.address);
    assert.equal(again.body.created, false);
    const leases = await h.testStore.store.listLeases('acme', 'main');
    assert.equal(leases.filter((l) => l.sessionId === first.body.sessionId).length, 1);
    await asAgent('POST', `/v1/agent/sessions/${first.body.sessionId}/stop`, { reason: 'user-request' });
  });

  test('interim counters never decrease; stop twice is harmless and releases the address', async () => {
    const started = await start(startBody('ref-counters'));
    const id = started.body.sessionId;
    const c = (n: number) => ({ bytesIn: n, bytesOut: n * 2, packetsIn: n, packetsOut: n });
    assert.equal((await asAgent('POST', `/v1/agent/sessions/${id}/interim`, { counters: c(100) })).body.counters.bytesIn, 100);
    const late = await asAgent('POST', `/v1/agent/sessions/${id}/interim`, { counters: c(50) });
    assert.equal(late.status, 200);
    assert.deepEqual(late.body.counters, c(100), 'a late, lower report does not lower the counters');
    await asAgent('POST', `/v1/agent/sessions/${id}/interim`, { counters: c(100) });
    const stop = await asAgent('POST', `/v1/agent/sessions/${id}/stop`, { reason: 'user-request', counters: c(120) });
    assert.equal(stop.status, 200);
    assert.equal(stop.body.state, 'stopped');
    assert.equal(stop.body.endReason, 'user-request');
    assert.equal(stop.body.counters.bytesIn, 120);
    const stopAgain = await asAgent('POST', `/v1/agent/sessions/${id}/stop`, { reason: 'error', counters: c(999) });
    assert.equal(stopAgain.status, 200);
    assert.equal(stopAgain.body.endReason, 'user-request', 'the first stop wins');
    assert.equal(stopAgain.body.counters.bytesIn, 120);
    const session = await h.admin('GET', `/v1/sessions/${id}`);
    assert.equal(session.body.state, 'stopped');
    assert.ok(session.body.stoppedAt);
    const leases = await h.testStore.store.listLeases('acme', 'main');
    assert.ok(!leases.some((l) => l.sessionId === id && l.releaseAfter === undefined), 'address released');
    assert.equal((await asAgent('POST', '/v1/agent/sessions/nope/stop', { reason: 'error' })).status, 404);
  });

  test('another agent cannot touch this agent\'s sessions', async () => {
    const other = await seedAgent(h, 'edge-other');
    const started = await start(startBody('ref-owned'));
    const res = await asAgent('POST', `/v1/agent/sessions/${started.body.sessionId}/stop`, { reason: 'error' }, other.token);
    assert.equal(res.status, 404);
    await asAgent('POST', `/v1/agent/sessions/${started.body.sessionId}/stop`, { reason: 'user-request' });
  });

  test('quotas: per-user and per-tenant limits refuse with quota-exceeded', async () => {
    await seedTenant(h, 'quota', { maxSessions: 2, maxSessionsPerUser: 1, cidr: '10.30.0.0/24' });
    await h.admin('POST', '/v1/tenants/quota/users', { username: 'bob', password: 'quota-password' });
    await h.admin('POST', '/v1/tenants/quota/users', { username: 'eve', password: 'quota-password' });
    assert.equal((await start(startBody('q1', 'quota', 'alice'))).status, 201);
    const perUser = await start(startBody('q2', 'quota', 'alice'));
    assert.equal(perUser.status, 409);
    assert.equal(perUser.body.error.code, 'quota-exceeded');
    assert.equal((await start(startBody('q3', 'quota', 'bob'), 'quota-password')).status, 201);
    const perTenant = await start(startBody('q4', 'quota', 'eve'), 'quota-password');
    assert.equal(perTenant.status, 409);
    assert.equal(perTenant.body.error.code, 'quota-exceeded');
    // A retry of an already started session is not a new session and is not refused.
    assert.equal((await start(startBody('q1', 'quota', 'alice'))).status, 200);
  });

  test('pool exhausted is 503 pool-exhausted', async () => {
    await seedTenant(h, 'tiny', { cidr: '10.40.0.0/30' }); // one usable client address (.2; .1 is the gateway)
    await h.admin('POST', '/v1/tenants/tiny/users', { username: 'bob', password: 'quota-password' });
    assert.equal((await start(startBody('t1', 'tiny', 'alice'))).status, 201);
    const full = await start(startBody('t2', 'tiny', 'bob'), 'quota-password');
    assert.equal(full.status, 503);
    assert.equal(full.body.error.code, 'pool-exhausted');
    assert.equal(full.body.error.message, 'no free address for tenant tiny');
    // A retry of the start that holds the last address meets the full pool, and still gets its session.
    const retry = await start(startBody('t1', 'tiny', 'alice'));
    assert.equal(retry.status, 200);
    assert.equal(retry.body.address, '10.40.0.2');
  });

  test('a start needs the grant of its own authentication: agent, user, method and session', async () => {
    await seedTenant(h, 'granted');
    const body = startBody('g-ok', 'granted');
    const grant = await grantFor(h, agent.token, body);
    assert.match(grant, /^[^.]+\.[^.]+\.[^.]+$/);

    // Issue 14 #3: no grant, or someone else's, starts nothing.
    const missing = await asAgent('POST', '/v1/agent/sessions', body);
    assert.equal(missing.status, 400);
    assert.equal(missing.body.error.field, 'grant');
    const other = await seedAgent(h, 'edge-other');
    const refused = [
      await asAgent('POST', '/v1/agent/sessions', { ...startBody('g-ok', 'granted', 'bob'), grant }),
      await asAgent('POST', '/v1/agent/sessions', { ...body, grant: `${grant.slice(0, -3)}AAA` }),
      await asAgent('POST', '/v1/agent/sessions', { ...body, authMethod: 'pap', grant }),
      await asAgent('POST', '/v1/agent/sessions', { ...body, grant }, other.token),
      await asAgent('POST', '/v1/agent/sessions', { ...startBody('g-second', 'granted'), grant }),
    ];
    assert.deepEqual(refused.map((r) => [r.status, r.body.error.code]), Array(5).fill([403, 'grant-invalid']));

    const started = await asAgent('POST', '/v1/agent/sessions', { ...body, grant });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    h.clock.advance(61_000);
    const retry = await asAgent('POST', '/v1/agent/sessions', { ...body, grant });
    assert.equal(retry.status, 200, 'a retry of the same start is still answered, after the grant expired');
    assert.equal(retry.body.sessionId, started.body.sessionId);
    const late = await asAgent('POST', '/v1/agent/sessions', { ...startBody('g-late', 'granted'), grant });
    assert.equal(late.status, 403, 'an expired grant starts nothing new');
    await asAgent('POST', `/v1/agent/sessions/${started.body.sessionId}/stop`, { reason: 'user-request' });
  });

  test('the session records the IPsec SA that carried it (clients behind one NAT told apart by its mark), and GET /v1/sessions shows it', async () => {
    const ipsecSa = { ikeSaId: '7', childSaId: '12', mark: 2, ikePeer: '198.51.100.100:4500' };
    const withSa = async (ref: string, sa: object | undefined) => {
      const body = startBody(ref);
      const grant = await grantFor(h, agent.token, body);
      return asAgent('POST', '/v1/agent/sessions', { ...body, peerAddress: '198.51.100.100', ...(sa ? { ipsecSa: sa } : {}), grant });
    };
    const started = await withSa('ref-sa', ipsecSa);
    assert.equal(started.status, 201, JSON.stringify(started.body));
    const shown = await h.admin('GET', `/v1/sessions/${started.body.sessionId}`);
    assert.equal(shown.status, 200);
    assert.deepEqual(shown.body.ipsecSa, ipsecSa);
    const listed = await h.admin('GET', '/v1/sessions?tenantId=acme&username=alice&limit=100');
    assert.deepEqual(listed.body.items.find((x: { sessionId: string }) => x.sessionId === started.body.sessionId)?.ipsecSa, ipsecSa);
    const plain = await withSa('ref-no-sa', undefined);
    assert.equal((await h.admin('GET', `/v1/sessions/${plain.body.sessionId}`)).body.ipsecSa, undefined, 'absent without IPsec');
    const bad = await withSa('ref-bad-sa', { ...ipsecSa, mark: 0 });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.field, 'ipsecSa.mark');
    for (const id of [started.body.sessionId, plain.body.sessionId]) await asAgent('POST', `/v1/agent/sessions/${id}/stop`, { reason: 'user-request' });
  });

  test('bad start body is 400', async () => {
    const bad = await asAgent('POST', '/v1/agent/sessions', { ...startBody('u2'), tunnelId: 0, grant: 'x' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.field, 'tunnelId');
  });

  test('operator DELETE queues disconnect-session, delivered by heartbeat until acknowledged', async () => {
    const started = await start(startBody('ref-kick'));
    const id = started.body.sessionId;
    const del = await h.admin('DELETE', `/v1/sessions/${id}`);
    assert.equal(del.status, 202);
    assert.ok(del.body.disconnectRequestedAt);
    assert.equal((await h.admin('DELETE', `/v1/sessions/${id}`)).status, 202, 'repeatable');
    const hb = await asAgent('POST', '/v1/agent/heartbeat', heartbeatBody());
    const commands = hb.body.commands.filter((c: { sessionId?: string }) => c.sessionId === id);
    assert.equal(commands.length, 1, 'queued once');
    assert.equal(commands[0].type, 'disconnect-session');
    const again = await asAgent('POST', '/v1/agent/heartbeat', heartbeatBody());
    assert.equal(again.body.commands.filter((c: { sessionId?: string }) => c.sessionId === id).length, 1, 'redelivered until acked');
    const acked = await asAgent('POST', '/v1/agent/heartbeat', heartbeatBody([commands[0].commandId]));
    assert.equal(acked.body.commands.filter((c: { sessionId?: string }) => c.sessionId === id).length, 0);
    const interim = await asAgent('POST', `/v1/agent/sessions/${id}/interim`, { counters: { bytesIn: 1, bytesOut: 1, packetsIn: 1, packetsOut: 1 } });
    assert.equal(interim.body.disconnectRequested, true);
    await asAgent('POST', `/v1/agent/sessions/${id}/stop`, { reason: 'admin-disconnect' });
    const stopped = await h.admin('DELETE', `/v1/sessions/${id}`);
    assert.equal(stopped.status, 409);
    assert.equal(stopped.body.error.code, 'session-stopped');
  });
});
