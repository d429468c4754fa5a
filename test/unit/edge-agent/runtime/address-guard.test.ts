/**
 * The agent's own defences of its data plane (security review, issue 14), in-process on fakes. The broker refuses
 * these cases first; the fake broker here plays one that does not (an older broker, or pools created before the
 * checks existed), so what is left is the agent's word.
 *
 * - Finding 1: a second session given a live session's address is refused; the live one keeps its traffic (the
 *   agent used to end the older session and route its address to the newer one).
 * - Finding 2: no address or route over this host's networks or reserved space (169.254.169.254 once diverted the
 *   metadata service), and the host networks are reported at registration.
 * - Finding 9: 401 agent-revoked tears every session down, refuses new ones and stops the broker loop.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeIcmpEcho, ipv4Destination, parseIpv4 } from '../../../../edge-agent/src/datapath';
import { startHarness, waitFor, type Harness } from '../../../support/agent/agent-harness';
import type { TestCall } from '../../../support/agent/lac';

const ip = (text: string) => parseIpv4(text) as number;
const echo = (from: string, to: string) => encodeIcmpEcho({ source: ip(from), destination: ip(to), identifier: 7, sequence: 1, payload: Buffer.from('hi') });

const routed = (h: Harness) => h.link.configured.flatMap((s) => [...s.routes, ...s.addresses]);

/** The call ends without an address: the broker's session was reported stopped (reason error). */
async function refused(h: Harness, call: TestCall, sessionId: string) {
  await waitFor(() => call.cleared !== undefined, 'the refused call is cleared');
  assert.equal(call.up, undefined, `the call came up with ${call.up?.address}`);
  await waitFor(() => h.broker.stops().some((r) => r.sessionId === sessionId), 'stop reported for the refused start');
  assert.equal(h.broker.stops().find((r) => r.sessionId === sessionId)?.reason, 'error');
}

const refusalLogged = (h: Harness, text: RegExp) => h.logs.some((l) => typeof l.msg === 'string' && /address refused/.test(l.msg) && text.test(l.msg));

describe('agent address guard (issue 14)', () => {
  test('finding 1: a second session with a live session\'s address is refused; the victim keeps its address and traffic', async () => {
    const h = startHarness();
    const victimHost = h.client('198.51.100.7');
    const { call: victim } = await h.connect(victimHost, 100, { user: 'bob@acme' });
    assert.equal(victim.up?.address, '10.8.0.10');
    // The broker (legacy overlapping pools of two tenants) hands the same address to another user.
    h.broker.nextStarts.push({ address: '10.8.0.10' });
    const { call: attacker } = await h.connect(h.client('203.0.113.66'), 200, { user: 'mallory@acme' });
    await refused(h, attacker, 'sess-2');
    assert.ok(refusalLogged(h, /already the address of a live session/), JSON.stringify(h.logs.slice(-5)));
    assert.equal(h.agent.sessions().length, 1);
    const got = victim.received.length;
    h.kernel.inject(echo('10.8.0.1', '10.8.0.10'));
    await waitFor(() => victim.received.length > got, 'traffic for 10.8.0.10 still reaches the victim');
    assert.equal(ipv4Destination(victim.received.at(-1)!), ip('10.8.0.10'));
    assert.equal(attacker.received.length, 0);
    // Once the victim has gone, the address is free again.
    await h.agent.shutdown();
  });

  test('finding 2: an address in link-local space (169.254.169.254) gets no route on the TUN', async () => {
    const h = startHarness();
    h.broker.nextStarts.push({ address: '169.254.169.254', cidr: '169.254.0.0/16', gateway: '169.254.0.1' });
    const { call } = await h.connect(h.client('198.51.100.7'), 100);
    await refused(h, call, 'sess-1');
    assert.ok(refusalLogged(h, /169\.254\.0\.0\/16, link-local/), JSON.stringify(h.logs.slice(-5)));
    assert.deepEqual(routed(h), []);
    await h.agent.shutdown();
  });

  test('finding 2: a pool over this host\'s own networks gets no route, and the networks are reported at registration', async () => {
    const h = startHarness({ hostNetworks: ['10.8.0.0/16', '192.0.2.0/24'] });
    await waitFor(() => h.broker.registrations.length > 0, 'registration');
    assert.deepEqual((h.broker.registrations[0] as { networks?: string[] }).networks, ['10.8.0.0/16', '192.0.2.0/24']);
    const { call } = await h.connect(h.client('198.51.100.7'), 100);
    await refused(h, call, 'sess-1');
    assert.ok(refusalLogged(h, /overlaps 10\.8\.0\.0\/16, a network of this agent's host/), JSON.stringify(h.logs.slice(-5)));
    assert.deepEqual(routed(h), []);
    // A pool elsewhere is served.
    h.broker.nextStarts.push({ address: '10.99.0.5', cidr: '10.99.0.0/24', gateway: '10.99.0.1' });
    const { call: ok } = await h.connect(h.client('198.51.100.8'), 101);
    assert.equal(ok.up?.address, '10.99.0.5');
    await h.agent.shutdown();
  });

  test('finding 1: a client address that is another pool\'s gateway on this TUN is refused', async () => {
    const h = startHarness();
    const { call } = await h.connect(h.client('198.51.100.7'), 100);
    assert.ok(call.up);
    h.broker.nextStarts.push({ address: '10.8.0.1', cidr: '10.8.0.0/23', gateway: '10.8.1.1' });
    const { call: gatewayThief } = await h.connect(h.client('198.51.100.9'), 102);
    await refused(h, gatewayThief, 'sess-2');
    assert.ok(refusalLogged(h, /is a pool gateway on this agent/));
    await h.agent.shutdown();
  });

  test('finding 9: 401 agent-revoked ends every session (agent-revoked), refuses new calls and stops heartbeating', async () => {
    const h = startHarness();
    const { lac, call } = await h.connect(h.client('198.51.100.7'), 100);
    assert.ok(call.up);
    h.broker.revoked = true;
    await h.tick(1500, 100);
    await waitFor(() => call.cleared !== undefined, 'the session is torn down');
    assert.equal(h.agent.sessions().length, 0);
    assert.ok(h.agent.brokerLoop.revoked);
    assert.ok(h.logs.some((l) => l.msg === 'the broker revoked this agent: ending every session and taking no new ones'));
    const late = await h.call(lac, { user: 'bob@acme' });
    await waitFor(() => late.cleared !== undefined, 'a new call is refused');
    assert.equal(late.up, undefined);
    const beats = h.broker.heartbeats.length;
    await h.tick(5000, 500);
    assert.equal(h.broker.heartbeats.length, beats, 'no more heartbeats');
    await h.agent.shutdown();
  });
});
