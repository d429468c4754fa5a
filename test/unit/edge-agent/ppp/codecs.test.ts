/** Byte vectors for every PPP packet type this folder decodes/encodes (formats from RFC 1661/1332/1877/1334/1994/2759). */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeChapPacket,
  decodeControlPacket,
  decodeFrame,
  decodeFrameHeader,
  decodeIpcpOptions,
  decodeLcpPacket,
  decodeMsChapV2ResponseValue,
  decodeOptions,
  decodePapPacket,
  encodeChapPacket,
  encodeFrame,
  encodeIpcpOptions,
  encodeLcpPacket,
  encodeMsChapV2ResponseValue,
  encodePapPacket,
  formatMsChapV2Failure,
  formatMsChapV2Success,
  isPppDecodeError,
  parseMsChapV2Failure,
  parseMsChapV2Success,
  PppDecodeError,
  authMethodOf,
  authProtocolOption,
  encodeLcpOptions,
  type LcpPacket,
} from '../../../../edge-agent/src/ppp';
import { ascii, hex, toHex } from '../../../support/ppp/hex';

describe('frame header', () => {
  const cases: [string, string, number, number][] = [
    ['full header', 'ff03 c021 01', 0xc021, 4],
    ['ACFC', 'c021 01', 0xc021, 2],
    ['PFC IPv4', 'ff03 21 45', 0x0021, 3],
    ['ACFC + PFC', '21 45', 0x0021, 1],
    ['uncompressed IPv4', 'ff03 0021 45', 0x0021, 4],
  ];
  for (const [name, bytes, protocol, payloadOffset] of cases) {
    test(name, () => assert.deepEqual(decodeFrameHeader(hex(bytes)), { protocol, payloadOffset }));
  }
  test('at an offset (zero copy into a bigger buffer)', () => {
    assert.deepEqual(decodeFrameHeader(hex('aabbcc ff03 8021 01'), 3), { protocol: 0x8021, payloadOffset: 7 });
  });
  for (const [name, bytes, code] of [
    ['empty', '', 'truncated'],
    ['FF not followed by 03', 'ff04 c021', 'bad-value'],
    ['protocol cut short', 'ff03 c0', 'truncated'],
    ['even low octet', 'c020 00', 'bad-value'],
  ] as const) {
    test(`error: ${name}`, () => {
      const r = decodeFrameHeader(hex(bytes));
      assert.ok(r instanceof PppDecodeError);
      assert.equal(r.code, code);
    });
  }
  test('decodeFrame gives a view, encodeFrame the default and compressed forms', () => {
    const buf = hex('ff03 c021 0901 0008 00000000');
    const f = decodeFrame(buf);
    assert.ok(!isPppDecodeError(f));
    assert.equal(f.payload.buffer, buf.buffer);
    assert.equal(toHex(encodeFrame(0xc021, hex('0102'))), 'ff03c0210102');
    assert.equal(toHex(encodeFrame(0x0021, hex('45'), { acfc: true, pfc: true })), '2145');
    assert.equal(toHex(encodeFrame(0xc021, hex('01'), { acfc: true, pfc: true })), 'c02101', 'LCP is never protocol-compressed');
  });
});

describe('control packets and options', () => {
  test('Length below 4, beyond the data, and padding', () => {
    assert.equal((decodeControlPacket(hex('0101 0003')) as PppDecodeError).code, 'bad-length');
    assert.equal((decodeControlPacket(hex('0101 0009 0000')) as PppDecodeError).code, 'bad-length');
    assert.equal((decodeControlPacket(hex('0101')) as PppDecodeError).code, 'truncated');
    const p = decodeControlPacket(hex('0501 0006 aabb ccdd'));
    assert.ok(!isPppDecodeError(p));
    assert.equal(toHex(p.data), 'aabb', 'octets past Length are padding');
  });
  for (const [name, bytes] of <[string, string][]>[
    ['option length 0', '0100'],
    ['option length 1', '0101'],
    ['option overruns', '0106 0578'],
    ['lone type octet', '01'],
  ]) {
    test(`option error: ${name}`, () => assert.ok(decodeOptions(hex(bytes)) instanceof PppDecodeError));
  }
});

// A Windows 10/11 first LCP Configure-Request: MRU 1400, Magic, PFC, ACFC, Callback (13) with operation 6 (CBCP).
const WINDOWS_LCP_CONFREQ = '01 01 0015 0104 0578 0506 1a2b3c4d 0702 0802 0d03 06';

describe('LCP', () => {
  test('Windows-style Configure-Request decodes, unknown Callback kept raw, round trip', () => {
    const p = decodeLcpPacket(hex(WINDOWS_LCP_CONFREQ));
    assert.deepEqual(p, {
      kind: 'configure-request',
      identifier: 1,
      options: [
        { kind: 'mru', value: 1400 },
        { kind: 'magic-number', value: 0x1a2b3c4d },
        { kind: 'pfc' },
        { kind: 'acfc' },
        { kind: 'unknown', type: 13, data: hex('06') },
      ],
    });
    assert.equal(toHex(encodeLcpPacket(p as LcpPacket)), toHex(hex(WINDOWS_LCP_CONFREQ)));
  });
  test('Auth-Protocol options: MS-CHAPv2 0x81, CHAP-MD5 0x05, PAP', () => {
    assert.equal(toHex(encodeLcpOptions([authProtocolOption('mschapv2')])), '0305c22381');
    assert.equal(toHex(encodeLcpOptions([authProtocolOption('chap-md5')])), '0305c22305');
    assert.equal(toHex(encodeLcpOptions([authProtocolOption('pap')])), '0304c023');
    const p = decodeLcpPacket(hex('03 07 0009 0305 c22381'));
    assert.ok(!isPppDecodeError(p) && p.kind === 'configure-nak');
    assert.equal(authMethodOf(p.options[0]!), 'mschapv2');
    assert.equal(authMethodOf({ kind: 'auth-protocol', protocol: 0xc227, data: new Uint8Array() }), undefined, 'EAP is not ours');
  });
  test('ACCM and Configure-Ack/Reject', () => {
    assert.deepEqual(decodeLcpPacket(hex('02 02 000a 0206 00000000')), { kind: 'configure-ack', identifier: 2, options: [{ kind: 'accm', value: 0 }] });
    assert.deepEqual(decodeLcpPacket(hex('04 03 0007 0d0306')), {
      kind: 'configure-reject',
      identifier: 3,
      options: [{ kind: 'unknown', type: 13, data: hex('06') }],
    });
  });
  test('known option with a wrong length is an error', () => {
    assert.ok(decodeLcpPacket(hex('01 01 0007 0103 05')) instanceof PppDecodeError);
    assert.ok(decodeLcpPacket(hex('01 01 0008 0504 0000')) instanceof PppDecodeError);
  });
  const vectors: [string, LcpPacket][] = [
    ['05 04 0004', { kind: 'terminate-request', identifier: 4, data: new Uint8Array() }],
    ['06 04 0006 aabb', { kind: 'terminate-ack', identifier: 4, data: hex('aabb') }],
    ['07 05 0008 0c010004', { kind: 'code-reject', identifier: 5, rejected: hex('0c010004') }],
    ['08 06 000a 80fd 01010004', { kind: 'protocol-reject', identifier: 6, protocol: 0x80fd, rejected: hex('01010004') }],
    ['09 07 0008 11223344', { kind: 'echo-request', identifier: 7, magic: 0x11223344, data: new Uint8Array() }],
    ['0a 07 000a 55667788 abcd', { kind: 'echo-reply', identifier: 7, magic: 0x55667788, data: hex('abcd') }],
    ['0b 08 0008 00000000', { kind: 'discard-request', identifier: 8, magic: 0, data: new Uint8Array() }],
  ];
  for (const [bytes, packet] of vectors) {
    test(`${packet.kind} vector and round trip`, () => {
      assert.deepEqual(decodeLcpPacket(hex(bytes)), packet);
      assert.equal(toHex(encodeLcpPacket(packet)), toHex(hex(bytes)));
    });
  }
  test('echo without magic and unknown code are errors', () => {
    assert.equal((decodeLcpPacket(hex('09 01 0006 0000')) as PppDecodeError).code, 'truncated');
    assert.equal((decodeLcpPacket(hex('0c 01 0004')) as PppDecodeError).code, 'unknown-code');
  });
});

describe('IPCP options', () => {
  test('Windows IPCP request: address, DNS and NBNS all 0.0.0.0, plus VJ compression', () => {
    const opts = decodeIpcpOptions(hex('0206 002d 0f01  0306 00000000  8106 00000000  8206 00000000  8306 00000000  8406 00000000'));
    assert.deepEqual(opts, [
      { kind: 'ip-compression', protocol: 0x002d, data: hex('0f01') },
      { kind: 'ip-address', address: '0.0.0.0' },
      { kind: 'primary-dns', address: '0.0.0.0' },
      { kind: 'primary-nbns', address: '0.0.0.0' },
      { kind: 'secondary-dns', address: '0.0.0.0' },
      { kind: 'secondary-nbns', address: '0.0.0.0' },
    ]);
    assert.equal(
      toHex(encodeIpcpOptions([{ kind: 'ip-address', address: '10.8.0.10' }, { kind: 'primary-dns', address: '1.1.1.1' }])),
      '03060a08000a' + '810601010101',
    );
  });
  test('address option with 3 bytes is an error', () => assert.ok(decodeIpcpOptions(hex('0305 000000')) instanceof PppDecodeError));
});

describe('PAP', () => {
  test('Authenticate-Request vector', () => {
    const bytes = hex(`01 01 000f 05 ${ascii('alice')} 04 ${ascii('pass')}`);
    const p = decodePapPacket(bytes);
    assert.deepEqual(p, { kind: 'authenticate-request', identifier: 1, peerId: 'alice', password: 'pass' });
    assert.equal(toHex(encodePapPacket(p as never)), toHex(bytes));
  });
  test('Ack and Nak vectors', () => {
    assert.deepEqual(decodePapPacket(hex(`02 01 0007 02 ${ascii('ok')}`)), { kind: 'authenticate-ack', identifier: 1, message: 'ok' });
    assert.equal(toHex(encodePapPacket({ kind: 'authenticate-nak', identifier: 9, message: 'no' })), `03090007 02 ${ascii('no')}`.replace(/ /g, ''));
  });
  test('overrunning lengths are errors', () => {
    assert.ok(decodePapPacket(hex('01 01 0008 09 616263')) instanceof PppDecodeError);
    assert.ok(decodePapPacket(hex('01 01 0009 01 61 05 6263')) instanceof PppDecodeError);
  });
});

describe('CHAP and MS-CHAPv2', () => {
  const challenge = hex('5b5d7c7d7b3f2f3e3c2c602132262628');
  test('Challenge vector (16-byte value, name)', () => {
    const bytes = hex(`01 2a 0017 10 ${toHex(challenge)} ${ascii('tb')}`);
    const p = decodeChapPacket(bytes);
    assert.deepEqual(p, { kind: 'challenge', identifier: 0x2a, value: challenge, name: 'tb' });
    assert.equal(toHex(encodeChapPacket(p as never)), toHex(bytes));
  });
  test('MS-CHAPv2 Response value layout: 16 peer challenge, 8 reserved, 24 NT response, 1 flags', () => {
    const peer = hex('21402324255e262a28295f2b3a337c7e');
    const nt = hex('82309ecd8d708b5ea08faa3981cd83544233114a3d85d6df');
    const value = encodeMsChapV2ResponseValue({ peerChallenge: peer, ntResponse: nt, flags: 0 });
    assert.equal(toHex(value), toHex(peer) + '00'.repeat(8) + toHex(nt) + '00');
    const bytes = hex(`02 2a 003a 31 ${toHex(value)} ${ascii('User')}`);
    const p = decodeChapPacket(bytes);
    assert.ok(!isPppDecodeError(p) && p.kind === 'response');
    assert.equal(p.name, 'User');
    const v = decodeMsChapV2ResponseValue(p.value);
    assert.ok(!isPppDecodeError(v));
    assert.deepEqual([toHex(v.peerChallenge), toHex(v.ntResponse), v.flags], [toHex(peer), toHex(nt), 0]);
    assert.ok(decodeMsChapV2ResponseValue(hex('00')) instanceof PppDecodeError);
  });
  test('Success and Failure messages in the forms clients parse (RFC 2759 §5, §6)', () => {
    const s = formatMsChapV2Success('407a5589115fd0d6209f510fe9c04566932cda56', 'Access granted');
    assert.equal(s, 'S=407A5589115FD0D6209F510FE9C04566932CDA56 M=Access granted');
    assert.equal(formatMsChapV2Success('S=407A5589115FD0D6209F510FE9C04566932CDA56', 'x'), 'S=407A5589115FD0D6209F510FE9C04566932CDA56 M=x');
    assert.deepEqual(parseMsChapV2Success(s), { authenticatorResponse: '407A5589115FD0D6209F510FE9C04566932CDA56', message: 'Access granted' });
    assert.ok(parseMsChapV2Success('S=12 M=x') instanceof PppDecodeError);
    const f = formatMsChapV2Failure({ error: 691, retry: false, challenge, version: 3, message: 'Authentication failed' });
    assert.equal(f, 'E=691 R=0 C=5B5D7C7D7B3F2F3E3C2C602132262628 V=3 M=Authentication failed');
    const parsed = parseMsChapV2Failure(f);
    assert.ok(!isPppDecodeError(parsed));
    assert.deepEqual([parsed.error, parsed.retry, toHex(parsed.challenge), parsed.version], [691, false, toHex(challenge), 3]);
    const bytes = encodeChapPacket({ kind: 'success', identifier: 7, message: s });
    assert.equal(toHex(bytes.subarray(0, 4)), '0307' + (4 + s.length).toString(16).padStart(4, '0'));
    assert.deepEqual(decodeChapPacket(bytes), { kind: 'success', identifier: 7, message: s });
  });
  test('zero Value-Size and overrun are errors', () => {
    assert.ok(decodeChapPacket(hex('01 01 0005 00')) instanceof PppDecodeError);
    assert.ok(decodeChapPacket(hex('01 01 0006 10 aa')) instanceof PppDecodeError);
  });
});
