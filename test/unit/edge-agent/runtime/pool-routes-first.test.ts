/**
 * Issue 18, "the first packets of a new pool are lost": the agent handed the client its address
 * (and so let PPP come up and the client send) while the pool's TUN route was still being
 * installed. Now IPCP completes only after the route and gateway are on the TUN. In-process on
 * fakes with a link configurator we hold back or make fail.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness } from '../../../support/agent/agent-harness';
import { waitFor } from '../../../support/agent/lac';

describe('pool routes before the session is up (issue 18)', () => {
  test('PPP does not come up (nor the broker hear of forwarding) until the pool route is installed', async () => {
    const h = startHarness();
    let release!: () => void;
    h.link.gate = new Promise<void>((resolve) => (release = resolve));
    const lac = h.client('198.51.100.7');
    const pending = h.connect(lac, 100);
    await waitFor(() => h.broker.starts.length === 1, 'session started at the broker');
    await h.tick(200);
    const session = h.agent.sessions()[0]!;
    assert.equal(session.forwarding, false, 'not forwarding while the route is missing');
    assert.equal(h.link.configured.length, 0);
    release();
    const { call } = await pending;
    assert.equal(call.up?.address, '10.8.0.10');
    assert.deepEqual(h.link.configured.at(-1)?.routes, ['10.8.0.0/24'], 'the route was there before the link came up');
    assert.equal(session.forwarding, true);
    await h.agent.shutdown();
  });

  test('the second session of the pool does not wait; a failed install refuses the session and the next one retries', async () => {
    const h = startHarness();
    h.link.failNext = true;
    const first = await h.connect(h.client('198.51.100.7'), 100);
    assert.equal(first.call.up, undefined, 'refused: its packets could not flow');
    await waitFor(() => h.broker.stops().length === 1, 'stop reported (the lease is freed)');
    const second = await h.connect(h.client('198.51.100.8'), 101, { user: 'bob@acme' });
    assert.ok(second.call.up?.address, 'the next session installs the route and comes up');
    const third = await h.connect(h.client('198.51.100.9'), 102, { user: 'carol@acme' });
    assert.ok(third.call.up?.address);
    assert.equal(h.link.configured.length, 1, 'installed once for the pool');
    await h.agent.shutdown();
  });
});
