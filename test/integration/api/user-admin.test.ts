/**
 * Issue 18: user administration. Deleting or disabling a user ends the user's sessions through the
 * same command an operator's DELETE /v1/sessions/{id} queues (the agent picks it up), recorded
 * with the reason (user-deleted, user-disabled); a password change meets the tenant's policy; an
 * operator unlocks a locked user; a static address is set and cleared.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness, heartbeatBody, mschapv2Body, seedAgent, seedTenant, startBody, startGranted, type Harness } from '../../support/api-harness';

let h: Harness;
let agent: { agentId: string; token: string };
let ref = 0;
before(async () => {
  h = await createHarness({ AUTH_LOCKOUT_SOURCES: '2' });
  await seedTenant(h, 'acme');
  agent = await seedAgent(h);
});
after(async () => {
  await h?.close();
});

const authenticate = async (name: string, password: string, from = '198.51.100.4') =>
  (await h.call('POST', '/v1/agent/authenticate', { token: agent.token, body: await mschapv2Body(name, password, `auth-${++ref}`, from) })).body;

async function activeSession(username: string, password: string): Promise<string> {
  await h.admin('POST', '/v1/tenants/acme/users', { username, password });
  const started = await startGranted(h, agent.token, startBody(`s-${++ref}`, 'acme', username), password);
  assert.equal(started.status, 201, JSON.stringify(started.body));
  return started.body.sessionId as string;
}

/** The disconnect commands the agent's next heartbeat carries. */
async function disconnectCommands(): Promise<{ commandId: string; sessionId: string }[]> {
  const beat = await h.call('POST', '/v1/agent/heartbeat', { token: agent.token, body: heartbeatBody() });
  return beat.body.commands.filter((c: { type: string }) => c.type === 'disconnect-session');
}

describe('deleting and disabling a user ends its sessions', () => {
  test('DELETE user: the session is asked to end like a DELETE of it, and ends as user-deleted', async () => {
    const sessionId = await activeSession('dora', 'correct horse');
    assert.equal((await h.admin('DELETE', '/v1/tenants/acme/users/dora')).status, 204);
    const marked = await h.admin('GET', `/v1/sessions/${sessionId}`);
    assert.equal(marked.body.disconnectRequestedAt, '2024-05-01T12:00:00.000Z');
    assert.equal(marked.body.disconnectReason, 'user-deleted');
    const commands = await disconnectCommands();
    const command = commands.find((c) => c.sessionId === sessionId);
    assert.ok(command, 'the agent gets the same disconnect-session command');
    assert.equal(command.commandId, `disconnect-${sessionId}`);
    // The agent tears the session down and reports it as it reports every disconnect.
    const stop = await h.call('POST', `/v1/agent/sessions/${sessionId}/stop`, { token: agent.token, body: { reason: 'admin-disconnect' } });
    assert.equal(stop.status, 200);
    const ended = await h.admin('GET', `/v1/sessions/${sessionId}`);
    assert.deepEqual([ended.body.state, ended.body.endReason], ['stopped', 'user-deleted']);
    assert.equal((await authenticate('dora@acme', 'correct horse')).reason, 'unknown-user');
  });

  test('PATCH disabled: sessions end as user-disabled, logins are refused, enabling lets the user in again', async () => {
    const sessionId = await activeSession('ed', 'correct horse');
    const disabled = await h.admin('PATCH', '/v1/tenants/acme/users/ed', { disabled: true });
    assert.equal(disabled.status, 200, JSON.stringify(disabled.body));
    assert.deepEqual([disabled.body.disabled, disabled.body.sessionsEnded], [true, 1]);
    assert.equal((await h.admin('GET', `/v1/sessions/${sessionId}`)).body.disconnectReason, 'user-disabled');
    assert.ok((await disconnectCommands()).some((c) => c.sessionId === sessionId));
    await h.call('POST', `/v1/agent/sessions/${sessionId}/stop`, { token: agent.token, body: { reason: 'admin-disconnect' } });
    assert.equal((await h.admin('GET', `/v1/sessions/${sessionId}`)).body.endReason, 'user-disabled');
    assert.equal((await authenticate('ed@acme', 'correct horse')).reason, 'user-disabled');
    const enabled = await h.admin('PATCH', '/v1/tenants/acme/users/ed', { disabled: false });
    assert.deepEqual([enabled.body.disabled, enabled.body.sessionsEnded], [false, 0]);
    assert.equal((await authenticate('ed@acme', 'correct horse')).ok, true);
  });

  test('a plain operator disconnect still ends as admin-disconnect', async () => {
    const sessionId = await activeSession('fay', 'correct horse');
    assert.equal((await h.admin('DELETE', `/v1/sessions/${sessionId}`)).status, 202);
    await h.call('POST', `/v1/agent/sessions/${sessionId}/stop`, { token: agent.token, body: { reason: 'admin-disconnect' } });
    assert.equal((await h.admin('GET', `/v1/sessions/${sessionId}`)).body.endReason, 'admin-disconnect');
  });
});

describe('password, static address, unlock', () => {
  test('a password change meets the policy; the old password stops working, the new one works', async () => {
    await h.admin('POST', '/v1/tenants/acme/users', { username: 'gus', password: 'correct horse' });
    const weak = await h.admin('PATCH', '/v1/tenants/acme/users/gus', { password: 'gus12345' });
    assert.deepEqual([weak.status, weak.body.error.code, weak.body.error.field], [400, 'password-too-weak', 'password']);
    assert.equal((await authenticate('gus@acme', 'correct horse')).ok, true, 'a refused change changes nothing');
    const changed = await h.admin('PATCH', '/v1/tenants/acme/users/gus', { password: 'battery staple' });
    assert.equal(changed.status, 200);
    assert.ok(!JSON.stringify(changed.body).includes('battery staple'));
    assert.equal((await authenticate('gus@acme', 'correct horse')).reason, 'bad-credentials');
    assert.equal((await authenticate('gus@acme', 'battery staple')).ok, true);
    assert.equal((await h.admin('PATCH', '/v1/tenants/acme/users/gus', {})).body.error.code, 'validation-failed');
    assert.equal((await h.admin('PATCH', '/v1/tenants/acme/users/nobody', { disabled: true })).status, 404);
  });

  test('a static address is set inside a pool only, and cleared with null', async () => {
    await h.admin('POST', '/v1/tenants/acme/users', { username: 'hal', password: 'correct horse' });
    const outside = await h.admin('PATCH', '/v1/tenants/acme/users/hal', { staticIp: '192.168.7.7' });
    assert.deepEqual([outside.status, outside.body.error.field], [400, 'staticIp']);
    assert.equal((await h.admin('PATCH', '/v1/tenants/acme/users/hal', { staticIp: '10.8.0.77' })).body.staticIp, '10.8.0.77');
    const started = await startGranted(h, agent.token, startBody(`s-${++ref}`, 'acme', 'hal'));
    assert.equal(started.body.address, '10.8.0.77');
    const cleared = await h.admin('PATCH', '/v1/tenants/acme/users/hal', { staticIp: null });
    assert.equal(cleared.body.staticIp, undefined);
    assert.equal((await h.admin('GET', '/v1/tenants/acme/users/hal')).body.staticIp, undefined);
  });

  test('an operator unlocks a locked user', async () => {
    await h.admin('POST', '/v1/tenants/acme/users', { username: 'ivy', password: 'correct horse' });
    // AUTH_LOCKOUT_THRESHOLD 3 failures from AUTH_LOCKOUT_SOURCES 2 addresses lock the account.
    for (const from of ['198.51.100.1', '198.51.100.2', '198.51.100.3']) await authenticate('ivy@acme', 'wrong password', from);
    const locked = await h.admin('GET', '/v1/tenants/acme/users/ivy');
    assert.equal(locked.body.locked, true, JSON.stringify(locked.body));
    assert.equal((await authenticate('ivy@acme', 'correct horse', '198.51.100.9')).reason, 'locked');
    const unlocked = await h.admin('POST', '/v1/tenants/acme/users/ivy/unlock');
    assert.equal(unlocked.status, 200);
    assert.deepEqual([unlocked.body.locked, unlocked.body.failedAttempts], [false, 0]);
    assert.equal((await authenticate('ivy@acme', 'correct horse', '198.51.100.9')).ok, true);
  });
});
