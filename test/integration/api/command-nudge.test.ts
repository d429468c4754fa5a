/**
 * Issue 18, broker side of command nudges, through app.request() on DynamoDB Local: an agent that
 * reports a nudge port gets its key; DELETE /v1/sessions/{id} nudges exactly that agent, at its
 * address and port, with a datagram only its key verifies; an agent without a nudge port gets no
 * key and no nudge; a failing sender never fails the DELETE; the session shows when the disconnect
 * was requested and when the agent confirmed it. And the real UDP sender is bounded.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { NudgeError, verifyNudge } from '../../../contract/src/command-nudge';
import type { NudgeSender } from '../../../functions/src/domain/command-nudge';
import { createUdpNudgeSender } from '../../../functions/src/io/udp-nudge-sender';
import { createHarness, heartbeatBody, seedTenant, startBody, startGranted, type Harness } from '../../support/api-harness';

interface Sent {
  readonly datagram: Uint8Array;
  readonly port: number;
  readonly address: string;
}

const sent: Sent[] = [];
let failing = false;
const recorder: NudgeSender = {
  async send(datagram, port, address) {
    if (failing) throw new Error('network unreachable');
    sent.push({ datagram, port, address });
  },
};

let h: Harness;
before(async () => {
  h = await createHarness({}, { nudgeSender: recorder });
  await seedTenant(h, 'acme');
});
after(async () => {
  await h?.close();
});

async function enrol(name: string, register: Record<string, unknown>) {
  const res = await h.admin('POST', '/v1/agents', { name, capacity: 50 });
  assert.equal(res.status, 201);
  const token = res.body.token as string;
  const reg = await h.call('POST', '/v1/agent/register', { token, body: { capacity: 50, version: '0.2.0', ...register } });
  assert.equal(reg.status, 200, JSON.stringify(reg.body));
  return { agentId: res.body.agent.agentId as string, token, reply: reg.body };
}

describe('command nudges, broker side', () => {
  test('registration with a nudge port: a per-agent key in the answer and in every heartbeat answer; the port in GET /v1/agents', async () => {
    const a = await enrol('nudge-a', { publicAddress: '203.0.113.21', nudgePort: 1717 });
    const b = await enrol('nudge-b', { publicAddress: '203.0.113.22', nudgePort: 1717 });
    assert.equal(Buffer.from(a.reply.nudgeKey, 'base64').length, 32);
    assert.notEqual(a.reply.nudgeKey, b.reply.nudgeKey, 'each agent has its own key');
    const hb = await h.call('POST', '/v1/agent/heartbeat', { token: a.token, body: heartbeatBody() });
    assert.equal(hb.body.nudgeKey, a.reply.nudgeKey);
    const listed = (await h.admin('GET', '/v1/agents')).body.items.find((x: { agentId: string }) => x.agentId === a.agentId);
    assert.equal(listed.nudgePort, 1717);
    // Registering again with nudges off clears the port: no key, no nudge.
    const off = await h.call('POST', '/v1/agent/register', { token: b.token, body: { publicAddress: '203.0.113.22', capacity: 50, version: '0.2.0', nudgePort: 0 } });
    assert.equal(off.body.nudgeKey, undefined);
  });

  test('DELETE nudges the session\'s agent only, with a datagram its key verifies and no other key does; confirmation shown after its stop', async () => {
    const a = await enrol('nudge-c', { publicAddress: '203.0.113.23', nudgePort: 1999 });
    const other = await enrol('nudge-d', { publicAddress: '203.0.113.24', nudgePort: 1717 });
    const started = await startGranted(h, a.token, startBody('ref-nudge-1'));
    assert.equal(started.status, 201, JSON.stringify(started.body));
    const id = started.body.sessionId as string;
    sent.length = 0;
    const del = await h.admin('DELETE', `/v1/sessions/${id}`);
    assert.equal(del.status, 202);
    assert.equal(sent.length, 1, 'one nudge');
    const [nudge] = sent;
    assert.deepEqual([nudge!.address, nudge!.port], ['203.0.113.23', 1999]);
    const key = Buffer.from(a.reply.nudgeKey, 'base64');
    const verified = verifyNudge(nudge!.datagram, { agentId: a.agentId, keys: [key], now: h.clock.now() });
    assert.ok(!(verified instanceof NudgeError), String((verified as NudgeError).message));
    const otherKey = Buffer.from(other.reply.nudgeKey, 'base64');
    assert.ok(verifyNudge(nudge!.datagram, { agentId: a.agentId, keys: [otherKey], now: h.clock.now() }) instanceof NudgeError, 'another agent\'s key does not verify it');
    assert.ok(verifyNudge(nudge!.datagram, { agentId: other.agentId, keys: [otherKey], now: h.clock.now() }) instanceof NudgeError, 'another agent refuses it');

    assert.equal((await h.admin('DELETE', `/v1/sessions/${id}`)).status, 202);
    assert.equal(sent.length, 2, 'a repeated DELETE nudges again (the first may have been lost)');
    assert.notDeepEqual(Buffer.from(sent[1]!.datagram), Buffer.from(sent[0]!.datagram), 'fresh nonce');

    const requested = (await h.admin('GET', `/v1/sessions/${id}`)).body;
    assert.equal(requested.disconnectRequestedAt, '2024-05-01T12:00:00.000Z');
    assert.equal(requested.disconnectConfirmedAt, undefined);
    h.clock.advance(1234);
    await h.call('POST', `/v1/agent/sessions/${id}/stop`, { token: a.token, body: { reason: 'admin-disconnect' } });
    const confirmed = (await h.admin('GET', `/v1/sessions?tenantId=acme&agentId=${a.agentId}`)).body.items.find((s: { sessionId: string }) => s.sessionId === id);
    assert.equal(confirmed.disconnectRequestedAt, '2024-05-01T12:00:00.000Z');
    assert.equal(confirmed.disconnectConfirmedAt, '2024-05-01T12:00:01.234Z');
    h.clock.advance(-1234);
  });

  test('a session that ended otherwise after the DELETE shows no confirmation', async () => {
    const a = await enrol('nudge-e', { publicAddress: '203.0.113.25', nudgePort: 1717 });
    const started = await startGranted(h, a.token, startBody('ref-nudge-2'));
    const id = started.body.sessionId as string;
    assert.equal((await h.admin('DELETE', `/v1/sessions/${id}`)).status, 202);
    await h.call('POST', `/v1/agent/sessions/${id}/stop`, { token: a.token, body: { reason: 'user-request' } });
    const s = (await h.admin('GET', `/v1/sessions/${id}`)).body;
    assert.ok(s.disconnectRequestedAt);
    assert.equal(s.disconnectConfirmedAt, undefined);
  });

  test('an agent without a nudge port (an older agent) is not nudged; the command waits for its heartbeat', async () => {
    const old = await enrol('nudge-old', { publicAddress: '203.0.113.26' });
    assert.equal(old.reply.nudgeKey, undefined);
    const started = await startGranted(h, old.token, startBody('ref-nudge-3'));
    sent.length = 0;
    assert.equal((await h.admin('DELETE', `/v1/sessions/${started.body.sessionId}`)).status, 202);
    assert.equal(sent.length, 0);
    const hb = await h.call('POST', '/v1/agent/heartbeat', { token: old.token, body: heartbeatBody() });
    assert.equal(hb.body.commands.length, 1);
  });

  test('a sender that fails does not fail the DELETE', async () => {
    const a = await enrol('nudge-f', { publicAddress: '203.0.113.27', nudgePort: 1717 });
    const started = await startGranted(h, a.token, startBody('ref-nudge-4'));
    failing = true;
    try {
      const del = await h.admin('DELETE', `/v1/sessions/${started.body.sessionId}`);
      assert.equal(del.status, 202);
    } finally {
      failing = false;
    }
    const hb = await h.call('POST', '/v1/agent/heartbeat', { token: a.token, body: heartbeatBody() });
    assert.equal(hb.body.commands[0]?.type, 'disconnect-session', 'the heartbeat still delivers it');
  });
});

describe('the UDP nudge sender', () => {
  test('delivers a datagram over real UDP', async () => {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const got = new Promise<Buffer>((resolve) => socket.once('message', resolve));
    await createUdpNudgeSender().send(Buffer.from('TBN1-test'), socket.address().port, '127.0.0.1');
    assert.equal((await got).toString(), 'TBN1-test');
    socket.close();
  });

  test('gives up within its bound and never rejects (an unresolvable name, a bad port)', async () => {
    const sender = createUdpNudgeSender({ timeoutMs: 150 });
    const t0 = Date.now();
    await sender.send(Buffer.from('x'), 1717, 'no-such-host.invalid');
    await sender.send(Buffer.from('x'), 0, '127.0.0.1');
    assert.ok(Date.now() - t0 < 2000, `${Date.now() - t0} ms`);
  });
});
