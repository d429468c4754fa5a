/**
 * Regression (found by test/integration/hostile/floods.test.ts): ICRQs never followed by ICCN held
 * the agent's capacity forever ("new session refused: agent at capacity" with 0 sessions). Now an
 * accepted call expires after callSetupTimeoutMs with a CDN (Result Code 10, RFC 2661 §4.4.2), and
 * one tunnel may hold at most maxPendingCallsPerTunnel of them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeControlMessage, encodePacket } from '../../../../edge-agent/src/l2tp';
import { startHarness, SERVER, waitFor } from '../../../support/agent/agent-harness';

async function bareIcrqs(h: ReturnType<typeof startHarness>, address: string, count: number) {
  const host = h.client(address);
  const lac = host.lac(77, (n) => new Uint8Array(n).fill(7));
  lac.open();
  await waitFor(() => lac.established, 'tunnel up');
  const { ns, nr } = lac.state.channel;
  for (let i = 0; i < count; i++) {
    const body = encodeControlMessage({ type: 'ICRQ', assignedSessionId: 500 + i, callSerialNumber: i });
    host.socket.send(encodePacket({ isControl: true, tunnelId: lac.state.peerTunnelId, sessionId: 0, ns: ns + i, nr }, body), SERVER.port, SERVER.address);
  }
  await h.tick(100, 10);
  return lac;
}

const count = (h: ReturnType<typeof startHarness>, msg: string) => h.logs.filter((l) => l.msg === msg).length;

test('calls left without ICCN expire and give the capacity back', async () => {
  const h = startHarness({ capacity: 10, callSetupTimeoutMs: 5000 });
  const attacker = await bareIcrqs(h, '198.51.100.66', 10);
  const refused = await h.connect(h.client('198.51.100.7'), 100);
  assert.equal(refused.call.cleared?.resultCode?.errorMessage, 'agent at capacity');
  await h.tick(5000, 100);
  assert.equal(count(h, 'call not connected (no ICCN) in time: cleared'), 10);
  const { call } = await h.connect(h.client('198.51.100.8'), 101);
  assert.ok(call.up, `still refused: ${JSON.stringify(call.cleared)}`);
  attacker.dispose();
});

test('one tunnel holds at most maxPendingCallsPerTunnel calls waiting for ICCN', async () => {
  const h = startHarness({ capacity: 100 });
  const attacker = await bareIcrqs(h, '198.51.100.66', 40);
  assert.equal(count(h, 'new session refused: agent busy: too many calls pending on this tunnel'), 8);
  const { call } = await h.connect(h.client('198.51.100.8'), 101);
  assert.ok(call.up);
  attacker.dispose();
});
