import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AVP_DEFINITIONS,
  decodeAvps,
  decodeControlMessage,
  encodeAvps,
  encodeControlMessage,
  hideAvpValue,
  unhideAvpValue,
  isL2tpDecodeError,
  type AvpField,
  type ControlMessage,
} from '../../../../edge-agent/src/l2tp/index';
import { ascii, avp, concat, hex, toHex } from '../../../support/l2tp/bytes';

const HELLO = avp(0, '0006');

/** Every AVP of §4.4: attribute type, field, typed value, value bytes, M bit. */
const VECTORS: Array<[number, AvpField, unknown, string, boolean]> = [
  [1, 'resultCode', { resultCode: 2, errorCode: 6, errorMessage: 'oops' }, '0002 0006 6f6f7073', true],
  [2, 'protocolVersion', { version: 1, revision: 0 }, '0100', true],
  [3, 'framingCapabilities', 3, '00000003', true],
  [4, 'bearerCapabilities', 2, '00000002', true],
  [5, 'tieBreaker', hex('0102030405060708'), '0102030405060708', false],
  [6, 'firmwareRevision', 0x0680, '0680', false],
  [7, 'hostName', 'lac.example', toHex(ascii('lac.example')), true],
  [8, 'vendorName', 'Microsoft', toHex(ascii('Microsoft')), false],
  [9, 'assignedTunnelId', 0xbeef, 'beef', true],
  [10, 'receiveWindowSize', 8, '0008', true],
  [11, 'challenge', hex('00112233'), '00112233', true],
  [12, 'q931Cause', { causeCode: 16, causeMessage: 0x45, advisory: 'x' }, '0010 45 78', true],
  [13, 'challengeResponse', hex('000102030405060708090a0b0c0d0e0f'), '000102030405060708090a0b0c0d0e0f', true],
  [14, 'assignedSessionId', 0x0102, '0102', true],
  [15, 'callSerialNumber', 0xdeadbeef, 'deadbeef', true],
  [16, 'minimumBps', 9600, '00002580', true],
  [17, 'maximumBps', 100000000, '05f5e100', true],
  [18, 'bearerType', 1, '00000001', true],
  [19, 'framingType', 1, '00000001', true],
  [21, 'calledNumber', '555', '353535', true],
  [22, 'callingNumber', '10.0.0.1', toHex(ascii('10.0.0.1')), true],
  [23, 'subAddress', 'a', '61', true],
  [24, 'txConnectSpeed', 10000000, '00989680', true],
  [25, 'physicalChannelId', 7, '00000007', false],
  [26, 'initialReceivedLcpConfReq', hex('0101000a'), '0101000a', false],
  [27, 'lastSentLcpConfReq', hex('0102000a'), '0102000a', false],
  [28, 'lastReceivedLcpConfReq', hex('0103000a'), '0103000a', false],
  [29, 'proxyAuthenType', 2, '0002', false],
  [30, 'proxyAuthenName', 'bob', '626f62', false],
  [31, 'proxyAuthenChallenge', hex('aabbccdd'), 'aabbccdd', false],
  [32, 'proxyAuthenId', 9, '0009', false],
  [33, 'proxyAuthenResponse', hex('01020304'), '01020304', false],
  [
    34,
    'callErrors',
    { crcErrors: 1, framingErrors: 2, hardwareOverruns: 3, bufferOverruns: 4, timeoutErrors: 5, alignmentErrors: 6 },
    '0000 00000001 00000002 00000003 00000004 00000005 00000006',
    true,
  ],
  [35, 'accm', { sendAccm: 0xffffffff, receiveAccm: 0 }, '0000 ffffffff 00000000', true],
  [37, 'privateGroupId', hex('47'), '47', false],
  [38, 'rxConnectSpeed', 54000000, '0337f980', false],
  [39, 'sequencingRequired', true, '', true],
];

describe('AVP catalog (RFC 2661 §4.4)', () => {
  test('the vector table covers every catalogued AVP', () => {
    assert.deepEqual(
      VECTORS.map((v) => v[0]),
      AVP_DEFINITIONS.map((d) => d.attributeType),
    );
  });
  for (const [type, field, value, valueHex, mandatory] of VECTORS) {
    test(`${field} (type ${type}) decodes and encodes byte-exact`, () => {
      const body = concat(HELLO, avp(type, valueHex, mandatory));
      const msg = decodeControlMessage(body);
      assert.ok(!isL2tpDecodeError(msg), String(msg));
      assert.deepEqual((msg as unknown as Record<string, unknown>)[field], value);
      assert.equal(toHex(encodeControlMessage(msg)), toHex(body));
    });
  }
  const badValues: Array<[number, string]> = [
    [9, '01'],
    [10, '000000'],
    [2, '01'],
    [13, '0102'],
    [1, '01'],
    [34, '0000'],
    [35, '00'],
    [39, '00'],
    [5, '01'],
    [12, '0001'],
  ];
  for (const [type, valueHex] of badValues) {
    test(`type ${type} with malformed value '${valueHex}' is an error value`, () => {
      const r = decodeControlMessage(concat(HELLO, avp(type, valueHex)));
      assert.ok(isL2tpDecodeError(r));
      assert.equal(r.code, 'bad-avp-value');
    });
  }
  test('Result Code with only a result code, and with an error code but no message', () => {
    for (const [v, expect] of [
      ['0001', { resultCode: 1 }],
      ['0002 0008', { resultCode: 2, errorCode: 8 }],
    ] as const) {
      const body = concat(avp(0, '0004'), avp(1, v), avp(9, '0001'));
      const msg = decodeControlMessage(body);
      assert.ok(!isL2tpDecodeError(msg));
      assert.deepEqual(msg.resultCode, expect);
      assert.equal(toHex(encodeControlMessage(msg)), toHex(body));
    }
  });
});

describe('raw AVP framing', () => {
  const bad: Array<[string, string, string]> = [
    ['length below 6', '8005 0000 0000', 'bad-avp-length'],
    ['length 0', '0000 0000 0000', 'bad-avp-length'],
    ['length overruns the message', '8010 0000 0000 0006', 'bad-avp-length'],
    ['trailing partial header', '8008 0000 0000 0006 80', 'truncated'],
  ];
  for (const [name, bytes, code] of bad) {
    test(`rejects ${name}`, () => {
      const r = decodeAvps(hex(bytes));
      assert.ok(isL2tpDecodeError(r));
      assert.equal(r.code, code);
    });
  }
  test('10-bit length uses the low bits of the first octet', () => {
    const value = new Uint8Array(300).fill(7);
    const enc = encodeAvps([{ mandatory: false, hidden: false, vendorId: 311, attributeType: 1, value }]);
    assert.equal(toHex(enc.subarray(0, 6)), '0132' + '0137' + '0001');
    const dec = decodeAvps(enc);
    assert.ok(!isL2tpDecodeError(dec));
    assert.equal(dec[0]?.value.length, 300);
    assert.equal(dec[0]?.vendorId, 311);
  });
});

describe('unknown AVPs (§4.2)', () => {
  const msVendor = avp(1, '00112233445566778899aabbccddeeff', true, 311); // e.g. Microsoft Correlation ID, M set
  const unknownOptional = avp(99, '01', false);
  const unknownMandatory = avp(99, '01', true);
  test('vendor and unknown IETF AVPs without M are kept raw and survive re-encoding', () => {
    const body = concat(HELLO, unknownOptional, avp(1, '0001', false, 9));
    const msg = decodeControlMessage(body, { permissiveMandatoryAvps: false });
    assert.ok(!isL2tpDecodeError(msg));
    assert.equal(msg.unknownAvps?.length, 2);
    assert.equal(toHex(encodeControlMessage(msg)), toHex(body));
  });
  for (const [name, a] of [['Microsoft vendor AVP with M', msVendor], ['unknown IETF AVP with M', unknownMandatory]] as const) {
    test(`${name}: kept when permissive (default)`, () => {
      const msg = decodeControlMessage(concat(HELLO, a));
      assert.ok(!isL2tpDecodeError(msg));
      assert.equal(msg.unknownAvps?.[0]?.mandatory, true);
    });
    test(`${name}: error value when permissive is off`, () => {
      const r = decodeControlMessage(concat(HELLO, a), { permissiveMandatoryAvps: false });
      assert.ok(isL2tpDecodeError(r));
      assert.equal(r.code, 'unknown-mandatory-avp');
    });
  }
});

describe('hidden AVPs (§4.3)', () => {
  const secret = ascii('s3cret');
  const rv = hex('000102030405060708090a0b0c0d0e0f');
  // Computed independently (Python hashlib) from the §4.3 chain for type 33, value "proxy-response-0123".
  const HIDDEN = 'd380fbccaa8bd4aec203e4730280748aaa7be47e59';
  test('hides with the MD5 chain, byte-exact against an independent vector', () => {
    assert.equal(toHex(hideAvpValue(33, ascii('proxy-response-0123'), secret, rv)), HIDDEN);
    const back = unhideAvpValue(33, hex(HIDDEN), secret, rv);
    assert.ok(!isL2tpDecodeError(back));
    assert.equal(new TextDecoder().decode(back), 'proxy-response-0123');
  });
  test('message round trip with hidden AVPs and a Random Vector', () => {
    const msg: ControlMessage = { type: 'ICCN', txConnectSpeed: 1000, framingType: 1, proxyAuthenResponse: ascii('proxy-response-0123'), proxyAuthenName: 'bob' };
    const body = encodeControlMessage(msg, { secret, randomVector: rv, hide: ['proxyAuthenResponse', 'proxyAuthenName'] });
    assert.ok(toHex(body).includes(HIDDEN), 'hidden bytes on the wire');
    const raw = decodeAvps(body, { secret });
    assert.ok(!isL2tpDecodeError(raw));
    assert.equal(raw.filter((a) => a.hidden).length, 2);
    const back = decodeControlMessage(body, { secret });
    assert.ok(!isL2tpDecodeError(back));
    assert.equal(back.proxyAuthenName, 'bob');
    assert.deepEqual(back.proxyAuthenResponse, ascii('proxy-response-0123'));
  });
  test('hidden AVP without secret, without vector, or with a wrong secret is an error value', () => {
    const body = encodeControlMessage({ type: 'HELLO', hostName: 'x'.repeat(40) }, { secret, randomVector: rv, hide: ['hostName'] });
    const noSecret = decodeControlMessage(body);
    assert.ok(isL2tpDecodeError(noSecret));
    assert.equal(noSecret.code, 'hidden-avp-without-secret');
    const wrong = decodeControlMessage(body, { secret: ascii('other') });
    assert.ok(isL2tpDecodeError(wrong) || wrong.hostName !== 'x'.repeat(40));
    const hiddenFirst = concat(HELLO, hex('c008 0000 0007 aabb'));
    const noVector = decodeControlMessage(hiddenFirst, { secret });
    assert.ok(isL2tpDecodeError(noVector));
    assert.equal(noVector.code, 'hidden-avp-without-random-vector');
  });
});
