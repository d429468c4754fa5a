import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { formatIpv4, ipv4InCidr, parseIpv4, parseIpv4Cidr } from '../../../../edge-agent/src/datapath/address';
import { checkClientPacket, isSourceAllowed } from '../../../../edge-agent/src/datapath/anti-spoof';
import { internetChecksum, updateChecksum16 } from '../../../../edge-agent/src/datapath/checksum';
import { decodeIcmpEcho, encodeIcmpEcho, ICMP_ECHO_REPLY, isEchoReplyTo } from '../../../../edge-agent/src/datapath/icmp';
import {
  checkIpv4Packet,
  decodeIpv4Header,
  encodeIpv4Packet,
  ipv4Destination,
  ipv4Source,
  isIpv4DecodeError,
  writeIpv4HeaderChecksum,
} from '../../../../edge-agent/src/datapath/ipv4';

// A well-known captured header: 192.168.0.1 -> 192.168.0.199, UDP, checksum 0xb861.
const HEADER = Buffer.from('45000073000040004011b861c0a80001c0a800c7', 'hex');
const PACKET = Buffer.concat([HEADER, Buffer.alloc(0x73 - 20, 0xab)]);

describe('checksum', () => {
  test('IPv4 header vector: checksum over the header with the field zeroed is 0xb861', () => {
    const h = Buffer.from(HEADER);
    h.writeUInt16BE(0, 10);
    assert.equal(internetChecksum(h, 0, 20), 0xb861);
    assert.equal(internetChecksum(HEADER, 0, 20), 0, 'a correct header sums to 0xffff');
  });

  test('RFC 1624 §4 worked example: eqn. 3 gives 0x0000', () => {
    assert.equal(updateChecksum16(0xdd2f, 0x5555, 0x3285), 0x0000);
  });

  test('incremental update equals recomputation for any word change (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 2, maxLength: 64 }), fc.nat(), fc.integer({ min: 0, max: 0xffff }), (bytes, pick, value) => {
        const buf = Buffer.from(bytes.length % 2 ? [...bytes, 0] : bytes);
        const before = internetChecksum(buf, 0, buf.length);
        const at = (pick % (buf.length / 2)) * 2;
        const old = buf.readUInt16BE(at);
        buf.writeUInt16BE(value, at);
        const updated = updateChecksum16(before, old, value);
        const recomputed = internetChecksum(buf, 0, buf.length);
        // 0x0000 and 0xffff are the same one's-complement value; eqn. 3 never yields -0 where
        // recomputation yields +0 except for an all-zero sum, which both forms agree is 0xffff.
        assert.equal(updated === 0xffff ? 0 : updated, recomputed === 0xffff ? 0 : recomputed);
      }),
    );
  });
});

describe('addresses', () => {
  test('parse and format round trip, reject malformed', () => {
    assert.equal(parseIpv4('192.168.0.199'), 0xc0a800c7);
    assert.equal(formatIpv4(0xc0a800c7), '192.168.0.199');
    assert.equal(parseIpv4('255.255.255.255'), 0xffffffff);
    for (const bad of ['1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1.2.3.-4', '', 'a.b.c.d']) assert.equal(parseIpv4(bad), undefined, bad);
  });

  test('CIDR parse masks the network; membership', () => {
    const c = parseIpv4Cidr('10.8.0.77/24')!;
    assert.equal(formatIpv4(c.network), '10.8.0.0');
    assert.equal(ipv4InCidr(parseIpv4('10.8.0.254')!, c), true);
    assert.equal(ipv4InCidr(parseIpv4('10.8.1.1')!, c), false);
    assert.equal(parseIpv4Cidr('0.0.0.0/0')!.mask, 0);
    assert.equal(parseIpv4Cidr('10.0.0.0/33'), undefined);
    assert.equal(parseIpv4Cidr('10.0.0.0'), undefined);
  });
});

describe('IPv4 header checks', () => {
  test('accepts a valid packet and decodes every field', () => {
    assert.equal(checkIpv4Packet(PACKET), undefined);
    const h = decodeIpv4Header(PACKET);
    assert.ok(!isIpv4DecodeError(h));
    assert.deepEqual(h, {
      headerLength: 20, tos: 0, totalLength: 0x73, identification: 0, dontFragment: true, moreFragments: false,
      fragmentOffset: 0, ttl: 64, protocol: 17, checksum: 0xb861, source: 0xc0a80001, destination: 0xc0a800c7,
    });
  });

  const mutate = (f: (b: Buffer) => void, fixChecksum = true) => {
    const b = Buffer.from(PACKET);
    f(b);
    if (fixChecksum) writeIpv4HeaderChecksum(b);
    return b;
  };
  const cases: [string, Uint8Array, string][] = [
    ['empty', new Uint8Array(0), 'too-short'],
    ['19 bytes', PACKET.subarray(0, 19), 'too-short'],
    ['IPv6', mutate((b) => (b[0] = 0x60), false), 'not-ipv4'],
    ['IHL 4', mutate((b) => (b[0] = 0x44), false), 'bad-header-length'],
    ['IHL 15 beyond the bytes', mutate((b) => (b[0] = 0x4f), false).subarray(0, 40), 'too-short'],
    ['total length above received', mutate((b) => b.writeUInt16BE(0x74, 2)), 'bad-total-length'],
    ['total length below header', mutate((b) => b.writeUInt16BE(19, 2)), 'bad-total-length'],
    ['checksum off by one', mutate((b) => (b[11] = b[11]! ^ 1), false), 'bad-checksum'],
    ['TTL changed without checksum', mutate((b) => (b[8] = 1), false), 'bad-checksum'],
  ];
  for (const [name, bytes, reason] of cases) {
    test(`drops ${name} as ${reason}`, () => {
      assert.equal(checkIpv4Packet(bytes), reason);
      assert.deepEqual(decodeIpv4Header(bytes), { error: reason });
    });
  }

  test('trailing link padding beyond total length is allowed', () => {
    assert.equal(checkIpv4Packet(Buffer.concat([PACKET, Buffer.alloc(3)])), undefined);
  });

  test('a length argument shorter than the buffer is honoured', () => {
    assert.equal(checkIpv4Packet(PACKET, 50), 'bad-total-length');
  });

  test('never throws on arbitrary bytes (property)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
      const r = checkIpv4Packet(bytes);
      assert.ok(r === undefined || typeof r === 'string');
    }));
  });

  test('encodeIpv4Packet produces a packet that decodes back', () => {
    const p = encodeIpv4Packet({ source: 1, destination: 0x0a080002, protocol: 6, payload: Buffer.from('hi'), ttl: 9, identification: 77 });
    const h = decodeIpv4Header(p);
    assert.ok(!isIpv4DecodeError(h));
    assert.equal(h.totalLength, 22);
    assert.equal(h.ttl, 9);
    assert.equal(h.identification, 77);
    assert.equal(ipv4Source(p), 1);
    assert.equal(ipv4Destination(p), 0x0a080002);
  });
});

describe('anti-spoofing', () => {
  const assigned = parseIpv4('10.8.0.2')!;
  const own = encodeIpv4Packet({ source: assigned, destination: parseIpv4('1.1.1.1')!, protocol: 17, payload: Buffer.alloc(8) });
  const forged = encodeIpv4Packet({ source: parseIpv4('10.8.0.3')!, destination: parseIpv4('1.1.1.1')!, protocol: 17, payload: Buffer.alloc(8) });

  test('forwards the assigned source, drops any other', () => {
    assert.equal(isSourceAllowed(own, assigned), true);
    assert.equal(checkClientPacket(own, assigned), undefined);
    assert.equal(isSourceAllowed(forged, assigned), false);
    assert.equal(checkClientPacket(forged, assigned), 'spoofed-source');
  });

  test('header validity is checked before the source', () => {
    assert.equal(checkClientPacket(own.subarray(0, 10), assigned), 'too-short');
  });
});

describe('ICMP echo', () => {
  const client = parseIpv4('10.8.0.2')!;
  const gateway = parseIpv4('10.8.0.1')!;
  const request = encodeIcmpEcho({ source: client, destination: gateway, identifier: 0x1234, sequence: 7, payload: Buffer.from('ping data') });

  test('request bytes: IPv4 proto 1, type 8 code 0, id/seq big-endian, valid checksums', () => {
    assert.equal(request.length, 20 + 8 + 9);
    assert.equal(request[9], 1);
    assert.deepEqual([...request.subarray(20, 21)], [8]);
    assert.equal(request.readUInt16BE(24), 0x1234);
    assert.equal(request.readUInt16BE(26), 7);
    assert.equal(internetChecksum(request, 20, request.length), 0);
    const echo = decodeIcmpEcho(request)!;
    assert.equal(echo.type, 8);
    assert.equal(Buffer.from(echo.payload).toString(), 'ping data');
  });

  test('isEchoReplyTo matches the right reply only', () => {
    const reply = encodeIcmpEcho({ source: gateway, destination: client, identifier: 0x1234, sequence: 7, payload: Buffer.from('ping data') }, ICMP_ECHO_REPLY);
    assert.equal(isEchoReplyTo(reply, request), true);
    const otherSeq = encodeIcmpEcho({ source: gateway, destination: client, identifier: 0x1234, sequence: 8, payload: Buffer.from('ping data') }, ICMP_ECHO_REPLY);
    assert.equal(isEchoReplyTo(otherSeq, request), false);
    const corrupt = Buffer.from(reply);
    corrupt[corrupt.length - 1] = corrupt[corrupt.length - 1]! ^ 0xff;
    assert.equal(isEchoReplyTo(corrupt, request), false, 'ICMP checksum must be verified');
    assert.equal(isEchoReplyTo(request, request), false);
  });
});
