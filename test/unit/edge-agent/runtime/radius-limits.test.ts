/**
 * A RADIUS tenant's per-user limits, as the broker's auth result carries them (issue 20): the agent
 * ends a session at its Session-Timeout (end reason session-timeout), busy or not, and at its
 * Idle-Timeout once no packet moved (idle-timeout), with no agent-wide idle timeout configured.
 * Runs the whole agent on the fake clock and network.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeIcmpEcho, parseIpv4 } from '../../../../edge-agent/src/datapath';
import { startHarness, waitFor } from '../../../support/agent/agent-harness';

const ip = (text: string) => parseIpv4(text) as number;

test('Session-Timeout ends the session, even a busy one; a session without limits stays', async () => {
  const h = startHarness();
  h.broker.limits.set('timed', { sessionTimeoutSeconds: 5 });
  const timed = await h.connect(h.client('198.51.100.7'), 100, { user: 'timed@acme', password: 'pw-timed' });
  const free = await h.connect(h.client('198.51.100.8'), 101, { user: 'free@acme', password: 'pw-free' });
  const address = timed.call.up?.address as string;
  for (let second = 1; second <= 4; second++) {
    timed.call.sendIpv4(encodeIcmpEcho({ source: ip(address), destination: ip('10.8.0.1'), identifier: 1, sequence: second, payload: Buffer.alloc(8) }));
    await h.tick(1000);
  }
  assert.equal(timed.call.cleared as unknown, undefined, 'not before its time');
  await h.tick(2000);
  await waitFor(() => timed.call.cleared !== undefined, 'the timed session is cleared');
  assert.equal(timed.call.cleared?.resultCode?.errorMessage, 'session-timeout');
  await waitFor(() => h.broker.stops().some((s) => s.reason === 'session-timeout'), 'stop reported with session-timeout');
  await h.tick(10_000);
  assert.equal(free.call.cleared, undefined, 'no limit, no end');
  await h.agent.shutdown();
});

test('Idle-Timeout ends a quiet session only; the MS-CHAPv2 Identifier is relayed', async () => {
  const h = startHarness();
  h.broker.limits.set('quiet', { idleTimeoutSeconds: 4 });
  h.broker.limits.set('busy', { idleTimeoutSeconds: 4 });
  const quiet = await h.connect(h.client('198.51.100.7'), 100, { user: 'quiet@acme', password: 'pw-quiet', methods: ['mschapv2'] });
  const busy = await h.connect(h.client('198.51.100.8'), 101, { user: 'busy@acme', password: 'pw-busy' });
  const busyAddress = busy.call.up?.address as string;
  for (let second = 1; second <= 10; second++) {
    busy.call.sendIpv4(encodeIcmpEcho({ source: ip(busyAddress), destination: ip('10.8.0.1'), identifier: 1, sequence: second, payload: Buffer.alloc(8) }));
    await h.tick(1000);
  }
  await waitFor(() => quiet.call.cleared !== undefined, 'the quiet session is cleared');
  assert.equal(quiet.call.cleared?.resultCode?.errorMessage, 'idle-timeout');
  assert.equal(busy.call.cleared, undefined, 'the busy one stays');
  const mschap = h.broker.requests.find((r) => r.method === 'mschapv2');
  assert.ok(mschap && mschap.method === 'mschapv2' && typeof mschap.id === 'number', 'id relayed for the RADIUS MS-CHAP2-Response');
  await h.agent.shutdown();
});
