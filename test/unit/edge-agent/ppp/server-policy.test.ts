/** The server engine driven with hand-built client frames: what it answers, byte for byte. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createPppServerSession,
  decodeChapPacket,
  decodeControlPacket,
  isPppDecodeError,
  PPP_PROTOCOL,
  type PppAction,
  type PppServerEvent,
  type PppServerState,
} from '../../../../edge-agent/src/ppp';
import { fakeRandom } from '../../../support/ppp/link-harness';
import { hex, toHex } from '../../../support/ppp/hex';

const LCP = PPP_PROTOCOL.LCP;
const IPCP = PPP_PROTOCOL.IPCP;

function driver(authMethods: ('mschapv2' | 'chap-md5' | 'pap')[] = ['mschapv2', 'chap-md5', 'pap']) {
  const engine = createPppServerSession({ authMethods, random: fakeRandom(7) });
  const first = engine.start();
  let state: PppServerState = first.state;
  const sent = (actions: readonly PppAction[], protocol?: number) =>
    actions.filter((a): a is Extract<PppAction, { kind: 'send-frame' }> => a.kind === 'send-frame' && (protocol === undefined || a.protocol === protocol));
  return {
    first,
    get state() {
      return state;
    },
    step(e: PppServerEvent) {
      const r = engine.step(state, e);
      state = r.state;
      return r.actions;
    },
    frame(protocol: number, bytes: string) {
      return this.step({ kind: 'frame', protocol, payload: hex(bytes) });
    },
    sent,
    ourRequest(): { identifier: number; data: Uint8Array } {
      const req = sent(first.actions, LCP)[0]!;
      const p = decodeControlPacket(req.payload);
      assert.ok(!isPppDecodeError(p));
      return p;
    },
  };
}

/** Opens LCP: client acks our request and sends a plain request we ack. Returns the actions of the last step. */
function openLcp(d: ReturnType<typeof driver>) {
  const ours = d.ourRequest();
  d.frame(LCP, toHex(Uint8Array.of(2, ours.identifier, 0, 4 + ours.data.length, ...ours.data)));
  return d.frame(LCP, '01 01 000e 0104 0578 0506 1a2b3c4d');
}

describe('server LCP policy', () => {
  test('first Configure-Request: MRU 1400, Auth-Protocol MS-CHAPv2, Magic; restart timer set', () => {
    const d = driver();
    const req = d.ourRequest();
    assert.equal(toHex(req.data).slice(0, 18), '0104057803' + '05c22381');
    assert.equal(req.data[9], 5, 'magic option follows');
    assert.ok(d.first.actions.some((a) => a.kind === 'set-timer' && a.timer === 'lcp' && a.ms === 3000));
  });

  test('Windows ConfReq: Callback (13) rejected alone; then the same minus callback is acked byte for byte', () => {
    const d = driver();
    const rej = d.sent(d.frame(LCP, '01 01 0015 0104 0578 0506 1a2b3c4d 0702 0802 0d03 06'), LCP);
    assert.deepEqual(rej.map((a) => toHex(a.payload)), ['040100070d0306']);
    const ack = d.sent(d.frame(LCP, '01 02 0012 0104 0578 0506 1a2b3c4d 0702 0802'), LCP);
    assert.deepEqual(ack.map((a) => toHex(a.payload)), ['020200120104057805061a2b3c4d07020802']);
  });

  test('MRU below 576 is Nak-ed with 576; ACCM accepted', () => {
    const d = driver();
    const nak = d.sent(d.frame(LCP, '01 01 000e 0104 01f4 0206 00000000'), LCP);
    assert.deepEqual(nak.map((a) => toHex(a.payload)), ['030100080104' + '0240']);
  });

  test('peer Auth-Protocol option is rejected (the agent does not authenticate itself)', () => {
    const d = driver();
    const out = d.sent(d.frame(LCP, '01 01 0008 0304 c023'), LCP);
    assert.deepEqual(out.map((a) => toHex(a.payload)), ['040100080304c023']);
  });

  test('looped-back magic: Nak with a different magic, and we pick a new one', () => {
    const d = driver();
    const ours = d.ourRequest();
    const magicHex = toHex(ours.data.subarray(11, 15));
    const out = d.sent(d.frame(LCP, `01 01 000a 0506 ${magicHex}`), LCP);
    const p = decodeControlPacket(out[0]!.payload);
    assert.ok(!isPppDecodeError(p));
    assert.equal(p.code, 3);
    assert.notEqual(toHex(p.data.subarray(2)), magicHex);
    assert.notEqual(d.state.lcp.policy.magic, Number.parseInt(magicHex, 16));
  });

  test('client Naks MS-CHAPv2 suggesting PAP: next request offers PAP; Nak with EAP: next allowed (CHAP-MD5)', () => {
    let d = driver();
    let id = d.ourRequest().identifier;
    let out = d.sent(d.frame(LCP, `03 ${id.toString(16).padStart(2, '0')} 0008 0304 c023`), LCP);
    assert.ok(toHex(out[0]!.payload).includes('0304c023'));
    assert.ok(!toHex(out[0]!.payload).includes('c22381'));
    d = driver();
    id = d.ourRequest().identifier;
    out = d.sent(d.frame(LCP, `03 ${id.toString(16).padStart(2, '0')} 0008 0304 c227`), LCP);
    assert.ok(toHex(out[0]!.payload).includes('0305c22305'));
  });

  test('Nak or Reject for a stale identifier is ignored', () => {
    const d = driver();
    assert.deepEqual(d.frame(LCP, '03 77 0008 0304 c023'), []);
  });

  test('unknown LCP code (12, Identification) is Code-Rejected; malformed packets dropped', () => {
    const d = driver();
    const out = d.sent(d.frame(LCP, '0c 05 000a 00000000 4d53'), LCP);
    assert.equal(toHex(out[0]!.payload).slice(0, 2), '07');
    assert.ok(toHex(out[0]!.payload).endsWith('0c05000a000000004d53'));
    assert.deepEqual(d.frame(LCP, '01 01 00ff'), []);
    assert.deepEqual(d.frame(LCP, '01 01 0006 0100'), []);
  });

  test('Echo-Request before LCP is opened is not answered (RFC 1661 §5.8: only in Opened)', () => {
    const d = driver();
    assert.deepEqual(d.sent(d.frame(LCP, '09 21 000a 1a2b3c4d abcd'), LCP), []);
  });

  test('after open: CHAP challenge, Echo-Request answered with our magic, CCP and IPV6CP Protocol-Rejected', () => {
    const d = driver();
    const acts = openLcp(d);
    const chap = d.sent(acts, PPP_PROTOCOL.CHAP)[0];
    const c = decodeChapPacket(chap!.payload);
    assert.ok(!isPppDecodeError(c) && c.kind === 'challenge');
    assert.equal(c.value.length, 16);
    assert.equal(c.name, 'tunnel-broker');
    const magic = toHex(d.ourRequest().data.subarray(11, 15));
    const echo = d.sent(d.frame(LCP, '09 21 000a 1a2b3c4d abcd'), LCP);
    assert.deepEqual(echo.map((a) => toHex(a.payload)), [`0a21000a${magic}abcd`]);
    const pr = d.sent(d.frame(PPP_PROTOCOL.CCP, '01 01 000a 1206 00000001'), LCP);
    assert.match(toHex(pr[0]!.payload), /^08[0-9a-f]{2}001080fd0101000a120600000001$/);
    const pr6 = d.sent(d.frame(PPP_PROTOCOL.IPV6CP, '01 01 000e 010a 0011223344556677'), LCP);
    assert.ok(toHex(pr6[0]!.payload).includes('8057'));
  });
});

describe('server authentication and IPCP', () => {
  function toNetwork(method: 'mschapv2' | 'chap-md5') {
    const d = driver([method]);
    const chap = decodeChapPacket(d.sent(openLcp(d), PPP_PROTOCOL.CHAP)[0]!.payload);
    assert.ok(!isPppDecodeError(chap) && chap.kind === 'challenge');
    return { d, id: chap.identifier, challenge: 'value' in chap ? chap.value : new Uint8Array() };
  }

  test('MS-CHAPv2 response → verify-credentials material; success → "S=… M=…" then request-address', () => {
    const { d, id, challenge } = toNetwork('mschapv2');
    const peer = '11'.repeat(16);
    const nt = '22'.repeat(24);
    const idh = id.toString(16).padStart(2, '0');
    const acts = d.frame(PPP_PROTOCOL.CHAP, `02 ${idh} 003f 31 ${peer} ${'00'.repeat(8)} ${nt} 00 ${toHex(Buffer.from('DOM\\alice'))}`);
    const v = acts.find((a) => a.kind === 'verify-credentials');
    assert.ok(v && v.kind === 'verify-credentials' && v.material.method === 'mschapv2');
    assert.equal(v.username, 'DOM\\alice');
    assert.equal(toHex(v.material.authenticatorChallenge), toHex(challenge));
    assert.equal(toHex(v.material.peerChallenge), peer);
    assert.equal(toHex(v.material.ntResponse), nt);
    const auth = 'S=' + 'AB'.repeat(20);
    const principal = { tenantId: 't1', username: 'alice', grant: 'g-1' };
    const out = d.step({ kind: 'auth-result', ok: true, authenticatorResponse: auth, principal });
    const ok = decodeChapPacket(d.sent(out, PPP_PROTOCOL.CHAP)[0]!.payload);
    assert.deepEqual(ok, { kind: 'success', identifier: id, message: `${auth} M=Access granted` });
    // The verifier's principal rides on request-address, and the state keeps no copy of the grant.
    const request = out.find((a) => a.kind === 'request-address');
    assert.deepEqual(request, { kind: 'request-address', username: 'DOM\\alice', method: 'mschapv2', principal });
    assert.equal(d.state.principal, undefined);
  });

  test('MS-CHAPv2 failure → "E=691 R=0 C=<32 hex> V=3 M=…", Terminate-Request, then link-down auth-failure', () => {
    const { d, id } = toNetwork('mschapv2');
    const idh = id.toString(16).padStart(2, '0');
    d.frame(PPP_PROTOCOL.CHAP, `02 ${idh} 0036 31 ${'11'.repeat(49)} 61`);
    const out = d.step({ kind: 'auth-result', ok: false });
    const f = decodeChapPacket(d.sent(out, PPP_PROTOCOL.CHAP)[0]!.payload);
    assert.ok(!isPppDecodeError(f) && f.kind === 'failure');
    assert.match(f.message, /^E=691 R=0 C=[0-9A-F]{32} V=3 M=Authentication failed$/);
    assert.equal(d.sent(out, LCP)[0]!.payload[0], 5);
    const term = decodeControlPacket(d.sent(out, LCP)[0]!.payload);
    assert.ok(!isPppDecodeError(term));
    const end = d.frame(LCP, `06 ${term.identifier.toString(16).padStart(2, '0')} 0004`);
    assert.deepEqual(end.filter((a) => a.kind === 'link-down'), [{ kind: 'link-down', reason: 'auth-failure' }]);
  });

  test('IPCP: NBNS and VJ rejected first, then address/DNS Nak-ed to the broker values, then Ack and link-up', () => {
    const { d, id } = toNetwork('chap-md5');
    d.frame(PPP_PROTOCOL.CHAP, `02 ${id.toString(16).padStart(2, '0')} 0015 10 ${'33'.repeat(16)} 61`);
    d.step({ kind: 'auth-result', ok: true });
    // Windows' IPCP request arrives before the broker has answered: kept, answered once the address is known.
    const early = d.frame(IPCP, '01 01 0028 0206 002d0f01 0306 00000000 8106 00000000 8206 00000000 8306 00000000 8406 00000000');
    assert.deepEqual(early, []);
    const assigned = d.step({ kind: 'address-assigned', address: '10.8.0.10', dns: ['10.8.0.1', '9.9.9.9'], gateway: '10.8.0.1' });
    const ipcp = d.sent(assigned, IPCP).map((a) => toHex(a.payload));
    assert.equal(ipcp.length, 2);
    assert.match(ipcp[0]!, /^01..000a03060a080001$/);
    const rej = decodeControlPacket(hex(ipcp[1]!));
    assert.ok(!isPppDecodeError(rej));
    assert.deepEqual([rej.code, toHex(rej.data)], [4, '0206002d0f01' + '820600000000' + '840600000000']);
    const nak = d.sent(d.frame(IPCP, '01 02 0016 0306 00000000 8106 00000000 8306 00000000'), IPCP).map((a) => toHex(a.payload));
    assert.deepEqual(nak, ['03020016' + '03060a08000a' + '81060a080001' + '830609090909']);
    const ours = decodeControlPacket(hex(ipcp[0]!));
    assert.ok(!isPppDecodeError(ours));
    d.frame(IPCP, `02 ${ours.identifier.toString(16).padStart(2, '0')} 000a 0306 0a080001`);
    const ack = d.frame(IPCP, '01 03 0016 0306 0a08000a 8106 0a080001 8306 09090909');
    assert.deepEqual(d.sent(ack, IPCP).map((a) => toHex(a.payload)), ['02030016' + '03060a08000a' + '81060a080001' + '830609090909']);
    const up = ack.find((a) => a.kind === 'link-up');
    assert.ok(up && up.kind === 'link-up');
    assert.deepEqual([up.address, up.gateway, up.dns, up.authMethod], ['10.8.0.10', '10.8.0.1', ['10.8.0.1', '9.9.9.9'], 'chap-md5']);
  });

  test('admin close before auth completes: Terminate-Request, link-down admin-disconnect once', () => {
    const { d } = toNetwork('chap-md5');
    const out = d.step({ kind: 'close', reason: 'admin-disconnect' });
    assert.equal(d.sent(out, LCP)[0]!.payload[0], 5);
    let downs: PppAction[] = [];
    for (let i = 0; i < 3; i++) downs = downs.concat(d.step({ kind: 'timer', timer: 'lcp' }).filter((a) => a.kind === 'link-down'));
    assert.deepEqual(downs, [{ kind: 'link-down', reason: 'admin-disconnect' }]);
  });
});
