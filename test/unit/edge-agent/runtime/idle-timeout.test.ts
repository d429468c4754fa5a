import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeIcmpEcho, parseIpv4 } from '../../../../edge-agent/src/datapath';
import { IdleSweep } from '../../../../edge-agent/src/runtime/idle-sweep';
import { FakeTimers } from '../../../../edge-agent/src/clock';
import { startHarness, waitFor } from '../../../support/agent/agent-harness';

const ip = (text: string) => parseIpv4(text) as number;

test('a session without data traffic ends with reason idle-timeout; one with traffic stays', async () => {
  const h = startHarness({ idleTimeoutMs: 8_000 });
  const quiet = await h.connect(h.client('198.51.100.7'), 100);
  const busy = await h.connect(h.client('198.51.100.8'), 101);
  const busyAddress = busy.call.up?.address as string;

  for (let second = 1; second <= 14; second++) {
    busy.call.sendIpv4(encodeIcmpEcho({ source: ip(busyAddress), destination: ip('10.8.0.1'), identifier: 1, sequence: second, payload: Buffer.alloc(8) }));
    await h.tick(1000);
  }
  await waitFor(() => quiet.call.cleared !== undefined, 'the quiet session is cleared');
  assert.equal(quiet.call.cleared?.resultCode?.errorMessage, 'idle-timeout');
  await waitFor(() => h.broker.stops().some((s) => s.reason === 'idle-timeout'), 'stop reported');
  assert.equal(busy.call.cleared, undefined, 'the busy session is still up');
  assert.equal(h.agent.sessions().length, 1);
  await h.agent.shutdown();
});

test('the sweep only expires a session whose counter has not moved for the whole timeout', () => {
  const timers = new FakeTimers();
  const counts = new Map([['a', 0], ['b', 0]]);
  const expired: string[] = [];
  const sweep = new IdleSweep({ timeoutMs: 4000, timers, sessions: () => counts.keys(), packets: (s) => counts.get(s)!, expire: (s) => void expired.push(s) });
  sweep.sweep(0);
  counts.set('b', 1);
  sweep.sweep(3000); // b moved: its idle time restarts
  sweep.sweep(4000);
  assert.deepEqual(expired, ['a']);
  sweep.sweep(6999);
  assert.deepEqual(expired, ['a']);
  sweep.sweep(7000);
  assert.deepEqual(expired, ['a', 'b']);
});
