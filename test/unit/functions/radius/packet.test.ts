/**
 * The RADIUS packet codec against RFC 2865 §7's worked examples, and hostile bytes: every
 * malformed input is a RadiusCodecError value, never a throw.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  Attr,
  decodePacket,
  encodePacket,
  hidePassword,
  isRadiusCodecError,
  readInteger,
  readIpv4,
  readText,
  responseAuthenticator,
  revealPassword,
  type RadiusPacket,
} from '../../../../functions/src/radius';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const SECRET = Buffer.from('xyzzy5461');

// RFC 2865 §7.1: user "nemo", password "arctangent", NAS 192.168.1.16 port 3.
const TELNET_REQUEST = hex(`01 00 00 38 0f 40 3f 94 73 97 80 57 bd 83 d5 cb
  98 f4 22 7a 01 06 6e 65 6d 6f 02 12 0d be 70 8d 93 d4 13 ce 31 96 e4 3f 78 2a 0a ee 04 06 c0 a8
  01 10 05 06 00 00 00 03`);
const TELNET_ACCEPT = hex(`02 00 00 26 86 fe 22 0e 76 24 ba 2a 10 05 f6 bf
  9b 55 e0 b2 06 06 00 00 00 01 0f 06 00 00 00 00 0e 06 c0 a8 01 03`);
// RFC 2865 §7.2: user "flopsy" with CHAP, NAS port 20, Framed/PPP.
const CHAP_REQUEST = hex(`01 01 00 47 2a ee 86 f0 8d 0d 55 96 9c a5 97 8e
  0d 33 67 a2 01 08 66 6c 6f 70 73 79 03 13 16 e9 75 57 c3 16 18 58 95 f2 93 ff 63 44 07 72 75 04
  06 c0 a8 01 10 05 06 00 00 00 14 06 06 00 00 00 02 07 06 00 00 00 01`);

function decoded(bytes: Uint8Array): RadiusPacket {
  const p = decodePacket(bytes);
  assert.ok(!isRadiusCodecError(p), String(p));
  return p as RadiusPacket;
}

describe('RADIUS packets: RFC 2865 §7 vectors', () => {
  test('§7.1 Access-Request decodes, re-encodes byte for byte, and its User-Password is the hidden "arctangent"', () => {
    const p = decoded(TELNET_REQUEST);
    assert.equal(p.code, 1);
    assert.equal(p.identifier, 0);
    assert.equal(readText(p, Attr.UserName), 'nemo');
    assert.equal(readIpv4(p, Attr.NasIpAddress), '192.168.1.16');
    assert.equal(readInteger(p, Attr.NasPort), 3);
    assert.deepEqual(encodePacket(p), TELNET_REQUEST);
    const hidden = hidePassword(Buffer.from('arctangent'), SECRET, p.authenticator);
    assert.deepEqual(hidden, p.attributes.find((a) => a.type === Attr.UserPassword)!.value);
    assert.deepEqual(revealPassword(hidden as Buffer, SECRET, p.authenticator), Buffer.from('arctangent'));
  });

  test('§7.1 Access-Accept: attributes read and its Response Authenticator verifies with the request and the secret', () => {
    const p = decoded(TELNET_ACCEPT);
    assert.equal(p.code, 2);
    assert.equal(readInteger(p, Attr.ServiceType), 1);
    assert.equal(readInteger(p, Attr.LoginService), 0);
    assert.equal(readIpv4(p, Attr.LoginIpHost), '192.168.1.3');
    const request = decoded(TELNET_REQUEST);
    assert.deepEqual(responseAuthenticator(TELNET_ACCEPT, request.authenticator, SECRET), p.authenticator);
    assert.notDeepEqual(responseAuthenticator(TELNET_ACCEPT, request.authenticator, Buffer.from('xyzzy5462')), p.authenticator);
    assert.deepEqual(encodePacket(p), TELNET_ACCEPT);
  });

  test('§7.2 CHAP Access-Request: CHAP-Password is the CHAP id then 16 bytes; Framed/PPP', () => {
    const p = decoded(CHAP_REQUEST);
    assert.equal(p.identifier, 1);
    assert.equal(readText(p, Attr.UserName), 'flopsy');
    const chap = p.attributes.find((a) => a.type === Attr.ChapPassword)!.value;
    assert.equal(chap.length, 17);
    assert.equal(chap[0], 0x16);
    assert.equal(readInteger(p, Attr.NasPort), 20);
    assert.equal(readInteger(p, Attr.ServiceType), 2);
    assert.equal(readInteger(p, Attr.FramedProtocol), 1);
    assert.deepEqual(encodePacket(p), CHAP_REQUEST);
  });

  test('User-Password hiding chains blocks past 16 bytes and refuses over 128 (RFC 2865 §5.2)', () => {
    const auth = Buffer.alloc(16, 7);
    const long = Buffer.from('a-password-that-is-longer-than-sixteen-bytes');
    const hidden = hidePassword(long, SECRET, auth) as Buffer;
    assert.equal(hidden.length, 48);
    assert.deepEqual(revealPassword(hidden, SECRET, auth), long);
    assert.equal((hidePassword(Buffer.alloc(129, 1), SECRET, auth) as { code: string }).code, 'value-too-long');
    assert.equal((revealPassword(Buffer.alloc(17), SECRET, auth) as { code: string }).code, 'bad-attribute-value');
  });
});

describe('RADIUS packets: hostile and bad input is an error value', () => {
  const cases: [string, Buffer, string][] = [
    ['empty', Buffer.alloc(0), 'truncated'],
    ['19 bytes', Buffer.alloc(19), 'truncated'],
    ['Length 19', hex('01 00 00 13' + '00'.repeat(16)), 'bad-length'],
    ['Length 4097', Buffer.concat([hex('01 00 10 01'), Buffer.alloc(4093)]), 'bad-length'],
    ['Length past the datagram', hex('01 00 00 16' + '00'.repeat(16)), 'truncated'],
    ['attribute length 1', hex('01 00 00 16' + '00'.repeat(16) + '01 01'), 'bad-attribute-length'],
    ['attribute length 0', hex('01 00 00 16' + '00'.repeat(16) + '01 00'), 'bad-attribute-length'],
    ['attribute overruns Length', hex('01 00 00 16' + '00'.repeat(16) + '01 03 00'), 'bad-attribute-length'],
    ['lone type byte', hex('01 00 00 15' + '00'.repeat(16) + '01'), 'bad-attribute-length'],
  ];
  for (const [name, bytes, code] of cases) {
    test(`${name} -> ${code}`, () => {
      const r = decodePacket(bytes);
      assert.ok(isRadiusCodecError(r));
      assert.equal(r.code, code);
    });
  }

  test('every truncation of a valid packet is an error value', () => {
    for (let n = 0; n < TELNET_REQUEST.length; n++) assert.ok(isRadiusCodecError(decodePacket(TELNET_REQUEST.subarray(0, n))), `prefix ${n}`);
  });

  test('bytes past Length are padding, ignored (RFC 2865 §3)', () => {
    const padded = Buffer.concat([TELNET_REQUEST, Buffer.alloc(9, 0xee)]);
    assert.deepEqual(encodePacket(decoded(padded)), TELNET_REQUEST);
  });

  test('decoded values are copies: scribbling the receive buffer changes nothing', () => {
    const buf = Buffer.from(TELNET_REQUEST);
    const p = decoded(buf);
    buf.fill(0xaa);
    assert.equal(readText(p, Attr.UserName), 'nemo');
  });

  test('encoding a value over 253 bytes or a packet over 4096 is an error value, not a throw', () => {
    const base = { code: 1, identifier: 1, authenticator: Buffer.alloc(16) };
    const big = encodePacket({ ...base, attributes: [{ type: 1, value: Buffer.alloc(254) }] });
    assert.ok(isRadiusCodecError(big) && big.code === 'value-too-long');
    const many = encodePacket({ ...base, attributes: Array.from({ length: 20 }, () => ({ type: 26, value: Buffer.alloc(253) })) });
    assert.ok(isRadiusCodecError(many) && many.code === 'packet-too-long');
    assert.ok(isRadiusCodecError(encodePacket({ ...base, identifier: 256, attributes: [] })));
    assert.ok(isRadiusCodecError(encodePacket({ ...base, authenticator: Buffer.alloc(3), attributes: [] })));
  });

  test('random bytes never throw, and what decodes re-encodes to its own bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), (bytes) => {
        const p = decodePacket(bytes);
        if (isRadiusCodecError(p)) return;
        const again = encodePacket(p);
        assert.ok(Buffer.isBuffer(again));
        assert.deepEqual(again, Buffer.from(bytes).subarray(0, again.length));
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 120 }), fc.integer({ min: 20, max: 140 }), (body, length) => {
        const bytes = Buffer.concat([Buffer.from([1, 2, length >> 8, length & 0xff]), Buffer.alloc(16), Buffer.from(body)]);
        decodePacket(bytes); // must not throw
      }),
      { numRuns: 2000 },
    );
  });
});
