import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { encodeIcmpEcho, parseIpv4, ipv4Source, ipv4Destination } from '../../../../edge-agent/src/datapath';
import { createTunnel, stepTunnel } from '../../../../edge-agent/src/l2tp';
import { BrokerRejectedError } from '../../../../edge-agent/src/broker/http-transport';
import { startHarness, waitFor, type Harness } from '../../../support/agent/agent-harness';
import type { TestCall } from '../../../support/agent/lac';

const ip = (text: string) => parseIpv4(text) as number;
const echo = (from: string, to: string, sequence = 1) =>
  encodeIcmpEcho({ source: ip(from), destination: ip(to), identifier: 7, sequence, payload: Buffer.from('hello') });

/** Client -> TUN and TUN -> client with one echo each; returns the packets the kernel saw. */
async function exchange(h: Harness, call: TestCall, sequence = 1): Promise<void> {
  const address = call.up?.address as string;
  const before = h.kernel.written.length;
  call.sendIpv4(echo(address, '10.8.0.1', sequence));
  await waitFor(() => h.kernel.written.length > before, 'packet on the TUN');
  const got = call.received.length;
  h.kernel.inject(echo('10.8.0.1', address, sequence));
  await waitFor(() => call.received.length > got, 'packet at the client');
}

describe('edge agent runtime (in-process, fakes)', () => {
  for (const method of ['mschapv2', 'chap-md5', 'pap'] as const) {
    test(`${method}: tunnel, session and PPP up with the broker's address and pool route`, async () => {
      const h = startHarness();
      const { call } = await h.connect(h.client('198.51.100.7'), 100, { methods: [method] });
      assert.equal(call.up?.address, '10.8.0.10');
      assert.equal(call.up?.authMethod, method);
      assert.equal(h.broker.starts.length, 1);
      const start = h.broker.starts[0]!;
      // The authentication names the session (its grant is good for that start only) and the client's address.
      assert.deepEqual(h.broker.authentications, [{ method, username: 'alice@acme', agentSessionRef: start.agentSessionRef, peerAddress: '198.51.100.7' }]);
      assert.equal(start.grant, 'grant-1-alice', 'the start carries the grant of its own authentication');
      assert.equal(start.tenantId, 'acme');
      assert.equal(start.username, 'alice');
      assert.equal(start.authMethod, method);
      assert.equal(start.peerAddress, '198.51.100.7');
      assert.match(start.agentSessionRef, /^[0-9a-f-]{36}$/);
      const session = h.agent.sessions()[0]!;
      assert.equal(session.brokerSessionId, 'sess-1');
      await waitFor(() => h.link.configured.length > 0, 'route installed');
      assert.deepEqual(h.link.configured.at(-1)?.routes, ['10.8.0.0/24']);
      assert.deepEqual(h.link.configured.at(-1)?.addresses, ['10.8.0.1/32']);
      await h.agent.shutdown();
    });
  }

  test('IPv4 both ways through the TUN, with counters; compressed PPP headers accepted', async () => {
    const h = startHarness();
    const { call } = await h.connect(h.client('198.51.100.7'), 100);
    await exchange(h, call);
    const toKernel = h.kernel.written.at(-1)!;
    assert.equal(ipv4Source(toKernel), ip('10.8.0.10'));
    assert.equal(ipv4Destination(toKernel), ip('10.8.0.1'));
    const atClient = call.received.at(-1)!;
    assert.equal(ipv4Destination(atClient), ip('10.8.0.10'));
    // ACFC + PFC form (RFC 1661 §6.5/6.6): accepted whatever was negotiated.
    const before = h.kernel.written.length;
    call.sendIpv4(echo('10.8.0.10', '10.8.0.1', 2), true);
    await waitFor(() => h.kernel.written.length > before, 'compressed packet on the TUN');
    const session = h.agent.sessions()[0]!;
    const c = h.agent.countersOf(session);
    assert.equal(c.packetsIn, 2);
    assert.equal(c.packetsOut, 1);
    assert.equal(c.bytesIn, 2 * toKernel.length);
    assert.equal(c.bytesOut, atClient.length);
    await h.agent.shutdown();
  });

  test('anti-spoofing: a packet from another source address is dropped and counted', async () => {
    const h = startHarness();
    const { call } = await h.connect(h.client('198.51.100.7'), 100);
    const before = h.kernel.written.length;
    call.sendIpv4(echo('10.8.0.99', '10.8.0.1'));
    call.sendIpv4(echo('10.8.0.10', '10.8.0.1', 2)); // a good one after it, to know the first was processed
    await waitFor(() => h.kernel.written.length > before, 'good packet');
    assert.equal(h.kernel.written.length, before + 1);
    assert.equal(ipv4Source(h.kernel.written.at(-1)!), ip('10.8.0.10'));
    assert.equal(h.agent.stats().drops['spoofed-source'], 1);
    assert.equal(h.agent.countersOf(h.agent.sessions()[0]!).packetsIn, 1);
    await h.agent.shutdown();
  });

  test('authentication failure: CDN with reason auth-failure, no broker session', async () => {
    const h = startHarness();
    const { call } = await h.connect(h.client('198.51.100.7'), 100, { password: 'wrong', methods: ['pap'] });
    await waitFor(() => call.cleared !== undefined, 'CDN');
    assert.equal(call.up, undefined);
    assert.equal(call.cleared?.resultCode?.errorMessage, 'auth-failure');
    assert.equal(h.broker.starts.length, 0);
    assert.equal(h.agent.sessions().length, 0);
    await h.agent.shutdown();
  });

  test('pool exhausted: CDN with reason pool-exhausted, client link down', async () => {
    const h = startHarness();
    h.broker.startRefusal = new BrokerRejectedError(503, 'pool-exhausted', 'no free address');
    const { call } = await h.connect(h.client('198.51.100.7'), 100);
    await waitFor(() => call.cleared !== undefined, 'CDN');
    assert.equal(call.up, undefined);
    assert.equal(call.cleared?.resultCode?.errorMessage, 'pool-exhausted');
    assert.equal(call.cleared?.resultCode?.resultCode, 4);
    assert.equal(h.agent.sessions().length, 0);
    await h.agent.shutdown();
  });

  test('disconnect-session command: LCP Terminate + CDN, stop reported as admin-disconnect, command acked', async () => {
    const h = startHarness();
    const { call } = await h.connect(h.client('198.51.100.7'), 100);
    h.broker.commands.push({ commandId: 'cmd-1', type: 'disconnect-session', sessionId: 'sess-1', createdAt: new Date().toISOString() });
    h.timers.advance(1); // first heartbeat
    await waitFor(() => call.cleared !== undefined, 'CDN after the command');
    assert.ok(call.down !== undefined, 'client saw its PPP link go down');
    assert.ok(call.pppLog.some((a) => a.kind === 'send-frame' && a.protocol === 0xc021 && a.payload[0] === 6), 'client acked an LCP Terminate-Request');
    assert.equal(call.cleared?.reason, 'peer-disconnected');
    assert.equal(call.cleared?.resultCode?.errorMessage, 'admin-disconnect');
    await waitFor(() => h.broker.stops().length === 1, 'stop report');
    assert.equal(h.broker.stops()[0]?.reason, 'admin-disconnect');
    assert.equal(h.broker.stops()[0]?.sessionId, 'sess-1');
    h.timers.advance(1000); // next heartbeat carries the ack
    await waitFor(() => h.broker.heartbeats.length >= 2, 'second heartbeat');
    assert.deepEqual(h.broker.heartbeats[1]?.ackCommandIds, ['cmd-1']);
    assert.equal(h.broker.commands.length, 0);
    await h.agent.shutdown();
  });

  test('broker down: the established session keeps forwarding, a new one is refused with a clear log line, stops queue', async () => {
    const h = startHarness();
    const host = h.client('198.51.100.7');
    const { lac, call } = await h.connect(host, 100);
    h.broker.available = false;
    await exchange(h, call, 5);
    const second = await h.call(lac);
    await waitFor(() => second.cleared !== undefined, 'refused call cleared');
    assert.equal(second.up, undefined);
    assert.ok(h.logs.some((l) => l.msg === 'broker unreachable: refusing new session'));
    call.hangUp();
    await waitFor(() => h.agent.sessions().length === 0, 'session ended');
    assert.equal(h.broker.stops().length, 0);
    assert.equal(h.broker.queued.filter((r) => r.kind === 'stop').length, 1);
    h.broker.available = true;
    h.timers.advance(1); // heartbeat succeeds, outbox flushed
    await waitFor(() => h.broker.stops().length === 1, 'queued stop delivered');
    assert.equal(h.broker.stops()[0]?.reason, 'user-request');
    await h.agent.shutdown();
  });

  test('two clients behind one NAT (same address and port, different tunnel ids) each get their session', async () => {
    const h = startHarness();
    const nat = h.client('203.0.113.9', 1701);
    const a = await h.connect(nat, 100, { user: 'alice@acme' });
    const b = await h.connect(nat, 101, { user: 'bob@acme' });
    assert.ok(a.call.up && b.call.up);
    assert.notEqual(a.call.up.address, b.call.up.address);
    assert.equal(h.agent.stats().tunnels, 2);
    await exchange(h, a.call, 1);
    await exchange(h, b.call, 2);
    assert.equal(a.call.received.length, 1);
    assert.equal(b.call.received.length, 1);
    assert.equal(ipv4Destination(b.call.received[0]!), ip(b.call.up.address));
    await h.agent.shutdown();
  });

  test('malformed datagrams and an SCCRQ flood do not disturb an established session', async () => {
    const h = startHarness();
    const { lac, call } = await h.connect(h.client('198.51.100.7'), 100);
    const attacker = h.net.bind('192.0.2.66', 1701);
    const junk = [
      Buffer.alloc(0),
      Buffer.from([0xc8]),
      Buffer.from([0xc8, 0x02, 0x00, 0x40, 0x00, 0x00]),
      Buffer.from([0x00, 0x02, 0x12, 0x34, 0x00, 0x01, 0xff, 0x03, 0x00, 0x21]), // data for an unknown tunnel
      Buffer.from([0x00, 0x07, 0x00, 0x00, 0x00, 0x00]), // bad version
      Buffer.from('GET / HTTP/1.1\r\n\r\n'),
    ];
    for (const j of junk) attacker.send(j, 1701, '192.0.2.1');
    // Data for the real session from the wrong address: must not be accepted.
    const stolen = Buffer.alloc(6 + 4 + 40);
    stolen.set([0x00, 0x02, lac.state.peerTunnelId >> 8, lac.state.peerTunnelId & 0xff, call.peerSessionId >> 8, call.peerSessionId & 0xff]);
    attacker.send(stolen, 1701, '192.0.2.1');
    // The flood: a fresh SCCRQ (new Assigned Tunnel ID each) from one address, never completed.
    const flood = h.net.bind('192.0.2.77', 1701);
    for (let i = 0; i < 300; i++) {
      const { actions } = stepTunnel(createTunnel({ role: 'lac', localTunnelId: 1000 + i, hostName: 'flood' }), { kind: 'open' });
      for (const a of actions) if (a.kind === 'transmit') flood.send(a.bytes, 1701, '192.0.2.1');
    }
    await waitFor(() => h.agent.stats().controlDrops.rate >= 250, 'flood rate-limited');
    const stats = h.agent.stats();
    assert.ok(stats.malformed >= 4, `malformed ${stats.malformed}`);
    assert.ok(stats.tunnels <= 1 + 20, `tunnels ${stats.tunnels}`);
    await exchange(h, call, 9);
    // Half-open tunnels expire.
    await h.tick(31_000, 250);
    await waitFor(() => h.agent.stats().tunnels === 1, 'half-open tunnels gone');
    await exchange(h, call, 10);
    assert.equal(h.agent.sessions().length, 1);
    await h.agent.shutdown();
  });

  test('capacity: a call beyond capacity is refused with a CDN', async () => {
    const h = startHarness({ capacity: 1 });
    const { lac } = await h.connect(h.client('198.51.100.7'), 100);
    const second = await h.call(lac, { user: 'bob@acme' });
    await waitFor(() => second.cleared !== undefined, 'CDN');
    assert.equal(second.cleared?.resultCode?.resultCode, 4);
    assert.equal(h.agent.sessions().length, 1);
    await h.agent.shutdown();
  });

  test('drain command: new sessions refused, existing kept', async () => {
    const h = startHarness();
    const { lac } = await h.connect(h.client('198.51.100.7'), 100);
    h.broker.commands.push({ commandId: 'd1', type: 'drain', deadline: new Date().toISOString(), createdAt: new Date().toISOString() });
    h.timers.advance(1);
    await waitFor(() => h.agent.stats().draining, 'draining');
    const second = await h.call(lac, { user: 'bob@acme' });
    await waitFor(() => second.cleared !== undefined, 'CDN');
    assert.equal(h.agent.sessions().length, 1);
    await h.agent.shutdown();
  });

  test('session log lines carry the tunnel, call, user and broker session (one child made per line, none kept)', async () => {
    const h = startHarness();
    await h.connect(h.client('198.51.100.7'), 100);
    const session = h.agent.sessions()[0]!;
    const up = h.logs.find((l) => l.msg === 'session up');
    assert.ok(up, 'session up logged');
    assert.equal(up.tunnel, session.localTunnelId);
    assert.equal(up.peerTunnel, 100);
    assert.equal(up.peer, '198.51.100.7:1701');
    assert.equal(up.session, session.localSessionId);
    assert.equal(up.peerSession, session.peerSessionId);
    assert.equal(up.user, 'alice@acme');
    assert.equal(up.sessionId, 'sess-1');
    const tunnelUp = h.logs.find((l) => l.msg === 'tunnel established');
    assert.equal(tunnelUp?.peerTunnel, 100);
    assert.equal(tunnelUp?.peer, '198.51.100.7:1701');
    await h.agent.shutdown();
  });

  test('interim accounting is reported periodically', async () => {
    const h = startHarness({ interimIntervalMs: 10_000 });
    const { call } = await h.connect(h.client('198.51.100.7'), 100);
    await exchange(h, call);
    h.timers.advance(10_000);
    await waitFor(() => h.broker.delivered.some((r) => r.kind === 'interim'), 'interim report');
    const interim = h.broker.delivered.find((r) => r.kind === 'interim')!;
    assert.equal(interim.sessionId, 'sess-1');
    assert.equal(interim.counters.packetsIn, 1);
    assert.equal(interim.counters.packetsOut, 1);
    await h.agent.shutdown();
  });

  test('interim accounting skips a session whose counters did not move since its last report', async () => {
    const h = startHarness({ interimIntervalMs: 10_000 });
    const { call } = await h.connect(h.client('198.51.100.7'), 100);
    const interims = () => h.broker.delivered.filter((r) => r.kind === 'interim');
    // No data yet (keepalives are not counted): nothing to report.
    h.timers.advance(10_000);
    await h.agent.brokerLoop.heartbeat();
    assert.equal(interims().length, 0);
    await exchange(h, call);
    h.timers.advance(10_000);
    await waitFor(() => interims().length === 1, 'first interim');
    // Idle again for two periods: no repeat of the same counters.
    h.timers.advance(20_000);
    await h.agent.brokerLoop.heartbeat();
    assert.equal(interims().length, 1);
    await exchange(h, call);
    h.timers.advance(10_000);
    await waitFor(() => interims().length === 2, 'second interim');
    assert.equal(interims()[1]!.counters.packetsIn, 2);
    await h.agent.shutdown();
    assert.equal(h.broker.stops()[0]?.counters.packetsIn, 2, 'the stop report carries the final counters');
  });

  test('graceful shutdown: sessions end with agent-shutdown (LCP Terminate, CDN, StopCCN), routes removed, devices closed', async () => {
    const h = startHarness();
    const { lac, call } = await h.connect(h.client('198.51.100.7'), 100);
    await exchange(h, call);
    await h.agent.shutdown();
    assert.ok(call.pppLog.some((a) => a.kind === 'link-down'));
    assert.equal(call.cleared?.resultCode?.errorMessage, 'agent-shutdown');
    await waitFor(() => lac.closed, 'StopCCN at the LAC');
    assert.equal(h.broker.stops().length, 1);
    assert.equal(h.broker.stops()[0]?.reason, 'agent-shutdown');
    assert.equal(h.broker.stops()[0]?.counters.packetsIn, 1);
    assert.deepEqual(h.link.tornDown.at(-1)?.routes, ['10.8.0.0/24']);
    assert.ok(h.kernel.closed);
  });
});
