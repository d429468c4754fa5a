/**
 * Clients behind one NAT on one L2TP port, told apart by their IPsec SA's packet mark (issue 16;
 * docs/ipsec.md "Several clients behind one NAT"). FakeUdpNetwork models each client's SA as a
 * mark: what a client sends arrives with it, and only a reply sent with it reaches that client.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeIcmpEcho, parseIpv4 } from '../../../../edge-agent/src/datapath';
import type { FakeDatagramSocket } from '../../../../edge-agent/src/io/fake-udp';
import { startHarness, waitFor, type Harness } from '../../../support/agent/agent-harness';
import type { TestCall } from '../../../support/agent/lac';

const NAT = '198.51.100.100';
const ip = (text: string) => parseIpv4(text) as number;
const echo = (from: string, to: string, sequence = 1) =>
  encodeIcmpEcho({ source: ip(from), destination: ip(to), identifier: 7, sequence, payload: Buffer.from('hello') });

/** One echo up (client -> TUN) and one down (TUN -> client). */
async function upAndDown(h: Harness, call: TestCall, sequence: number): Promise<void> {
  const address = call.up!.address;
  const written = h.kernel.written.length;
  call.sendIpv4(echo(address, '10.8.0.1', sequence));
  await waitFor(() => h.kernel.written.length > written, 'uplink packet on the TUN');
  const got = call.received.length;
  h.kernel.inject(echo('10.8.0.1', address, sequence));
  await waitFor(() => call.received.length > got, 'downlink packet at the client');
}

describe('tunnel lookup with IPsec SA marks', () => {
  test('two clients on one address and port, same Assigned Tunnel ID, different SA marks: two tunnels, each served through its own SA', async () => {
    const h = startHarness();
    const one = h.client(NAT, 1701, { mark: 1 });
    const two = h.client(NAT, 1701, { mark: 2 });
    // Both LACs pick Assigned Tunnel ID 100: without the mark in the key, the second SCCRQ would
    // be taken for a retransmission of the first.
    const a = await h.connect(one, 100, { user: 'alice@acme' });
    const b = await h.connect(two, 100, { user: 'bob@acme' });
    assert.ok(a.call.up && b.call.up, 'both calls up');
    assert.notEqual(a.call.up.address, b.call.up.address);
    assert.equal(h.agent.stats().tunnels, 2);
    const marks = h.agent.sessions().map((s) => `${s.peer.address}:${s.peer.port}#${s.peer.mark}`).sort();
    assert.deepEqual(marks, [`${NAT}:1701#1`, `${NAT}:1701#2`]);

    for (let i = 1; i <= 3; i++) {
      await upAndDown(h, a.call, i);
      await upAndDown(h, b.call, i);
    }
    // Each downlink reached only its own client: a reply with the other's mark would have landed there.
    assert.equal(a.call.received.length, 3);
    assert.equal(b.call.received.length, 3);
    assert.equal(h.net.undeliverable, 0);
    await h.agent.shutdown();
  });

  test('negative control: a socket without marks cannot serve them (replies match neither SA)', async () => {
    const h = startHarness({}, { socketMarks: false });
    const one = h.client(NAT, 1701, { mark: 1 });
    const lac = one.lac(100, (n) => new Uint8Array(n).fill(1));
    lac.open();
    await waitFor(() => h.net.undeliverable > 0, 'an unmarked SCCRP that reaches no SA');
    await h.tick(200);
    assert.equal(lac.established, false);
    lac.dispose();
    await h.agent.shutdown();
  });

  test('a new IKE_SA gives the client a new mark: the tunnel follows its latest datagram, and the other client keeps its own', async () => {
    const h = startHarness();
    const oneSocket = h.client(NAT, 1701, { mark: 1 });
    const a = await h.connect(oneSocket, 100, { user: 'alice@acme' });
    const b = await h.connect(h.client(NAT, 1701, { mark: 2 }), 200, { user: 'bob@acme' });
    await upAndDown(h, a.call, 1);

    // The client re-authenticates: its SA (and so its mark) is now 5. Until it sends through the
    // new SA, the agent answers with mark 1, which no longer reaches it.
    (oneSocket.socket as FakeDatagramSocket).setMark(5);
    const before = a.call.received.length;
    h.kernel.inject(echo('10.8.0.1', a.call.up!.address, 2));
    await waitFor(() => h.net.undeliverable === 1, 'the stale-mark reply lost');
    assert.equal(a.call.received.length, before);

    await upAndDown(h, a.call, 3);
    const session = h.agent.sessions().find((s) => s.address === ip(a.call.up!.address))!;
    assert.equal(session.peer.mark, 5);
    assert.ok(h.logs.some((l) => l.msg === 'tunnel follows a new IPsec SA mark' && l.previousMark === 1 && l.mark === 5));
    // The other client's tunnel and mark are untouched.
    await upAndDown(h, b.call, 1);
    assert.equal(h.agent.sessions().find((s) => s.address === ip(b.call.up!.address))!.peer.mark, 2);
    await h.agent.shutdown();
  });

  test('control messages move the mark too (HELLO after the rekey, before any data)', async () => {
    const h = startHarness({ helloIntervalMs: 1000 });
    const socket = h.client(NAT, 1701, { mark: 3 });
    const { lac, call } = await h.connect(socket, 100);
    (socket.socket as FakeDatagramSocket).setMark(7);
    lac.feed({ kind: 'timer', name: 'hello' }); // the LAC sends a HELLO through its new SA
    await waitFor(() => h.agent.sessions()[0]?.peer.mark === 7, 'mark followed from a control message');
    await upAndDown(h, call, 1);
    await h.agent.shutdown();
  });

  test('a datagram with a known tunnel and session but from another address or port is still dropped, whatever its mark', async () => {
    const h = startHarness();
    const { call } = await h.connect(h.client(NAT, 1701, { mark: 1 }), 100);
    const intruder = h.client(NAT, 40000, { mark: 1 });
    const before = h.kernel.written.length;
    const frame = Buffer.concat([Buffer.from([0xff, 0x03, 0x00, 0x21]), echo(call.up!.address, '10.8.0.1')]);
    const out = Buffer.alloc(6 + frame.length);
    out.writeUInt16BE(0x0002, 0);
    out.writeUInt16BE(call.peerTunnelId, 2);
    out.writeUInt16BE(call.peerSessionId, 4);
    frame.copy(out, 6);
    intruder.send(out);
    await h.tick(100);
    assert.equal(h.kernel.written.length, before);
    assert.equal(h.agent.stats().drops['no-route'], 1);
    assert.equal(h.agent.sessions()[0]!.peer.mark, 1);
    await h.agent.shutdown();
  });
});
