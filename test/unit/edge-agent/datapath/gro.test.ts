/**
 * GRO on the TUN write path (issue 21, datapath/gro.ts): which packets of a batch join into one
 * GSO super-packet and the exact bytes of that super-packet and its virtio_net_hdr. Packets are
 * built here with this file's own checksum loop; a joined super-packet is handed to the fake TUN,
 * which refuses a header the kernel would mis-segment and cuts it as the kernel's GSO would, so
 * every test can demand the original packets back, byte for byte, in each flow's order.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { checkIpv4Packet } from '../../../../edge-agent/src/datapath/ipv4';
import { GroBatch, GRO_MAX_HELD, type GroSink } from '../../../../edge-agent/src/datapath/gro';
import { createFakeTun } from '../../../../edge-agent/src/io/fake-tun';
import { ACK, pattern, PSH, sum16, tcp, tcpRun, udp, udpRun } from '../../../support/gro-packets';

interface Out {
  readonly kind: 'single' | 'super';
  /** What the kernel ends up with: the packet, or the super-packet's segments. */
  readonly packets: Buffer[];
  readonly tags: number[];
  readonly frame?: Buffer;
}

/** Run packets (each in its own buffer with 16 bytes of room before it, as in a frame) through a batch. */
function run(packets: Buffer[], options = { udp: true, tcp: true }): { outs: Out[]; rejected: string[] } {
  const gro = new GroBatch(options);
  packets.forEach((p, i) => {
    const buf = Buffer.concat([Buffer.alloc(16, 0xcc), p]);
    assert.equal(gro.add(buf, 16, buf.length, i), true);
  });
  const { device, peer } = createFakeTun('gro0', options.udp ? 'tso+uso' : 'tso');
  const outs: Out[] = [];
  const sink: GroSink = {
    single(buf, start, end, tag) {
      outs.push({ kind: 'single', packets: [Buffer.from(buf.subarray(start, end))], tags: [tag] });
    },
    coalesced(frame, length, tags, lengths, count) {
      const before = peer.written.length;
      const ok = device.writeWithHeader(frame, length);
      assert.equal(ok, true, `the fake kernel refused the super-packet: ${peer.rejected.join('; ')}`);
      const packets = peer.written.slice(before).map((p) => Buffer.from(p));
      assert.deepEqual(
        packets.map((p) => p.length),
        [...lengths.subarray(0, count)],
      );
      outs.push({ kind: 'super', packets, tags: [...tags.subarray(0, count)], frame: Buffer.from(frame.subarray(0, length)) });
    },
  };
  gro.flush(sink);
  assert.equal(gro.held, 0);
  return { outs, rejected: peer.rejected };
}

/** Every input comes back once, byte for byte, in input order within each output; the shape of the outputs. */
function assertExact(packets: Buffer[], outs: Out[]): string[] {
  const seen = new Set<number>();
  for (const o of outs) {
    o.tags.forEach((tag, k) => {
      assert.ok(!seen.has(tag), `packet ${tag} came out twice`);
      seen.add(tag);
      assert.ok(o.packets[k]!.equals(packets[tag]!), `packet ${tag} changed: ${o.packets[k]!.toString('hex')} vs ${packets[tag]!.toString('hex')}`);
    });
  }
  assert.equal(seen.size, packets.length, 'a packet went missing');
  return outs.map((o) => (o.kind === 'single' ? `${o.tags[0]}` : o.tags.join('+')));
}

describe('GRO for TUN writes: exact bytes', () => {
  test('two UDP datagrams (4 and 2 payload bytes) join into this exact frame: virtio_net_hdr UDP_L4, then one datagram with the pseudo-header sum', () => {
    const a = udp(Buffer.from('ABCD'), { id: 0x1234 });
    const b = udp(Buffer.from('EF'), { id: 0x1235 });
    assert.equal(a.toString('hex'), '45000020123440004011e2890a080002cb007105' + '9c400009000c' + a.subarray(26, 28).toString('hex') + '41424344');
    const { outs } = run([a, b]);
    assert.equal(outs.length, 1);
    // virtio_net_hdr: NEEDS_CSUM, UDP_L4, hdr_len 28, gso_size 4, csum_start 20, csum_offset 6 (little-endian)
    // IPv4: total 34 = 0x22, id 0x1234, checksum over the new length; UDP: length 14, check = pseudo sum
    // IPv4 checksum: ~(4500 + 0022 + 1234 + 4000 + 4011 + 0a08 + 0002 + cb00 + 7105 = 0x21d76 -> 0x1d78) = 0xe287
    // pseudo sum: 0a08 + 0002 + cb00 + 7105 + 0011 + 000e = 0x1462e -> 0x462f
    assert.equal(
      outs[0]!.frame!.toString('hex'),
      '0105' + '1c00' + '0400' + '1400' + '0600' + '45000022123440004011e2870a080002cb007105' + '9c400009000e462f' + '414243444546',
    );
    assertExact([a, b], outs);
  });

  test('two TCP segments (3 and 3 bytes, PSH on the second) join into this exact frame: TCPV4, PSH kept for the last segment only', () => {
    const a = tcp(Buffer.from('abc'), { id: 1, seq: 0xfffffffe });
    const b = tcp(Buffer.from('def'), { id: 2, seq: 0x00000001, tcpFlags: ACK | PSH });
    const { outs } = run([a, b]);
    assert.equal(outs.length, 1);
    // IPv4 checksum: ~(4500 + 002e + 0001 + 4000 + 4006 + 0a08 + 0002 + cb00 + 7105 = 0x20b44 -> 0x0b46) = 0xf4b9
    // pseudo sum: 0a08 + 0002 + cb00 + 7105 + 0006 + 001a (26 = 20 + 6) = 0x1462f -> 0x4630
    assert.equal(
      outs[0]!.frame!.toString('hex'),
      '0101' + '2800' + '0300' + '1400' + '1000' +
        '4500002e000140004006f4b90a080002cb007105' +
        'c73801bbfffffffe0102030450' + '18' + '01f6' + '4630' + '0000' + '616263646566',
    );
    assertExact([a, b], outs);
  });
});

describe('GRO for TUN writes: what joins', () => {
  test('UDP: equal datagrams and a shorter last one join; the next full one starts a new super-packet', () => {
    const packets = udpRun([1200, 1200, 1200, 700, 1200, 1200]);
    const { outs } = run(packets);
    assert.deepEqual(assertExact(packets, outs), ['0+1+2+3', '4+5']);
    assert.equal(outs[0]!.frame!.readUInt16LE(4), 1200, 'gso_size');
  });

  test('UDP: 64 segments at most, and never over 65,535 bytes of IPv4', () => {
    const small = udpRun(new Array<number>(70).fill(100));
    assert.deepEqual(
      run(small).outs.map((o) => o.tags.length),
      [64, 6],
    );
    // 28 + 44 * 1472 = 64,796; a 45th would make 66,268
    const big = udpRun(new Array<number>(50).fill(1472));
    const { outs } = run(big);
    assert.deepEqual(
      outs.map((o) => o.tags.length),
      [44, 6],
    );
    assertExact(big, outs);
  });

  test('interleaved flows (sessions round-robin) join per flow; each flow keeps its order; the first packet sets the position', () => {
    const a = udpRun([500, 500, 500], 10, { sport: 1000 });
    const b = udpRun([300, 300, 300], 20, { source: '10.8.0.3' });
    const c = tcpRun([400, 400, 400]);
    const packets = [a[0]!, b[0]!, c[0]!, a[1]!, b[1]!, c[1]!, a[2]!, b[2]!, c[2]!];
    const { outs } = run(packets);
    assert.deepEqual(assertExact(packets, outs), ['0+3+6', '1+4+7', '2+5+8']);
  });

  test('a flow whose packets cannot join the earlier item never jumps back before a later one', () => {
    // a0 a1 join; a2 has an id gap (new item); a3 could follow a1 by id... but only the flow's latest item takes packets
    const a = udpRun([500, 500], 40);
    const a2 = udp(pattern(500, 9), { id: 50 });
    const a3 = udp(pattern(500, 10), { id: 51 });
    const packets = [...a, a2, a3];
    assert.deepEqual(assertExact(packets, run(packets).outs), ['0+1', '2+3']);
  });

  test('TCP: contiguous ACK segments join; PSH ends the super-packet; the IP id wraps from 65535 to 0', () => {
    const packets = tcpRun([1000, 1000, 1000], 5000, 65534);
    packets.push(...tcpRun([1000], 8000, 1));
    const psh = tcp(pattern(500, 3), { id: 2, seq: 9000, tcpFlags: ACK | PSH });
    const after = tcp(pattern(500, 4), { id: 3, seq: 9500 });
    const all = [...packets, psh, after];
    assert.deepEqual(assertExact(all, run(all).outs), ['0+1+2+3+4', '5']);
  });

  test('without USO (offloads "tso") UDP datagrams are never joined; TCP still is', () => {
    const packets = [...udpRun([500, 500]), ...tcpRun([500, 500])];
    assert.deepEqual(assertExact(packets, run(packets, { udp: false, tcp: true }).outs), ['0', '1', '2+3']);
  });
});

describe('GRO for TUN writes: what stays alone', () => {
  const cases: { name: string; second: (first: Buffer) => Buffer; first?: Buffer }[] = [
    { name: 'the same IP id (no +1)', second: () => udp(pattern(500, 1), { id: 100 }) },
    { name: 'an IP id gap of 2', second: () => udp(pattern(500, 1), { id: 102 }) },
    { name: 'another TOS', second: () => udp(pattern(500, 1), { id: 101, tos: 0x10 }) },
    { name: 'another TTL', second: () => udp(pattern(500, 1), { id: 101, ttl: 63 }) },
    { name: 'DF cleared', second: () => udp(pattern(500, 1), { id: 101, flags: 0 }) },
    { name: 'IP options', second: () => udp(pattern(500, 1), { id: 101, options: [1, 1, 1, 0] }) },
    { name: 'a larger payload than the first', second: () => udp(pattern(501, 1), { id: 101 }) },
    { name: 'another source port', second: () => udp(pattern(500, 1), { id: 101, sport: 40001 }) },
    { name: 'another destination', second: () => udp(pattern(500, 1), { id: 101, destination: '203.0.113.6' }) },
    { name: 'no UDP checksum (0: segments would get one)', second: () => udp(pattern(500, 1), { id: 101, noChecksum: true }) },
    { name: 'a first fragment (MF)', second: () => udp(pattern(500, 1), { id: 101, flags: 0x20 }) },
    { name: 'a first datagram with no UDP checksum', first: udp(pattern(500, 0), { id: 100, noChecksum: true }), second: () => udp(pattern(500, 1), { id: 101 }) },
    { name: 'a first datagram with MF set', first: udp(pattern(500, 0), { id: 100, flags: 0x20 }), second: () => udp(pattern(500, 1), { id: 101, flags: 0x20 }) },
    {
      name: 'a UDP length field that disagrees with the IP length',
      second: () => {
        const p = udp(pattern(500, 1), { id: 101 });
        p.writeUInt16BE(400, 24);
        return p;
      },
    },
  ];
  for (const c of cases) {
    test(`UDP: ${c.name}`, () => {
      const first = c.first ?? udp(pattern(500, 0), { id: 100 });
      const packets = [first, c.second(first)];
      assert.deepEqual(assertExact(packets, run(packets).outs), ['0', '1']);
    });
  }

  const tcpCases: { name: string; first?: Buffer; second: Buffer }[] = [
    { name: 'a sequence gap', second: tcp(pattern(100, 1), { id: 8, seq: 1101 }) },
    { name: 'a sequence overlap', second: tcp(pattern(100, 1), { id: 8, seq: 1099 }) },
    { name: 'another ack', second: tcp(pattern(100, 1), { id: 8, seq: 1100, ack: 0x01020305 }) },
    { name: 'another window', second: tcp(pattern(100, 1), { id: 8, seq: 1100, window: 503 }) },
    { name: 'FIN', second: tcp(pattern(100, 1), { id: 8, seq: 1100, tcpFlags: ACK | 0x01 }) },
    { name: 'RST', second: tcp(pattern(100, 1), { id: 8, seq: 1100, tcpFlags: ACK | 0x04 }) },
    { name: 'URG', second: tcp(pattern(100, 1), { id: 8, seq: 1100, tcpFlags: ACK | 0x20 }) },
    { name: 'ECE', second: tcp(pattern(100, 1), { id: 8, seq: 1100, tcpFlags: ACK | 0x40 }) },
    { name: 'CWR', second: tcp(pattern(100, 1), { id: 8, seq: 1100, tcpFlags: ACK | 0x80 }) },
    { name: 'no ACK', second: tcp(pattern(100, 1), { id: 8, seq: 1100, tcpFlags: 0 }) },
    { name: 'a pure ACK (no payload)', second: tcp(Buffer.alloc(0), { id: 8, seq: 1100 }) },
    { name: 'other options (timestamps differ)', first: tcp(pattern(100, 0), { id: 7, seq: 1000, tcpOptions: [1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2] }), second: tcp(pattern(100, 1), { id: 8, seq: 1100, tcpOptions: [1, 1, 8, 10, 0, 0, 0, 2, 0, 0, 0, 2] }) },
    { name: 'options on one only', second: tcp(pattern(100, 1), { id: 8, seq: 1100, tcpOptions: [1, 1, 1, 1] }) },
    { name: 'PSH on the first (the kernel would clear it)', first: tcp(pattern(100, 0), { id: 7, seq: 1000, tcpFlags: ACK | PSH }), second: tcp(pattern(100, 1), { id: 8, seq: 1100 }) },
    { name: 'a SYN first', first: tcp(Buffer.alloc(0), { id: 7, seq: 1000, tcpFlags: 0x02 }), second: tcp(pattern(100, 1), { id: 8, seq: 1001 }) },
    { name: 'a pure ACK first', first: tcp(Buffer.alloc(0), { id: 7, seq: 1100 }), second: tcp(pattern(100, 1), { id: 8, seq: 1100 }) },
  ];
  for (const c of tcpCases) {
    test(`TCP: ${c.name}`, () => {
      const packets = [c.first ?? tcp(pattern(100, 0), { id: 7, seq: 1000 }), c.second];
      assert.deepEqual(assertExact(packets, run(packets).outs), ['0', '1']);
    });
  }

  test('TCP with the same options on every segment (timestamps) joins, options repeated by the kernel', () => {
    const ts = [1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2];
    const packets = [tcp(pattern(100, 0), { id: 7, seq: 1000, tcpOptions: ts }), tcp(pattern(100, 1), { id: 8, seq: 1100, tcpOptions: ts })];
    const { outs } = run(packets);
    assert.deepEqual(assertExact(packets, outs), ['0+1']);
    assert.equal(outs[0]!.frame!.readUInt16LE(2), 52, 'hdr_len: 20 + 32');
  });
});

describe('GRO for TUN writes: checksums are verified, never laundered', () => {
  function corrupt(p: Buffer): Buffer {
    const c = Buffer.from(p);
    c[c.length - 1] = c[c.length - 1]! ^ 0x01;
    return c;
  }

  test('a UDP datagram with a bad checksum in the middle goes alone, unchanged; its neighbours do not join across it', () => {
    const [a, b, c, d] = udpRun([500, 500, 500, 500]);
    const packets = [a!, corrupt(b!), c!, d!];
    const { outs } = run(packets);
    assert.deepEqual(assertExact(packets, outs), ['0', '1', '2+3']);
    assert.ok(outs[1]!.packets[0]!.equals(packets[1]!), 'the corrupt datagram is handed on as it came, for the kernel to drop');
  });

  test('a first datagram with a bad checksum goes alone; the next ones join among themselves', () => {
    const [a, b, c] = udpRun([500, 500, 500]);
    const packets = [corrupt(a!), b!, c!];
    assert.deepEqual(assertExact(packets, run(packets).outs), ['0', '1+2']);
  });

  test('a TCP segment with a bad checksum goes alone', () => {
    const [a, b, c] = tcpRun([300, 300, 300]);
    const packets = [a!, b!, corrupt(c!)];
    assert.deepEqual(assertExact(packets, run(packets).outs), ['0+1', '2']);
  });

  test('a bad checksum whose error is only in the pseudo-header (a rewritten destination) is caught too', () => {
    const [a, b] = udpRun([500, 500]);
    const moved = Buffer.from(b!);
    moved[19] = 6; // destination .5 -> .6 without fixing the UDP checksum (the IP checksum fixed)
    moved.writeUInt16BE(0, 10);
    moved.writeUInt16BE(~sum16(moved.subarray(0, 20)) & 0xffff, 10);
    const packets = [a!, moved];
    assert.deepEqual(assertExact(packets, run(packets).outs), ['0', '1']);
  });
});

describe('GRO for TUN writes: hostile input and limits', () => {
  test(`holds ${GRO_MAX_HELD} packets at most: add answers false, then takes more after a flush`, () => {
    const gro = new GroBatch({ udp: true, tcp: true });
    const p = udp(pattern(100, 0), { id: 1 });
    for (let i = 0; i < GRO_MAX_HELD; i++) assert.equal(gro.add(p, 0, p.length, i), true);
    assert.equal(gro.full, true);
    assert.equal(gro.add(p, 0, p.length, 999), false);
    let n = 0;
    gro.flush({ single: () => n++, coalesced: () => assert.fail('identical ids never join') });
    assert.equal(n, GRO_MAX_HELD);
    assert.equal(gro.add(p, 0, p.length, 0), true);
  });

  test('a sink that throws still leaves the batch empty (no stale views kept)', () => {
    const gro = new GroBatch({ udp: true, tcp: true });
    for (const p of udpRun([100, 100, 100])) gro.add(p, 0, p.length, 0);
    assert.throws(() =>
      gro.flush({
        single: () => {},
        coalesced: () => {
          throw new Error('sink failed');
        },
      }),
    );
    assert.equal(gro.held, 0);
  });

  test('random bytes (whatever their header claims): never throws, every packet comes out once', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 0, maxLength: 120 }), { maxLength: 40 }), (arrays) => {
        const gro = new GroBatch({ udp: true, tcp: true });
        arrays.forEach((b, i) => gro.add(b, 0, b.length, i));
        const seen: number[] = [];
        gro.flush({ single: (_b, _s, _e, tag) => seen.push(tag), coalesced: (_f, _l, tags, _lengths, count) => seen.push(...tags.subarray(0, count)) });
        assert.deepEqual(seen.sort((x, y) => x - y), arrays.map((_, i) => i));
      }),
      { numRuns: 300 },
    );
  });

  test('mutated real packets (valid IPv4 headers, as the data path hands them over): joins only what the fake kernel accepts and segments back to the originals', () => {
    const base = [...udpRun([300, 300, 300, 200]), ...tcpRun([300, 300, 300])];
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.uint8Array({ minLength: 0, maxLength: 80 }).map((b) => Buffer.from(b)),
            fc.nat(base.length - 1).map((i) => Buffer.from(base[i]!)),
            fc.record({ i: fc.nat(base.length - 1), at: fc.nat(400), value: fc.integer({ min: 0, max: 255 }) }).map(({ i, at, value }) => {
              const p = Buffer.from(base[i]!);
              if (at < p.length) p[at] = value;
              return p;
            }),
            fc.nat(base.length - 1).map((i) => base[i]!),
          ),
          { maxLength: 40 },
        ),
        (mutated) => {
          // The data path validates the IPv4 header and trims to its total length first.
          const packets = mutated.filter((p) => checkIpv4Packet(p) === undefined && p.readUInt16BE(2) === p.length);
          const { outs, rejected } = run(packets);
          assert.deepEqual(rejected, []);
          assertExact(packets, outs);
        },
      ),
      { numRuns: 300 },
    );
  });
});
