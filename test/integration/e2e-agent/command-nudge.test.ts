/**
 * Issue 18: "DELETE /v1/sessions/{id} answers 202, and the agent acts at its next heartbeat". The
 * real agent (bin/edge-agent.js in a network namespace) and the real broker (DynamoDB Local, on the
 * host end of the veth) with a heartbeat of 600 s, so nothing here can pass by heartbeat: the
 * broker's nudge reaches the agent at its veth address and the PPP link goes down at once. Then the
 * attacks: nudges signed with another agent's key, for another agent, stale, replayed, and a flood,
 * sent from the host to the agent's nudge port while a disconnect is queued for it, change nothing
 * until a genuine nudge arrives.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { DEFAULT_NUDGE_PORT, encodeNudge } from '../../../contract/src/command-nudge';
import { createNudgeKeys } from '../../../functions/src/domain/command-nudge';
import { netnsSkipReason } from '../../../scripts/lib/netns';
import { eventually, startE2e, type E2e } from '../../support/agent-process-harness';
import { fixturePassword } from '../../support/fixture-password';

const skip = netnsSkipReason();
const TENANT = 'nudge-e2e';
const GATEWAY = '10.8.0.1';
const DATA_KEY = randomBytes(32).toString('base64');
const keys = createNudgeKeys([{ keyId: 'k1', keyBase64: DATA_KEY }]);

describe('command nudges against the real agent (netns), heartbeat 600 s', { skip: skip ? `skipped: ${skip}` : false, timeout: 180_000 }, () => {
  let e2e: E2e;
  let udp: Socket;
  before(async () => {
    e2e = await startE2e({
      label: 'nudge',
      tenantId: TENANT,
      users: ['ann', 'bob', 'cyd'],
      brokerEnv: { HEARTBEAT_INTERVAL_SECONDS: '600', DATA_KEYS: `k1:${DATA_KEY}` },
    });
    udp = createSocket('udp4');
    await new Promise<void>((resolve) => udp.bind(0, e2e.ns.hostAddress, resolve));
  });
  after(async () => {
    udp?.close();
    await e2e?.close();
  });

  const cred = (username: string) => ({ username: `${username}@${TENANT}`, password: fixturePassword(username), method: 'mschapv2' as const });
  const send = (bytes: Uint8Array) => new Promise<void>((resolve) => udp.send(bytes, DEFAULT_NUDGE_PORT, e2e.ns.nsAddress, () => resolve()));
  const nudge = (fields: { agentId?: string; sentAt?: number } = {}, key = keys(e2e.agentId)) =>
    encodeNudge({ agentId: e2e.agentId, sentAt: Date.now(), nonce: randomBytes(16), ...fields }, key);
  const sessionOf = async (address: string) =>
    eventually(`broker session of ${address}`, async () => (await e2e.sessions({ tenantId: TENANT })).find((s) => s.assignedIp === address));

  test('the agent registered its nudge port; the heartbeat is 600 s', async () => {
    const agents = await e2e.broker.admin<{ items: { agentId: string; nudgePort?: number }[] }>('GET', '/v1/agents');
    assert.equal(agents.body.items.find((a) => a.agentId === e2e.agentId)?.nudgePort, DEFAULT_NUDGE_PORT);
    assert.ok(e2e.logs.some((l) => l.msg === 'registered with the broker' && l.heartbeatIntervalSeconds === 600), e2e.logTail());
  });

  test('DELETE: the PPP link goes down within seconds, not at the heartbeat; requested and confirmed times on the session', async () => {
    const run = await e2e.open({ tunnels: 1, sessionsPerTunnel: 2, credentials: (i) => cred(['ann', 'bob'][i]!) });
    const [victim, other] = run.sessions;
    assert.ok(victim?.address && other?.address, JSON.stringify(run.results()));
    const record = await sessionOf(victim.address);
    const started = Date.now();
    assert.equal((await e2e.broker.admin('DELETE', `/v1/sessions/${record.sessionId}`)).status, 202);
    // 20 s is a loose deadline (this is not a speed test); the heartbeat would take up to 600 s.
    await victim.waitForLinkDown(20_000).catch((error: Error) => assert.fail(`${error.message}\n${e2e.logTail()}`));
    const tookMs = Date.now() - started;
    process.stderr.write(`# disconnect: DELETE to PPP link down ${tookMs} ms (heartbeat 600 s)\n`);
    const stopped = await eventually('stop reported', async () => {
      const s = await e2e.broker.admin<Record<string, string>>('GET', `/v1/sessions/${record.sessionId}`);
      return s.body.state === 'stopped' ? s.body : undefined;
    });
    assert.equal(stopped.endReason, 'admin-disconnect');
    assert.ok(stopped.disconnectRequestedAt && stopped.disconnectConfirmedAt, JSON.stringify(stopped));
    assert.ok(Date.parse(stopped.disconnectConfirmedAt!) >= Date.parse(stopped.disconnectRequestedAt!));
    assert.equal((await other.ping(GATEWAY, { count: 2, timeoutMs: 5000 })).received, 2, 'the other session keeps working');
    await run.close();
  });

  test('attacks: forged, misdirected, stale and replayed nudges and a flood deliver nothing; a genuine nudge then does', async () => {
    const run = await e2e.open({ tunnels: 1, sessionsPerTunnel: 1, credentials: () => cred('cyd') });
    const [target] = run.sessions;
    assert.ok(target?.address, JSON.stringify(run.results()));
    const record = await sessionOf(target.address);
    // A disconnect queued without a nudge (as if the broker's nudge had been lost).
    await e2e.broker.testStore.store.enqueueAgentCommand(e2e.agentId, {
      commandId: `disconnect-${record.sessionId}`,
      type: 'disconnect-session',
      sessionId: record.sessionId,
      createdAt: Date.now(),
    });
    const otherAgent = 'agent-00000000deadbeef';
    await send(nudge({}, keys(otherAgent))); // another agent's key, this agent's id
    await send(nudge({ agentId: otherAgent }, keys(otherAgent))); // another agent's genuine nudge
    await send(nudge({ sentAt: Date.now() - 120_000 })); // stale
    const genuine = nudge();
    const replayLater = Buffer.from(genuine);
    // A flood of forged datagrams (more than the agent verifies per second).
    const forged = nudge({}, randomBytes(32));
    for (let i = 0; i < 5000; i++) udp.send(forged, DEFAULT_NUDGE_PORT, e2e.ns.nsAddress);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    assert.equal(target.phase, 'up', 'nothing was delivered by forged nudges');
    assert.equal((await target.ping(GATEWAY, { count: 1, timeoutMs: 5000 })).received, 1);
    const refusals = e2e.logs.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('command nudge refused')).map((l) => l.msg);
    for (const why of ['bad-tag', 'wrong-agent', 'stale']) assert.ok(refusals.some((m) => m?.includes(`(${why})`)), `${why} logged: ${JSON.stringify(refusals)}`);

    // After the flood (the verification budget refills in a second) the genuine nudge delivers it.
    await send(genuine);
    await target.waitForLinkDown(20_000).catch((error: Error) => assert.fail(`${error.message}\n${e2e.logTail()}`));
    await send(replayLater);
    await eventually('replay refused', async () => (e2e.logs.some((l) => l.msg?.startsWith('command nudge refused (replayed)')) ? true : undefined), { timeoutMs: 5000 });
    await run.close();
  });
});
