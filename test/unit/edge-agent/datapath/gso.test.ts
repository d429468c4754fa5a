/**
 * TUN offloads (issue 21): the virtio_net_hdr parser, the completion of a partial checksum and the
 * segmentation of TCP/UDP super-packets, against packets built independently here (RFC 791 headers,
 * RFC 9293 / RFC 768 checksums computed by this file's own 16-bit loop, not by the code under test).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { parseIpv4 } from '../../../../edge-agent/src/datapath/address';
import { encodeIpv4Packet } from '../../../../edge-agent/src/datapath/ipv4';
import { completeChecksum, GSO_NONE, GSO_TCPV4, GSO_UDP_L4, GsoSegmenter, readVirtioNetHeader, type TunOffload } from '../../../../edge-agent/src/datapath/gso';

const SRC = parseIpv4('93.184.216.34')!;
const DST = parseIpv4('10.8.0.2')!;

/** Plain RFC 1071 sum, 16 bits at a time, folded (the reference). */
function sum16(bytes: Uint8Array, initial = 0): number {
  let sum = initial;
  for (let i = 0; i < bytes.length; i += 2) sum += (bytes[i]! << 8) | (bytes[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** Sum of the pseudo-header (source, destination, protocol, transport length) and the transport bytes. */
function transportSum(packet: Uint8Array): number {
  const ihl = (packet[0]! & 0x0f) * 4;
  const total = (packet[2]! << 8) | packet[3]!;
  const pseudo = Buffer.alloc(12);
  pseudo.set(packet.subarray(12, 20), 0);
  pseudo[9] = packet[9]!;
  pseudo.writeUInt16BE(total - ihl, 10);
  return sum16(packet.subarray(ihl, total), sum16(pseudo));
}

/** A packet whose IPv4 and transport checksums verify sums both to 0xffff. */
function assertChecksumsValid(packet: Uint8Array, what: string): void {
  const ihl = (packet[0]! & 0x0f) * 4;
  assert.equal(sum16(packet.subarray(0, ihl)), 0xffff, `${what}: IPv4 header checksum`);
  assert.equal(transportSum(packet), 0xffff, `${what}: transport checksum`);
}

function pattern(length: number, seed = 1): Buffer {
  const b = Buffer.alloc(length);
  for (let i = 0; i < length; i++) b[i] = (i * 31 + seed * 7 + (i >>> 8)) & 0xff;
  return b;
}

interface TcpFields {
  readonly seq: number;
  readonly flags: number;
  readonly options?: readonly number[];
  readonly id?: number;
  readonly ipOptions?: readonly number[];
}

/** An IPv4/TCP packet with both checksums right (the kernel's super-packets carry some checksum; we recompute). */
function tcpPacket(payload: Uint8Array, f: TcpFields): Buffer {
  const options = [...(f.options ?? [])];
  while (options.length % 4) options.push(1);
  const tcp = Buffer.alloc(20 + options.length + payload.length);
  tcp.writeUInt16BE(443, 0);
  tcp.writeUInt16BE(51000, 2);
  tcp.writeUInt32BE(f.seq >>> 0, 4);
  tcp.writeUInt32BE(0x11223344, 8);
  tcp[12] = ((20 + options.length) / 4) << 4;
  tcp[13] = f.flags;
  tcp.writeUInt16BE(501, 14);
  tcp.set(options, 20);
  tcp.set(payload, 20 + options.length);
  return withIpOptions(encodeIpv4Packet({ source: SRC, destination: DST, protocol: 6, payload: tcp, identification: f.id ?? 0x1234, dontFragment: true }), f.ipOptions, 16);
}

function udpPacket(payload: Uint8Array, id = 0x4321, ipOptions?: readonly number[]): Buffer {
  const udp = Buffer.alloc(8 + payload.length);
  udp.writeUInt16BE(4433, 0);
  udp.writeUInt16BE(53000, 2);
  udp.writeUInt16BE(udp.length, 4);
  udp.set(payload, 8);
  return withIpOptions(encodeIpv4Packet({ source: SRC, destination: DST, protocol: 17, payload: udp, identification: id }), ipOptions, 6);
}

/** Insert IPv4 options (padded to 4) and set the transport checksum (at `checksumAt` from the transport header). */
function withIpOptions(packet: Buffer, ipOptions: readonly number[] | undefined, checksumAt: number): Buffer {
  let p = packet;
  if (ipOptions && ipOptions.length > 0) {
    const opts = [...ipOptions];
    while (opts.length % 4) opts.push(0);
    p = Buffer.concat([packet.subarray(0, 20), Buffer.from(opts), packet.subarray(20)]);
    p[0] = 0x40 | ((20 + opts.length) / 4);
    p.writeUInt16BE(p.length, 2);
    p.writeUInt16BE(0, 10);
    p.writeUInt16BE(~sum16(p.subarray(0, 20 + opts.length)) & 0xffff, 10);
  }
  const ihl = (p[0]! & 0x0f) * 4;
  p.writeUInt16BE(0, ihl + checksumAt);
  p.writeUInt16BE(~transportSum(p) & 0xffff || 0xffff, ihl + checksumAt);
  return p;
}

/** All segments of a loaded super-packet, each joined into one packet. */
function segments(segmenter: GsoSegmenter, superPacket: Uint8Array, count: number): Buffer[] {
  const out: Buffer[] = [];
  const head = Buffer.alloc(200);
  for (let i = 0; i < count; i++) {
    const headers = segmenter.writeHeaders(i, head, 13);
    out.push(Buffer.concat([head.subarray(13, 13 + headers), superPacket.subarray(segmenter.payloadStart(i), segmenter.payloadStop(i))]));
  }
  return out;
}

describe('virtio_net_hdr', () => {
  const offload = (): TunOffload => ({ gsoType: -1, gsoSize: -1, needsChecksum: false, checksumStart: -1, checksumOffset: -1 });

  test('a UDP GSO header as this kernel (6.18) wrote it: NEEDS_CSUM, UDP_L4, hdr_len 28, gso_size 1372, csum 20+6', () => {
    const o = offload();
    assert.equal(readVirtioNetHeader(Uint8Array.from([1, 5, 28, 0, 92, 5, 20, 0, 6, 0]), o), true);
    assert.deepEqual(o, { gsoType: GSO_UDP_L4, gsoSize: 1372, needsChecksum: true, checksumStart: 20, checksumOffset: 6 });
  });

  test('an all-zero header asks for nothing; the ECN bit is masked off the GSO type', () => {
    assert.equal(readVirtioNetHeader(new Uint8Array(10), offload()), false);
    const o = offload();
    assert.equal(readVirtioNetHeader(Uint8Array.from([1, 0x81, 52, 0, 0x50, 0x05, 20, 0, 16, 0]), o), true);
    assert.equal(o.gsoType, GSO_TCPV4);
    assert.equal(o.gsoSize, 1360);
    assert.equal(o.checksumOffset, 16);
  });
});

describe('completing a partial checksum (NEEDS_CSUM)', () => {
  test('the field holding the pseudo-header sum becomes the full UDP checksum', () => {
    const full = udpPacket(pattern(333));
    const expected = full.readUInt16BE(26);
    // What the kernel hands over: the field holds the (uncomplemented) pseudo-header sum.
    const partial = Buffer.from(full);
    const pseudo = Buffer.alloc(12);
    partial.copy(pseudo, 0, 12, 20);
    pseudo[9] = 17;
    pseudo.writeUInt16BE(full.length - 20, 10);
    partial.writeUInt16BE(sum16(pseudo), 26);
    assert.equal(completeChecksum(partial, partial.length, 20, 6), true);
    assert.equal(partial.readUInt16BE(26), expected);
    assertChecksumsValid(partial, 'completed');
  });

  test('offsets outside the packet are refused and change nothing', () => {
    const p = udpPacket(pattern(40));
    const copy = Buffer.from(p);
    assert.equal(completeChecksum(p, p.length, 20, p.length), false);
    assert.equal(completeChecksum(p, p.length, p.length, 0), false);
    assert.equal(completeChecksum(p, p.length + 1, 20, 6), false);
    assert.deepEqual(p, copy);
  });
});

describe('segmenting a TCP super-packet (TSO)', () => {
  const mss = 1360;
  const payload = pattern(mss * 3 + 100);
  // ACK|PSH|FIN|CWR on the super-packet; timestamps option (12 bytes incl. 2 NOPs).
  const superPacket = tcpPacket(payload, { seq: 0xfffff000, flags: 0x10 | 0x08 | 0x01 | 0x80, options: [1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2], id: 0xfffe });

  test('each segment is exactly the packet the sender would have sent without TSO', () => {
    const segmenter = new GsoSegmenter();
    const count = segmenter.load(superPacket, GSO_TCPV4, mss);
    assert.equal(count, 4);
    const got = segments(segmenter, superPacket, count);
    for (let i = 0; i < count; i++) {
      const flags = 0x10 | (i === count - 1 ? 0x08 | 0x01 : 0) | (i === 0 ? 0x80 : 0);
      const expected = tcpPacket(payload.subarray(i * mss, Math.min((i + 1) * mss, payload.length)), {
        seq: (0xfffff000 + i * mss) >>> 0, // wraps past 2^32 at segment 3
        flags,
        options: [1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2],
        id: (0xfffe + i) & 0xffff, // 0xfffe, 0xffff, 0, 1
      });
      assert.deepEqual(got[i], expected, `segment ${i}`);
    }
  });

  test('bytes beyond the IPv4 total length (link padding) are not sent', () => {
    const padded = Buffer.concat([superPacket, Buffer.alloc(7, 0xee)]);
    const segmenter = new GsoSegmenter();
    const count = segmenter.load(padded, GSO_TCPV4, mss);
    assert.equal(count, 4);
    assert.equal(segmenter.payloadStop(count - 1), superPacket.length);
  });
});

describe('segmenting a UDP super-packet (USO)', () => {
  test('every segment is a UDP datagram of its own, with its own length and checksum', () => {
    const size = 1372;
    const payload = pattern(size * 5 + 1, 3); // an odd last segment of 1 byte
    const superPacket = udpPacket(payload, 7);
    const segmenter = new GsoSegmenter();
    const count = segmenter.load(superPacket, GSO_UDP_L4, size);
    assert.equal(count, 6);
    const got = segments(segmenter, superPacket, count);
    for (let i = 0; i < count; i++) {
      const expected = udpPacket(payload.subarray(i * size, Math.min((i + 1) * size, payload.length)), 7 + i);
      assert.deepEqual(got[i], expected, `segment ${i}`);
    }
  });
});

describe('any super-packet, any cut (property)', () => {
  test('segments carry the payload in order, within the segment size, with valid checksums', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.integer({ min: 1, max: 9000 }),
        fc.integer({ min: 1, max: 1460 }),
        fc.integer({ min: 0, max: 10 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.boolean(),
        (tcp, length, size, tcpOptionWords, seq, ipOption) => {
          const payload = pattern(length, length);
          const ipOptions = ipOption ? [0x94, 4, 0, 0] : undefined; // Router Alert
          const p = tcp
            ? tcpPacket(payload, { seq, flags: 0x18, options: new Array(tcpOptionWords * 4).fill(1), ...(ipOptions ? { ipOptions } : {}) })
            : udpPacket(payload, 9, ipOptions);
          const segmenter = new GsoSegmenter();
          const count = segmenter.load(p, tcp ? GSO_TCPV4 : GSO_UDP_L4, size);
          assert.equal(count, Math.ceil(length / size));
          const got = segments(segmenter, p, count);
          const joined = Buffer.concat(got.map((s) => s.subarray(((s[0]! & 0x0f) * 4) + (tcp ? (s[((s[0]! & 0x0f) * 4) + 12]! >>> 4) * 4 : 8))));
          assert.deepEqual(joined, payload);
          got.forEach((s, i) => {
            assertChecksumsValid(s, `segment ${i}`);
            assert.equal(s.readUInt16BE(2), s.length);
          });
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('super-packets that do not add up are refused whole', () => {
  const good = () => tcpPacket(pattern(3000), { seq: 1, flags: 0x10 });
  const cases: [string, () => { packet: Buffer; type: number; size: number }][] = [
    ['a GSO size of 0', () => ({ packet: good(), type: GSO_TCPV4, size: 0 })],
    ['TCP GSO on a UDP packet', () => ({ packet: udpPacket(pattern(3000)), type: GSO_TCPV4, size: 1000 })],
    ['UDP GSO on a TCP packet', () => ({ packet: good(), type: GSO_UDP_L4, size: 1000 })],
    ['an unknown GSO type (UFO, TCPv6)', () => ({ packet: good(), type: 3, size: 1000 })],
    ['no GSO type', () => ({ packet: good(), type: GSO_NONE, size: 1000 })],
    ['a fragment', () => ({ packet: Object.assign(good(), {}).fill(0x20, 6, 7), type: GSO_TCPV4, size: 1000 })],
    ['a total length beyond the bytes read', () => ({ packet: good().subarray(0, 2000) as Buffer, type: GSO_TCPV4, size: 1000 })],
    ['a TCP data offset below 5 words', () => ({ packet: (() => { const p = good(); p[32] = 0x40; return p; })(), type: GSO_TCPV4, size: 1000 })],
    ['headers and no payload', () => ({ packet: tcpPacket(Buffer.alloc(0), { seq: 1, flags: 0x10 }), type: GSO_TCPV4, size: 1000 })],
  ];
  for (const [name, make] of cases) {
    test(name, () => {
      const { packet, type, size } = make();
      const copy = Buffer.from(packet);
      assert.equal(new GsoSegmenter().load(packet, type, size), 0);
      assert.deepEqual(packet, copy, 'nothing changed');
    });
  }

  test('random bytes never throw and never yield a segment reaching past the packet', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 20, maxLength: 400 }), fc.constantFrom(GSO_TCPV4, GSO_UDP_L4, 3, 4), fc.integer({ min: 0, max: 0xffff }), (bytes, type, size) => {
        const packet = Buffer.from(bytes);
        packet[0] = 0x40 | (packet[0]! & 0x0f);
        const segmenter = new GsoSegmenter();
        const count = segmenter.load(packet, type, size);
        const head = Buffer.alloc(200);
        for (let i = 0; i < count; i++) {
          segmenter.writeHeaders(i, head, 0);
          assert.ok(segmenter.payloadStop(i) <= packet.length);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
