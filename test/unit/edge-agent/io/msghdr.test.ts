import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AF_INET,
  AF_INET6,
  formatIpv6At,
  initSlot,
  parseAddress,
  prepareSendSlot,
  readSockaddr,
  receivedMark,
  slotLayouts,
  writeSockaddr,
} from '../../../../edge-agent/src/io/msghdr';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const viewOf = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

describe('sockaddr layouts (byte vectors)', () => {
  test('sockaddr_in: family little-endian, port and address in network order, zero padding', () => {
    const b = new Uint8Array(16).fill(0xaa);
    assert.equal(writeSockaddr(viewOf(b), 0, parseAddress('198.51.100.7')!, 1701), 16);
    assert.equal(hex(b), '0200' + '06a5' + 'c6336407' + '0000000000000000');
    assert.deepEqual(readSockaddr(viewOf(b), 0), { family: AF_INET, port: 1701, at: 4 });
  });

  test('sockaddr_in6: flow info and scope id zero, 16 address bytes at offset 8', () => {
    const b = new Uint8Array(28).fill(0xaa);
    assert.equal(writeSockaddr(viewOf(b), 0, parseAddress('2001:db8::1')!, 4500), 28);
    assert.equal(hex(b), '0a00' + '1194' + '00000000' + '20010db8000000000000000000000001' + '00000000');
    assert.deepEqual(readSockaddr(viewOf(b), 0), { family: AF_INET6, port: 4500, at: 8 });
  });

  test('other families are not read as peers', () => {
    const b = new Uint8Array(16);
    b[0] = 1; // AF_UNIX
    assert.equal(readSockaddr(viewOf(b), 0), undefined);
  });
});

describe('addresses', () => {
  test('literals parse to their bytes; anything else does not', () => {
    assert.deepEqual(parseAddress('0.0.0.0'), { family: AF_INET, bytes: new Uint8Array(4) });
    assert.equal(hex(parseAddress('::ffff:192.0.2.1')!.bytes), '00000000000000000000ffffc0000201');
    assert.equal(hex(parseAddress('::')!.bytes), '0'.repeat(32));
    assert.equal(hex(parseAddress('fe80::a:b')!.bytes), 'fe80' + '0000'.repeat(5) + '000a000b');
    assert.equal(hex(parseAddress('1:2:3:4:5:6:7:8')!.bytes), '00010002000300040005000600070008');
    for (const bad of ['', 'localhost', '256.1.1.1', '1.2.3', '01.2.3.4', '1.2.3.4.5', '1::2::3', '1:2:3:4:5:6:7:8:9', '12345::', 'fe80::1%eth0', ':::', '1:2:3:4:5:6:7::8:9']) {
      assert.equal(parseAddress(bad), undefined, bad);
    }
  });

  test('IPv6 peers print as node:dgram prints them (RFC 5952; IPv4-mapped dotted)', () => {
    const cases: [string, string][] = [
      ['2001:0db8:0000:0000:0001:0000:0000:0001', '2001:db8::1:0:0:1'],
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
      ['0:0:0:0:0:0:0:0', '::'],
      ['0:0:0:0:0:0:0:1', '::1'],
      ['fe80:0:0:0:a:0:0:0', 'fe80::a:0:0:0'],
      ['::ffff:198.51.100.7', '::ffff:198.51.100.7'],
    ];
    for (const [input, printed] of cases) {
      const b = parseAddress(input)!.bytes;
      assert.equal(formatIpv6At(viewOf(b), 0), printed, input);
    }
  });
});

describe('message slots', () => {
  const base = 0x7f00_1234_5000; // an address above 2^32: pointers must keep their high half
  const u64 = (v: DataView, at: number) => Number(v.getBigUint64(at, true));

  test('each header points at its own name, iovec and control buffer; the iovec at its data', () => {
    const { slots, size } = slotLayouts(2, 4096);
    assert.equal(size, 2 * (64 + 16 + 32 + 64 + 4096));
    const arena = new Uint8Array(size);
    const v = viewOf(arena);
    for (const s of slots) initSlot(v, base, s, 4096);
    const s1 = slots[1]!;
    assert.equal(s1.header, 64);
    assert.equal(u64(v, s1.header + 0), base + s1.name);
    assert.equal(v.getUint32(s1.header + 8, true), 32);
    assert.equal(u64(v, s1.header + 16), base + s1.iov);
    assert.equal(u64(v, s1.header + 24), 1);
    assert.equal(u64(v, s1.header + 32), base + s1.control);
    assert.equal(u64(v, s1.header + 40), 64);
    assert.equal(u64(v, s1.iov), base + s1.data);
    assert.equal(u64(v, s1.iov + 8), 4096);
  });

  test('a send with a mark carries one SOL_SOCKET/SO_MARK control message; without, no control data', () => {
    const { slots, size } = slotLayouts(1, 2048);
    const arena = new Uint8Array(size);
    const v = viewOf(arena);
    const s = slots[0]!;
    initSlot(v, base, s, 2048);
    prepareSendSlot(v, base, s, parseAddress('203.0.113.5')!, 1701, 100, 0xdeadbeef);
    assert.equal(v.getUint32(s.header + 8, true), 16, 'namelen of a sockaddr_in');
    assert.equal(u64(v, s.iov + 8), 100);
    assert.equal(u64(v, s.header + 32), base + s.control);
    assert.equal(u64(v, s.header + 40), 24, 'CMSG_SPACE(4)');
    // struct cmsghdr { size_t len = CMSG_LEN(4) = 20; int level = SOL_SOCKET (1); int type = SO_MARK (36) } + u32
    assert.equal(hex(arena.subarray(s.control, s.control + 24)), '1400000000000000' + '01000000' + '24000000' + 'efbeadde' + '00000000');

    prepareSendSlot(v, base, s, parseAddress('203.0.113.5')!, 1701, 100, 0);
    assert.equal(u64(v, s.header + 32), 0);
    assert.equal(u64(v, s.header + 40), 0);
  });

  test('the received mark is found among the control messages (after another one, 8-byte aligned)', () => {
    const { slots, size } = slotLayouts(1, 64);
    const arena = new Uint8Array(size);
    const v = viewOf(arena);
    const s = slots[0]!;
    // IP_PKTINFO first (level IPPROTO_IP 0, type 8, 12 bytes of data: len 28, space 32), then SO_MARK.
    const control = Buffer.from('1c00000000000000' + '00000000' + '08000000' + '0'.repeat(24) + '00000000' + '1400000000000000' + '01000000' + '24000000' + '07000000', 'hex');
    arena.set(control, s.control);
    v.setBigUint64(s.header + 40, BigInt(control.length), true);
    assert.equal(receivedMark(v, s), 7);
    v.setBigUint64(s.header + 40, 32n, true); // the kernel wrote only the first one
    assert.equal(receivedMark(v, s), 0);
    v.setBigUint64(s.header + 40, 0n, true);
    assert.equal(receivedMark(v, s), 0);
    // A corrupt length stops the walk rather than reading past the buffer.
    arena.set(Buffer.from('ff00000000000000', 'hex'), s.control);
    v.setBigUint64(s.header + 40, 64n, true);
    assert.equal(receivedMark(v, s), 0);
  });
});
