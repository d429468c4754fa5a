import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { parseIpv4 } from '../../../../edge-agent/src/datapath/address';
import { internetChecksum, onesComplementSum } from '../../../../edge-agent/src/datapath/checksum';
import { encodeIpv4Packet } from '../../../../edge-agent/src/datapath/ipv4';
import { clampTcpMss, mssForMtu } from '../../../../edge-agent/src/datapath/mss-clamp';

const SRC = parseIpv4('10.8.0.2')!;
const DST = parseIpv4('93.184.216.34')!;

/** TCP checksum over the RFC 9293 §3.1 pseudo-header and the segment. */
function tcpChecksum(packet: Uint8Array): number {
  const seg = packet.subarray(20);
  const pseudo = Buffer.alloc(12);
  pseudo.set(packet.subarray(12, 20), 0);
  pseudo[9] = 6;
  pseudo.writeUInt16BE(seg.length, 10);
  return internetChecksum(seg, 0, seg.length, onesComplementSum(pseudo, 0, 12));
}

/** A SYN (or other flags) with the given option bytes, correct checksums. */
function tcpPacket(options: number[], flags = 0x02, payload: number[] = []): Buffer {
  const padded = [...options];
  while (padded.length % 4) padded.push(0);
  const tcp = Buffer.alloc(20 + padded.length + payload.length);
  tcp.writeUInt16BE(51000, 0);
  tcp.writeUInt16BE(443, 2);
  tcp.writeUInt32BE(0x01020304, 4);
  tcp[12] = ((20 + padded.length) / 4) << 4;
  tcp[13] = flags;
  tcp.writeUInt16BE(64240, 14);
  tcp.set(padded, 20);
  tcp.set(payload, 20 + padded.length);
  const packet = encodeIpv4Packet({ source: SRC, destination: DST, protocol: 6, payload: tcp });
  packet.writeUInt16BE(tcpChecksum(packet), 36);
  return packet;
}

const mssOf = (p: Buffer, at: number) => p.readUInt16BE(at);

describe('TCP MSS clamping', () => {
  test('mssForMtu: 1400 -> 1360', () => assert.equal(mssForMtu(1400), 1360));

  test('SYN with MSS 1460 first (Linux layout) is clamped to 1360 and its checksum stays valid', () => {
    const p = tcpPacket([2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7]);
    assert.equal(tcpChecksum(p), 0);
    assert.equal(clampTcpMss(p, 1360), true);
    assert.equal(mssOf(p, 42), 1360);
    assert.equal(tcpChecksum(p), 0);
  });

  test('MSS at an odd offset (after one NOP) is clamped with a valid checksum', () => {
    const p = tcpPacket([1, 2, 4, 0x05, 0xb4, 1, 1, 1]);
    assert.equal(clampTcpMss(p, 1200), true);
    assert.equal(mssOf(p, 43), 1200);
    assert.equal(tcpChecksum(p), 0);
  });

  test('SYN-ACK is clamped too (both directions)', () => {
    const p = tcpPacket([2, 4, 0x05, 0xb4], 0x12);
    assert.equal(clampTcpMss(p, 1360), true);
    assert.equal(tcpChecksum(p), 0);
  });

  test('leaves a smaller or equal MSS, non-SYN segments, and packets without MSS unchanged', () => {
    for (const [p, label] of [
      [tcpPacket([2, 4, 0x04, 0x00]), 'MSS 1024'],
      [tcpPacket([2, 4, 0x05, 0x50]), 'MSS equal 1360'],
      [tcpPacket([2, 4, 0x05, 0xb4], 0x10), 'ACK only'],
      [tcpPacket([1, 1, 4, 2]), 'no MSS option'],
      [tcpPacket([0, 2, 4, 0x05, 0xb4]), 'MSS after End of Option List'],
    ] as const) {
      const before = Buffer.from(p);
      assert.equal(clampTcpMss(p, 1360), false, label);
      assert.deepEqual(p, before, label);
    }
  });

  test('non-TCP, fragments and malformed options are left alone without throwing', () => {
    const udp = encodeIpv4Packet({ source: SRC, destination: DST, protocol: 17, payload: Buffer.alloc(30, 2) });
    assert.equal(clampTcpMss(udp, 1000), false);
    const frag = tcpPacket([2, 4, 0x05, 0xb4]);
    frag[7] = 1; // fragment offset 8 bytes: no TCP header here
    assert.equal(clampTcpMss(frag, 1000), false);
    const zeroLen = tcpPacket([3, 0, 2, 4, 0x05, 0xb4]);
    assert.equal(clampTcpMss(zeroLen, 1000), false);
    const overrun = tcpPacket([1, 1, 1, 2, 9]);
    assert.equal(clampTcpMss(overrun, 1000), false);
    const truncated = tcpPacket([2, 4, 0x05, 0xb4]);
    truncated[32] = 0xf0; // data offset 60 bytes, beyond the packet
    assert.equal(clampTcpMss(truncated, 1000), false);
  });

  test('property: after clamping, MSS = min(original, max) and the TCP checksum verifies', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 536, max: 1460 }),
        fc.uint8Array({ maxLength: 40 }),
        (nops, mss, max, payload) => {
          const p = tcpPacket([...Array(nops).fill(1), 2, 4, mss >>> 8, mss & 0xff], 0x02, [...payload]);
          clampTcpMss(p, max);
          assert.equal(mssOf(p, 40 + nops + 2), Math.min(mss, max));
          assert.equal(tcpChecksum(p), 0);
        },
      ),
    );
  });
});
