import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createTunnel,
  decodeControlMessage,
  decodePacket,
  encodePacket,
  isL2tpDecodeError,
  stepTunnel,
  type TunnelAction,
  type TunnelConfig,
  type TunnelState,
} from '../../../../edge-agent/src/l2tp/index';
import { ascii, avp, concat } from '../../../support/l2tp/bytes';
import { counterRandom } from '../../../support/l2tp/harness';

const mt = (n: number) => avp(0, n.toString(16).padStart(4, '0'));
const MS_CORRELATION = avp(1, '00112233445566778899aabbccddeeff', true, 311);

/** A scripted LAC talking raw bytes to a real LNS engine. */
class ScriptedLac {
  state: TunnelState;
  ns = 0;
  out: TunnelAction[] = [];
  constructor(config: Partial<TunnelConfig> = {}) {
    this.state = createTunnel({ role: 'lns', localTunnelId: 200, hostName: 'lns', random: counterRandom(), ...config });
  }
  send(body: Uint8Array, sessionId = 0, tunnelId = 200): TunnelAction[] {
    const bytes = encodePacket({ isControl: true, tunnelId, sessionId, ns: this.ns++, nr: 1 }, body);
    const r = stepTunnel(this.state, { kind: 'received', bytes });
    this.state = r.state;
    this.out.push(...r.actions);
    return r.actions;
  }
  sentTypes(actions: TunnelAction[]): string[] {
    return actions.flatMap((a) => {
      if (a.kind !== 'transmit') return [];
      const p = decodePacket(a.bytes);
      assert.ok(!isL2tpDecodeError(p));
      if (p.payload.length === 0) return ['ZLB'];
      const m = decodeControlMessage(p.payload);
      assert.ok(!isL2tpDecodeError(m));
      return [m.type];
    });
  }
}

/** Windows-like SCCRQ: no Host Name, Framing Capabilities 0, Microsoft vendor AVP with M set. */
const windowsSccrq = concat(mt(1), avp(2, '0100'), avp(3, '00000000'), avp(9, '0042'), avp(10, '0008'), MS_CORRELATION);

describe('LNS engine interop tolerance', () => {
  test('Windows-like SCCRQ (no Host Name, framing 0, vendor 311 AVP with M) is answered with SCCRP', () => {
    const lac = new ScriptedLac();
    const actions = lac.send(windowsSccrq, 0, 0);
    assert.deepEqual(lac.sentTypes(actions), ['SCCRP']);
    assert.equal(lac.state.peerTunnelId, 0x42);
    assert.ok(actions.some((a) => a.kind === 'warning' && /unknown mandatory/.test(a.message)));
    lac.send(mt(3));
    assert.equal(lac.state.phase, 'established');
  });

  test('with permissiveMandatoryAvps off the same SCCRQ is refused with StopCCN (general error, code 8)', () => {
    const lac = new ScriptedLac({ permissiveMandatoryAvps: false });
    const actions = lac.send(windowsSccrq, 0, 0);
    // The tunnel id is unknown because decoding failed: no StopCCN can be addressed, the engine just closes.
    const closed = actions.find((a) => a.kind === 'tunnel-closed');
    assert.ok(closed?.kind === 'tunnel-closed');
    assert.equal(closed.reason, 'protocol-error');
    assert.equal(closed.resultCode?.errorCode, 8);
  });

  test('unknown mandatory AVP in an established session clears only that session when not permissive', () => {
    const lac = new ScriptedLac({ permissiveMandatoryAvps: false });
    lac.send(concat(mt(1), avp(2, '0100'), avp(3, '00000001'), avp(7, '61'), avp(9, '0042')), 0, 0);
    lac.send(mt(3));
    const req = lac.send(concat(mt(10), avp(14, '0099'), avp(15, '00000001'))).find((a) => a.kind === 'session-requested');
    assert.ok(req?.kind === 'session-requested');
    lac.state = stepTunnel(lac.state, { kind: 'accept-session', localSessionId: req.localSessionId }).state;
    const actions = lac.send(concat(mt(12), avp(19, '00000001'), avp(24, '00000001'), avp(99, '00', true)), req.localSessionId);
    assert.deepEqual(lac.sentTypes(actions), ['CDN']);
    const closed = actions.find((a) => a.kind === 'session-closed');
    assert.equal(closed?.kind === 'session-closed' && closed.reason, 'protocol-error');
    assert.equal(lac.state.phase, 'established', 'tunnel survives');
  });

  test('Apple-like StopCCN with a byte-swapped result code closes the tunnel with the right code', () => {
    const lac = new ScriptedLac();
    lac.send(concat(mt(1), avp(2, '0100'), avp(3, '00000003'), avp(7, ascii('mac').reduce((s, b) => s + b.toString(16), '')), avp(9, '0042')), 0, 0);
    lac.send(mt(3));
    const actions = lac.send(concat(mt(4), avp(1, '0600'), avp(9, '0042')));
    const closed = actions.find((a) => a.kind === 'tunnel-closed');
    assert.ok(closed?.kind === 'tunnel-closed');
    assert.equal(closed.reason, 'peer-stopped');
    assert.equal(closed.resultCode?.resultCode, 6);
    assert.deepEqual(lac.sentTypes(actions), ['ZLB'], 'StopCCN acked at once');
    assert.equal(lac.state.phase, 'closed');
  });

  test('LAC challenge without a configured secret is refused (result 4)', () => {
    const lac = new ScriptedLac();
    const actions = lac.send(concat(mt(1), avp(2, '0100'), avp(3, '00000003'), avp(7, '61'), avp(9, '0042'), avp(11, '0102030405060708')), 0, 0);
    assert.deepEqual(lac.sentTypes(actions), ['StopCCN']);
    const closed = actions.find((a) => a.kind === 'tunnel-closed');
    assert.equal(closed?.kind === 'tunnel-closed' && closed.resultCode?.resultCode, 4);
  });

  test('protocol version other than 1 gets StopCCN result 5', () => {
    const lac = new ScriptedLac();
    const actions = lac.send(concat(mt(1), avp(2, '0200'), avp(3, '00000003'), avp(7, '61'), avp(9, '0042')), 0, 0);
    assert.deepEqual(lac.sentTypes(actions), ['StopCCN']);
    const closed = actions.find((a) => a.kind === 'tunnel-closed');
    assert.equal(closed?.kind === 'tunnel-closed' && closed.resultCode?.resultCode, 5);
  });

  test('garbage datagrams are dropped with a warning, state unchanged', () => {
    const lac = new ScriptedLac();
    const r = stepTunnel(lac.state, { kind: 'received', bytes: new Uint8Array([0xc8, 0x02, 0xff]) });
    assert.equal(r.state.phase, 'idle');
    assert.deepEqual(r.actions.map((a) => a.kind), ['warning']);
  });
});

describe('routeDatagram', () => {
  test('classifies new SCCRQs, existing tunnels, data and junk', async () => {
    const { routeDatagram } = await import('../../../../edge-agent/src/l2tp/index');
    const sccrq = encodePacket({ isControl: true, tunnelId: 0, sessionId: 0, ns: 0, nr: 0 }, windowsSccrq);
    assert.deepEqual(routeDatagram(sccrq), { kind: 'new-tunnel', peerAssignedTunnelId: 0x42 });
    const hello = encodePacket({ isControl: true, tunnelId: 200, sessionId: 0, ns: 1, nr: 1 }, mt(6));
    assert.deepEqual(routeDatagram(hello), { kind: 'tunnel', tunnelId: 200 });
    assert.deepEqual(routeDatagram(encodePacket({ isControl: false, tunnelId: 200, sessionId: 1 }, new Uint8Array([0xff, 0x03]))), { kind: 'data' });
    const zeroHello = encodePacket({ isControl: true, tunnelId: 0, sessionId: 0, ns: 1, nr: 1 }, mt(6));
    const r = routeDatagram(zeroHello);
    assert.ok(isL2tpDecodeError(r));
    assert.ok(isL2tpDecodeError(routeDatagram(new Uint8Array([1]))));
  });
});
