import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IpsecController, IpsecSettingsInput, PeerProtection, TerminateResult } from '../../../edge-agent/src/ipsec';
import { startHarness, waitFor } from './testing/agent-harness';

/** Records what the agent asks of strongSwan; `protectedPeers` holds "address:port" with an SA. */
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
  peerProtection(address: string, port: number): PeerProtection {
    return this.protectedPeers.has(`${address}:${port}`) ? 'protected' : 'unprotected';
  }
  async waitForProtection(address: string, port: number): Promise<PeerProtection> {
    return this.peerProtection(address, port);
  }
  async terminateForPeer(address: string, port: number): Promise<TerminateResult> {
    this.terminated.push(`${address}:${port}`);
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
  assert.deepEqual(ipsec.terminated, ['198.51.100.7:1701']);
  await h.agent.shutdown();
});
