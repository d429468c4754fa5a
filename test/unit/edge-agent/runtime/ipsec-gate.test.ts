import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildSa, IpsecController, IpsecSettingsInput, PeerProtection, TerminateResult } from '../../../../edge-agent/src/ipsec';
import { encodeIcmpEcho, parseIpv4 } from '../../../../edge-agent/src/datapath';
import type { FakeDatagramSocket } from '../../../../edge-agent/src/io/fake-udp';
import { startHarness, waitFor } from '../../../support/agent/agent-harness';

/** Records what the agent asks of strongSwan; `protectedPeers` holds "address:port" (any mark) or "address:port#mark" with an SA. */
class FakeIpsec implements IpsecController {
  readonly protectedPeers = new Set<string>();
  readonly applied: IpsecSettingsInput[] = [];
  readonly terminated: string[] = [];
  closed = false;
  async apply(settings: IpsecSettingsInput) {
    this.applied.push(settings);
  }
  onSaEvent() {
    return () => {};
  }
  peerProtection(address: string, port: number, mark = 0): PeerProtection {
    return this.protectedPeers.has(`${address}:${port}`) || this.protectedPeers.has(`${address}:${port}#${mark}`) ? 'protected' : 'unprotected';
  }
  async waitForProtection(address: string, port: number, _timeoutMs: number, mark = 0): Promise<PeerProtection> {
    return this.peerProtection(address, port, mark);
  }
  saForPeer(address: string, port: number, mark = 0): ChildSa | undefined {
    if (mark === 0 || !this.protectedPeers.has(`${address}:${port}#${mark}`)) return undefined;
    return { ikeName: 'l2tp-psk', ikeId: `${10 + mark}`, childId: `${20 + mark}`, childName: 'l2tp', remoteHost: address, remoteIkePort: 4500 + mark, encap: true, markIn: mark, markOut: mark, remoteTs: [] };
  }
  async terminateForPeer(address: string, port: number, mark = 0): Promise<TerminateResult> {
    this.terminated.push(`${address}:${port}#${mark}`);
    return { outcome: 'terminated', ikeIds: ['1'] };
  }
  status() {
    return { connected: true, synced: true, uniqueMarks: false, appliedRevision: undefined, childSas: this.protectedPeers.size } as ReturnType<IpsecController['status']>;
  }
  async close() {
    this.closed = true;
  }
}

test('with IPsec required, L2TP from a peer without an SA is refused and one with an SA is served', async () => {
  const ipsec = new FakeIpsec();
  const h = startHarness({ requireIpsec: true, ipsecWaitMs: 10 }, { ipsec });
  ipsec.protectedPeers.add('198.51.100.7:1701');

  const plain = h.client('203.0.113.9').lac(200, (n) => new Uint8Array(n));
  plain.open();
  await waitFor(() => h.logs.some((l) => l.msg === 'L2TP outside IPsec refused'), 'refusal logged');
  assert.equal(plain.established, false);
  assert.equal(h.agent.stats().tunnels, 0);

  const { call } = await h.connect(h.client('198.51.100.7'), 100);
  assert.equal(call.up?.address, '10.8.0.10');
  await h.agent.shutdown();
  assert.equal(ipsec.closed, true, 'shutdown closes the VICI connection');
});

test('settings reach strongSwan at registration and again when the broker bumps the revision', async () => {
  const ipsec = new FakeIpsec();
  const h = startHarness({}, { ipsec });
  await waitFor(() => ipsec.applied.length === 1, 'settings applied at registration');
  assert.equal(ipsec.applied[0]?.ipsec, null, 'no PSK configured yet');

  h.broker.ipsec = { psk: 'fleet-psk-0123456789', allowLegacyProposals: false };
  h.broker.revision = 1;
  await h.tick(1100); // one heartbeat shows the new revision
  await waitFor(() => ipsec.applied.length === 2, 'settings re-applied');
  assert.deepEqual(ipsec.applied[1], { revision: 1, heartbeatIntervalSeconds: 1, ipsec: { psk: 'fleet-psk-0123456789', allowLegacyProposals: false } });
  await h.tick(2100);
  assert.equal(ipsec.applied.length, 2, 'an unchanged revision is not re-applied');
  await h.agent.shutdown();
});

test('an operator disconnect also clears the client\'s IPsec SA', async () => {
  const ipsec = new FakeIpsec();
  ipsec.protectedPeers.add('198.51.100.7:1701');
  const h = startHarness({ requireIpsec: true }, { ipsec });
  const { call } = await h.connect(h.client('198.51.100.7'), 100);
  h.broker.commands.push({ commandId: 'cmd-1', type: 'disconnect-session', sessionId: 'sess-1', createdAt: new Date().toISOString() });
  h.timers.advance(1);
  await waitFor(() => call.cleared !== undefined, 'CDN after the command');
  assert.deepEqual(ipsec.terminated, [], 'the SA stays until the CDN has left');
  await h.tick(1100);
  await waitFor(() => ipsec.terminated.length === 1, 'SA terminated');
  assert.deepEqual(ipsec.terminated, ['198.51.100.7:1701#0']);
  await h.agent.shutdown();
});

test('behind one NAT on one port, the SA is known by its mark: only the marked datagram is let in, and a disconnect clears that SA only', async () => {
  const ipsec = new FakeIpsec();
  ipsec.protectedPeers.add('198.51.100.100:1701#1');
  ipsec.protectedPeers.add('198.51.100.100:1701#2');
  const h = startHarness({ requireIpsec: true, ipsecWaitMs: 10 }, { ipsec });
  const plain = h.client('198.51.100.100', 1701, { mark: 9 }).lac(300, (n) => new Uint8Array(n));
  plain.open();
  await waitFor(() => h.logs.some((l) => l.msg === 'L2TP outside IPsec refused' && l.mark === 9), 'a mark of no SA refused');
  const a = await h.connect(h.client('198.51.100.100', 1701, { mark: 1 }), 100, { user: 'alice@acme' });
  const b = await h.connect(h.client('198.51.100.100', 1701, { mark: 2 }), 100, { user: 'bob@acme' });
  assert.ok(a.call.up && b.call.up);
  // The broker records which SA carried each session.
  assert.deepEqual(
    h.broker.starts.map((s) => s.ipsecSa),
    [
      { ikeSaId: '11', childSaId: '21', mark: 1, ikePeer: '198.51.100.100:4501' },
      { ikeSaId: '12', childSaId: '22', mark: 2, ikePeer: '198.51.100.100:4502' },
    ],
  );
  const second = h.agent.sessions().find((s) => s.peer.mark === 2)!;
  h.broker.commands.push({ commandId: 'cmd-2', type: 'disconnect-session', sessionId: second.brokerSessionId!, createdAt: new Date().toISOString() });
  h.timers.advance(1);
  await waitFor(() => b.call.cleared !== undefined, 'CDN to the second client');
  await h.tick(1100);
  await waitFor(() => ipsec.terminated.length === 1, 'SA terminated');
  assert.deepEqual(ipsec.terminated, ['198.51.100.100:1701#2']);
  assert.equal(a.call.cleared, undefined, 'the first client keeps its call');
  plain.dispose();
  await h.agent.shutdown();
});

test('with IPsec required, a tunnel that came through a marked SA takes no unmarked datagram (it bypassed IPsec), but follows a new SA', async () => {
  const ipsec = new FakeIpsec();
  ipsec.protectedPeers.add('198.51.100.100:1701#1');
  const h = startHarness({ requireIpsec: true, helloIntervalMs: 1000 }, { ipsec });
  const host = h.client('198.51.100.100', 1701, { mark: 1 });
  const { lac, call } = await h.connect(host, 100);
  const socket = host.socket as FakeDatagramSocket;
  const address = call.up!.address;
  const echo = () => encodeIcmpEcho({ source: parseIpv4(address)!, destination: parseIpv4('10.8.0.1')!, identifier: 1, sequence: 1, payload: Buffer.from('x') });

  socket.setMark(0); // the client's SAs are gone and it sends in plaintext from the same address and port
  const written = h.kernel.written.length;
  call.sendIpv4(echo());
  lac.feed({ kind: 'timer', name: 'hello' });
  await waitFor(() => h.agent.stats().drops.unprotected === 1 && h.agent.stats().controlDrops.unprotected === 1, 'plaintext data and control dropped');
  assert.equal(h.kernel.written.length, written);
  assert.equal(h.agent.sessions()[0]!.peer.mark, 1, 'the tunnel keeps its SA');

  socket.setMark(5); // a new SA (new IKE_SA): taken, and followed
  call.sendIpv4(echo());
  await waitFor(() => h.kernel.written.length === written + 1, 'data through the new SA on the TUN');
  assert.equal(h.agent.sessions()[0]!.peer.mark, 5);
  await h.agent.shutdown();
  lac.dispose();
});
