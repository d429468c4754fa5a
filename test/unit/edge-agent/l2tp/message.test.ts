import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  challengeResponse,
  decodeControlMessage,
  encodeControlMessage,
  isL2tpDecodeError,
  L2tpError,
  MESSAGE_RULES,
  verifyChallengeResponse,
  type ControlMessage,
} from '../../../../edge-agent/src/l2tp/index';
import { ascii, avp, concat, hex, toHex } from '../../../support/l2tp/bytes';

const mt = (n: number) => avp(0, n.toString(16).padStart(4, '0'));

/** One byte vector per message type of §6, hand-assembled AVP by AVP. */
const VECTORS: Array<[ControlMessage, Uint8Array]> = [
  [
    { type: 'SCCRQ', protocolVersion: { version: 1, revision: 0 }, framingCapabilities: 3, hostName: 'lac', assignedTunnelId: 5, receiveWindowSize: 4 },
    concat(mt(1), avp(2, '0100'), avp(3, '00000003'), avp(7, toHex(ascii('lac'))), avp(9, '0005'), avp(10, '0004')),
  ],
  [
    { type: 'SCCRP', protocolVersion: { version: 1, revision: 0 }, framingCapabilities: 1, hostName: 'lns', assignedTunnelId: 6, challenge: hex('0102') },
    concat(mt(2), avp(2, '0100'), avp(3, '00000001'), avp(7, toHex(ascii('lns'))), avp(9, '0006'), avp(11, '0102')),
  ],
  [{ type: 'SCCCN' }, mt(3)],
  [{ type: 'StopCCN', resultCode: { resultCode: 1 }, assignedTunnelId: 6 }, concat(mt(4), avp(1, '0001'), avp(9, '0006'))],
  [{ type: 'HELLO' }, mt(6)],
  [
    { type: 'OCRQ', assignedSessionId: 1, callSerialNumber: 2, minimumBps: 3, maximumBps: 4, bearerType: 1, framingType: 1, calledNumber: '9' },
    concat(mt(7), avp(14, '0001'), avp(15, '00000002'), avp(16, '00000003'), avp(17, '00000004'), avp(18, '00000001'), avp(19, '00000001'), avp(21, '39')),
  ],
  [{ type: 'OCRP', assignedSessionId: 3 }, concat(mt(8), avp(14, '0003'))],
  [{ type: 'OCCN', framingType: 2, txConnectSpeed: 9600 }, concat(mt(9), avp(19, '00000002'), avp(24, '00002580'))],
  [{ type: 'ICRQ', assignedSessionId: 0x4242, callSerialNumber: 1, callingNumber: '1.2.3.4' }, concat(mt(10), avp(14, '4242'), avp(15, '00000001'), avp(22, toHex(ascii('1.2.3.4'))))],
  [{ type: 'ICRP', assignedSessionId: 0x77 }, concat(mt(11), avp(14, '0077'))],
  [
    { type: 'ICCN', framingType: 1, txConnectSpeed: 100000000, sequencingRequired: true },
    concat(mt(12), avp(19, '00000001'), avp(24, '05f5e100'), avp(39, '')),
  ],
  [{ type: 'CDN', resultCode: { resultCode: 3, errorCode: 0, errorMessage: 'bye' }, assignedSessionId: 9 }, concat(mt(14), avp(1, '0003 0000 627965'), avp(14, '0009'))],
  [
    { type: 'WEN', callErrors: { crcErrors: 0, framingErrors: 0, hardwareOverruns: 0, bufferOverruns: 0, timeoutErrors: 0, alignmentErrors: 1 } },
    concat(mt(15), avp(34, '0000' + '00000000'.repeat(5) + '00000001')),
  ],
  [{ type: 'SLI', accm: { sendAccm: 0, receiveAccm: 0xffffffff } }, concat(mt(16), avp(35, '0000 00000000 ffffffff'))],
];

describe('control messages (§6)', () => {
  test('a vector for every message type', () => {
    assert.deepEqual(VECTORS.map(([m]) => m.type).sort(), Object.keys(MESSAGE_RULES).sort());
  });
  for (const [msg, bytes] of VECTORS) {
    test(`${msg.type}: decode, encode, round trip`, () => {
      const decoded = decodeControlMessage(bytes);
      assert.ok(!isL2tpDecodeError(decoded), String(decoded));
      assert.deepEqual(decoded, msg);
      assert.equal(toHex(encodeControlMessage(msg)), toHex(bytes));
    });
  }

  const missing: Array<[string, Uint8Array, string]> = [
    ['SCCRQ without Assigned Tunnel ID', concat(mt(1), avp(2, '0100'), avp(3, '00000003'), avp(7, '61')), 'Assigned Tunnel ID'],
    ['SCCRQ without Protocol Version', concat(mt(1), avp(3, '00000003'), avp(7, '61'), avp(9, '0001')), 'Protocol Version'],
    ['ICRQ without Call Serial Number', concat(mt(10), avp(14, '0001')), 'Call Serial Number'],
    ['ICCN without Framing Type', concat(mt(12), avp(24, '00000001')), 'Framing Type'],
    ['ICRP without Assigned Session ID', mt(11), 'Assigned Session ID'],
    ['SLI without ACCM', mt(16), 'ACCM'],
  ];
  for (const [name, bytes, avpName] of missing) {
    test(`${name} is an error naming the AVP`, () => {
      const r = decodeControlMessage(bytes);
      assert.ok(isL2tpDecodeError(r));
      assert.equal(r.code, 'missing-required-avp');
      assert.equal(r.detail.avp, avpName);
      assert.match(r.message, new RegExp(avpName.replace(/[()]/g, '.')));
    });
  }
  test('encoder refuses a message lacking a required AVP', () => {
    assert.throws(() => encodeControlMessage({ type: 'ICRP' }), L2tpError);
  });

  test('no Message Type, unknown types with and without M', () => {
    const none = decodeControlMessage(avp(9, '0001'));
    assert.ok(isL2tpDecodeError(none) && none.code === 'missing-message-type');
    const empty = decodeControlMessage(new Uint8Array(0));
    assert.ok(isL2tpDecodeError(empty) && empty.code === 'missing-message-type');
    const m = decodeControlMessage(avp(0, '0063', true));
    assert.ok(isL2tpDecodeError(m) && m.code === 'unknown-message-type' && m.detail.mandatory === true);
    const o = decodeControlMessage(avp(0, '0063', false));
    assert.ok(isL2tpDecodeError(o) && o.detail.mandatory === false);
  });

  test('interop: SCCRQ with no or empty Host Name and Framing Capabilities 0 is accepted', () => {
    for (const host of [new Uint8Array(0), avp(7, '')]) {
      const r = decodeControlMessage(concat(mt(1), avp(2, '0100'), avp(3, '00000000'), host, avp(9, '0001')));
      assert.ok(!isL2tpDecodeError(r), String(r));
      assert.equal(r.framingCapabilities, 0);
      assert.ok(r.hostName === undefined || r.hostName === '');
    }
  });

  test('interop: byte-swapped StopCCN/CDN result codes are decoded leniently', () => {
    const stop = decodeControlMessage(concat(mt(4), avp(1, '0100 0000'), avp(9, '0001')));
    assert.ok(!isL2tpDecodeError(stop));
    assert.deepEqual(stop.resultCode, { resultCode: 1, errorCode: 0 });
    assert.equal(stop.resultCodeByteSwapped, true);
    const cdn = decodeControlMessage(concat(mt(14), avp(1, '0300 0600'), avp(14, '0001')));
    assert.ok(!isL2tpDecodeError(cdn));
    assert.deepEqual(cdn.resultCode, { resultCode: 3, errorCode: 6 });
    const normal = decodeControlMessage(concat(mt(14), avp(1, '0003'), avp(14, '0001')));
    assert.ok(!isL2tpDecodeError(normal));
    assert.equal(normal.resultCodeByteSwapped, undefined);
  });

  test('interop: StopCCN and CDN missing their AVPs still decode (teardown is honoured)', () => {
    assert.ok(!isL2tpDecodeError(decodeControlMessage(mt(4))));
    assert.ok(!isL2tpDecodeError(decodeControlMessage(mt(14))));
  });
});

describe('tunnel authentication (§5.1.1)', () => {
  const secret = ascii('s3cret');
  const challenge = hex('0102030405060708090a0b0c0d0e0f10');
  // Computed independently with Python hashlib: MD5(type || secret || challenge).
  test('SCCRP and SCCCN responses match known vectors', () => {
    assert.equal(toHex(challengeResponse(2, secret, challenge)), '6fc9590cb6214bc79590cdfeb5122c58');
    assert.equal(toHex(challengeResponse(3, secret, challenge)), '68bfa826a25a9614adb9829f523c175c');
  });
  test('verify accepts the right response only', () => {
    const good = challengeResponse(3, secret, challenge);
    assert.equal(verifyChallengeResponse(3, secret, challenge, good), true);
    assert.equal(verifyChallengeResponse(2, secret, challenge, good), false, 'type byte matters');
    assert.equal(verifyChallengeResponse(3, ascii('other'), challenge, good), false);
    assert.equal(verifyChallengeResponse(3, secret, challenge, undefined), false);
    assert.equal(verifyChallengeResponse(3, secret, challenge, good.subarray(0, 8)), false);
  });
});
