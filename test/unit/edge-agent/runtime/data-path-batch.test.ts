/**
 * The data path over bursts (issue 21): many packets per TUN wake-up and per received batch, the
 * frames assembled from two parts (headers, then the packet) in the socket. Exactness per packet:
 * each frame goes to its own session's peer with that session's headers, a bad packet in the middle
 * of a burst is dropped alone, the MSS clamp and the counters hold for every packet.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseIpv4 } from '../../../../edge-agent/src/datapath/address';
import { internetChecksum, onesComplementSum } from '../../../../edge-agent/src/datapath/checksum';
import { encodeIpv4Packet } from '../../../../edge-agent/src/datapath/ipv4';
import { createFakeTun } from '../../../../edge-agent/src/io/fake-tun';
import type { DatagramSocket, RemoteInfo } from '../../../../edge-agent/src/io/datagram';
import { decodeDataHeader, L2tpDecodeError } from '../../../../edge-agent/src/l2tp';
import { DataPath, SessionCounters, type DataSession } from '../../../../edge-agent/src/runtime/data-path';

interface Sent {
  readonly bytes: Buffer;
  readonly port: number;
  readonly address: string;
  readonly mark: number;
}

/** A socket that records what leaves it; `sendParts` must equal `send` of the joined parts. */
function recordingSocket(): DatagramSocket & { sent: Sent[] } {
  const sent: Sent[] = [];
  return {
    sent,
    address: '192.0.2.1',
    port: 1701,
    marks: true,
    send(data, port, address, mark = 0) {
      sent.push({ bytes: Buffer.from(data), port, address, mark });
    },
    sendParts(head, headLength, body, port, address, mark = 0) {
      sent.push({ bytes: Buffer.concat([head.subarray(0, headLength), body]), port, address, mark });
    },
    onMessage(_handler: (data: Buffer, remote: RemoteInfo) => void) {},
    onError() {},
    close: () => Promise.resolve(),
  };
}

let slots = 0;
function session(address: string, over: Partial<DataSession> = {}): DataSession & { frames: number } {
  const s = {
    localTunnelId: 7,
    localSessionId: 100 + slots,
    peerTunnelId: 70,
    peerSessionId: 200 + slots,
    peer: { address: `198.51.100.${10 + slots}`, port: 1701, mark: slots },
    address: parseIpv4(address)!,
    counterSlot: slots++,
    forwarding: true,
    acfc: false,
    pfc: false,
    dataNs: -1,
    mss: 1360,
    frames: 0,
    onPppFrame() {
      s.frames++;
    },
    ...over,
  };
  return s;
}

/** IPv4/UDP packet of `size` bytes, checksums right. */
function udp(source: string, destination: string, size: number, fill = 0x5a): Buffer {
  const payload = Buffer.alloc(size - 20, fill);
  payload.writeUInt16BE(40000, 0);
  payload.writeUInt16BE(9, 2);
  payload.writeUInt16BE(size - 20, 4);
  payload.writeUInt16BE(0, 6);
  return encodeIpv4Packet({ source: parseIpv4(source)!, destination: parseIpv4(destination)!, protocol: 17, payload });
}

/** TCP SYN with an MSS option of `mss`, checksums right. */
function syn(source: string, destination: string, mss: number): Buffer {
  const tcp = Buffer.alloc(24);
  tcp.writeUInt16BE(443, 0);
  tcp.writeUInt16BE(51000, 2);
  tcp[12] = 6 << 4;
  tcp[13] = 0x02;
  tcp.writeUInt16BE(64240, 14);
  tcp.set([2, 4, mss >> 8, mss & 0xff], 20);
  const packet = encodeIpv4Packet({ source: parseIpv4(source)!, destination: parseIpv4(destination)!, protocol: 6, payload: tcp });
  packet.writeUInt16BE(tcpChecksum(packet), 36);
  return packet;
}

function tcpChecksum(packet: Uint8Array): number {
  const seg = Buffer.from(packet.subarray(20));
  seg.writeUInt16BE(0, 16);
  const pseudo = Buffer.alloc(12);
  pseudo.set(packet.subarray(12, 20), 0);
  pseudo[9] = 6;
  pseudo.writeUInt16BE(seg.length, 10);
  return internetChecksum(seg, 0, seg.length, onesComplementSum(pseudo, 0, 12));
}

/** The L2TP data frame (no length, no sequence unless `ns`) + uncompressed PPP around `packet`, as a client sends it. */
function clientFrame(s: DataSession, packet: Uint8Array): Buffer {
  const head = Buffer.from([0x00, 0x02, s.localTunnelId >> 8, s.localTunnelId & 0xff, s.localSessionId >> 8, s.localSessionId & 0xff, 0xff, 0x03, 0x00, 0x21]);
  return Buffer.concat([head, packet]);
}

function setup() {
  const socket = recordingSocket();
  const { device, peer } = createFakeTun('tbbatch0');
  const counters = new SessionCounters();
  const path = new DataPath(socket, device, counters);
  device.onPacket((packet, offload) => path.fromTun(packet, offload));
  return { socket, peer, counters, path };
}

describe('data path bursts from the TUN', () => {
  test('a burst mixing sessions: each frame to its own peer with its own headers, counters exact, unknown destinations dropped alone', () => {
    const { socket, peer, counters, path } = setup();
    const a = session('10.8.0.2');
    const b = session('10.8.0.3', { acfc: true, pfc: true, dataNs: 65535 });
    path.routes.add(a);
    path.routes.add(b);
    const burst = [
      udp('203.0.113.5', '10.8.0.2', 1400, 1),
      udp('203.0.113.5', '10.8.0.3', 64, 2),
      udp('203.0.113.5', '10.8.0.9', 512, 3), // nobody's
      udp('203.0.113.5', '10.8.0.3', 1400, 4),
      udp('203.0.113.5', '10.8.0.2', 512, 5),
    ];
    for (const p of burst) peer.inject(p);

    assert.equal(socket.sent.length, 4);
    assert.equal(path.drops['no-route'], 1);
    const expect = [
      { s: a, p: burst[0]!, head: 10, ns: -1 },
      { s: b, p: burst[1]!, head: 11, ns: 65535 },
      { s: b, p: burst[3]!, head: 11, ns: 0 },
      { s: a, p: burst[4]!, head: 10, ns: -1 },
    ];
    expect.forEach(({ s, p, head, ns }, i) => {
      const out = socket.sent[i]!;
      assert.equal(out.address, s.peer.address, `frame ${i} peer`);
      assert.equal(out.mark, s.peer.mark, `frame ${i} mark`);
      const view = decodeDataHeader(out.bytes);
      if (view instanceof L2tpDecodeError) assert.fail(`frame ${i} does not decode: ${view.message}`);
      assert.equal(view.tunnelId, s.peerTunnelId);
      assert.equal(view.sessionId, s.peerSessionId);
      assert.equal(view.ns, ns, `frame ${i} Ns`);
      assert.deepEqual(out.bytes.subarray(head), p, `frame ${i} carries its packet unchanged`);
    });
    // PPP header: uncompressed for a, ACFC + PFC for b (RFC 1661 §6.5/6.6).
    assert.deepEqual([...socket.sent[0]!.bytes.subarray(6, 10)], [0xff, 0x03, 0x00, 0x21]);
    assert.equal(socket.sent[1]!.bytes[10], 0x21);
    assert.deepEqual(counters.read(a.counterSlot), { bytesIn: 0, bytesOut: 1400 + 512, packetsIn: 0, packetsOut: 2 });
    assert.deepEqual(counters.read(b.counterSlot), { bytesIn: 0, bytesOut: 64 + 1400, packetsIn: 0, packetsOut: 2 });
  });

  test('the MSS clamp applies to the packet inside the frame, per packet of a burst', () => {
    const { socket, peer, path } = setup();
    const a = session('10.8.0.2', { mss: 1300 });
    path.routes.add(a);
    const big = syn('203.0.113.5', '10.8.0.2', 1460);
    const small = syn('203.0.113.5', '10.8.0.2', 1200);
    peer.inject(big);
    peer.inject(small);
    const first = socket.sent[0]!.bytes.subarray(10);
    const second = socket.sent[1]!.bytes.subarray(10);
    assert.equal(first.readUInt16BE(42), 1300, 'clamped');
    assert.equal(tcpChecksum(first), first.readUInt16BE(36), 'checksum fixed');
    assert.deepEqual(second, small, 'below the limit: untouched');
    assert.equal(big.readUInt16BE(42), 1460, "the caller's packet is not edited (the TUN's read buffer is)");
  });
});

describe('data path bursts from clients', () => {
  test('a spoofed packet in the middle of a burst is dropped alone; the others reach the TUN and the counters exactly', () => {
    const { peer, counters, path } = setup();
    const a = session('10.8.0.2');
    const b = session('10.8.0.3');
    path.routes.add(a);
    path.routes.add(b);
    const burst: [DataSession, Buffer][] = [
      [a, udp('10.8.0.2', '203.0.113.5', 1400, 1)],
      [b, udp('10.8.0.3', '203.0.113.5', 64, 2)],
      [a, udp('10.8.0.3', '203.0.113.5', 512, 3)], // a claims b's address
      [b, udp('10.8.0.3', '203.0.113.5', 512, 4)],
      [a, udp('10.8.0.2', '203.0.113.5', 100, 5)],
    ];
    for (const [s, p] of burst) {
      const frame = clientFrame(s, p);
      const view = decodeDataHeader(frame);
      if (view instanceof L2tpDecodeError) assert.fail(view.message);
      path.fromClient(s, frame, view);
    }
    assert.deepEqual(
      peer.written.map((p) => Buffer.from(p)),
      [0, 1, 3, 4].map((i) => burst[i]![1]),
    );
    assert.equal(path.drops['spoofed-source'], 1);
    assert.equal(path.spoofDrops.get(a.counterSlot), 1);
    assert.equal(path.spoofDrops.get(b.counterSlot), undefined);
    assert.deepEqual(counters.read(a.counterSlot), { bytesIn: 1400 + 100, bytesOut: 0, packetsIn: 2, packetsOut: 0 });
    assert.deepEqual(counters.read(b.counterSlot), { bytesIn: 64 + 512, bytesOut: 0, packetsIn: 2, packetsOut: 0 });
  });
});

describe('data path with TUN offloads (super-packets, partial checksums)', () => {
  /** An ACK|PSH TCP segment carrying `payload`, checksums right (as a sender without TSO would build it whole). */
  function tcpSuperPacket(payload: Uint8Array): Buffer {
    const tcp = Buffer.alloc(20 + payload.length);
    tcp.writeUInt16BE(443, 0);
    tcp.writeUInt16BE(51000, 2);
    tcp.writeUInt32BE(1000, 4);
    tcp[12] = 5 << 4;
    tcp[13] = 0x18;
    tcp.writeUInt16BE(501, 14);
    tcp.set(payload, 20);
    const packet = encodeIpv4Packet({ source: parseIpv4('203.0.113.5')!, destination: parseIpv4('10.8.0.2')!, protocol: 6, payload: tcp, identification: 77 });
    packet.writeUInt16BE(tcpChecksum(packet), 36);
    return packet;
  }
  const tso = (gsoSize: number) => ({ gsoType: 1, gsoSize, needsChecksum: true, checksumStart: 20, checksumOffset: 16 });

  test('a TCP super-packet leaves as one frame per segment: own headers, Ns per frame, valid checksums, counted per segment', () => {
    const { socket, peer, counters, path } = setup();
    const a = session('10.8.0.2', { dataNs: 5 });
    path.routes.add(a);
    const payload = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 13) & 0xff));
    peer.inject(tcpSuperPacket(payload), tso(1360));

    assert.equal(socket.sent.length, 3);
    const inner = socket.sent.map((out, i) => {
      assert.equal(out.address, a.peer.address);
      const view = decodeDataHeader(out.bytes);
      if (view instanceof L2tpDecodeError) assert.fail(`frame ${i}: ${view.message}`);
      assert.equal(view.ns, 5 + i, `frame ${i} Ns`);
      assert.deepEqual([...out.bytes.subarray(10, 14)], [0xff, 0x03, 0x00, 0x21]);
      const ip = out.bytes.subarray(14);
      assert.equal(ip.readUInt16BE(2), ip.length);
      assert.equal(ip.readUInt16BE(4), 77 + i, 'IPv4 identification per segment');
      assert.equal(onesComplementSum(ip, 0, 20), 0xffff, `frame ${i} IPv4 header checksum`);
      assert.equal(tcpChecksum(ip), ip.readUInt16BE(36), `frame ${i} TCP checksum`);
      assert.equal(ip.readUInt32BE(24), 1000 + i * 1360, 'sequence number');
      assert.equal(ip[33], i === 2 ? 0x18 : 0x10, 'PSH on the last segment only');
      return ip;
    });
    assert.deepEqual(Buffer.concat(inner.map((ip) => ip.subarray(40))), payload);
    assert.deepEqual(counters.read(a.counterSlot), { bytesIn: 0, bytesOut: 3000 + 3 * 40, packetsIn: 0, packetsOut: 3 });
  });

  test('a partial checksum on an ordinary packet is completed before it leaves', () => {
    const { socket, peer, path } = setup();
    path.routes.add(session('10.8.0.2'));
    const whole = tcpSuperPacket(Buffer.from('hello through the tunnel'));
    const partial = Buffer.from(whole);
    const pseudo = Buffer.alloc(12);
    partial.copy(pseudo, 0, 12, 20);
    pseudo[9] = 6;
    pseudo.writeUInt16BE(partial.length - 20, 10);
    partial.writeUInt16BE(onesComplementSum(pseudo, 0, 12), 36); // what the kernel leaves in the field
    peer.inject(partial, { gsoType: 0, gsoSize: 0, needsChecksum: true, checksumStart: 20, checksumOffset: 16 });
    assert.equal(socket.sent.length, 1);
    assert.deepEqual(socket.sent[0]!.bytes.subarray(10), whole);
  });

  test('a super-packet or checksum request that does not fit its packet is dropped whole and counted', () => {
    const { socket, peer, counters, path } = setup();
    const a = session('10.8.0.2');
    path.routes.add(a);
    peer.inject(tcpSuperPacket(Buffer.alloc(3000)), tso(0));
    peer.inject(tcpSuperPacket(Buffer.alloc(100)), { gsoType: 0, gsoSize: 0, needsChecksum: true, checksumStart: 20, checksumOffset: 500 });
    peer.inject(udp('203.0.113.5', '10.8.0.2', 1400), tso(1360)); // TCP segmentation asked of a UDP packet
    assert.equal(socket.sent.length, 0);
    assert.equal(path.drops['bad-offload'], 3);
    assert.deepEqual(counters.read(a.counterSlot), { bytesIn: 0, bytesOut: 0, packetsIn: 0, packetsOut: 0 });
  });
});
