/**
 * The data path's client -> TUN direction with GRO (issue 21): with TUN offloads and a socket that
 * reports batch ends, a batch's packets are held and each flow's consecutive packets reach the TUN
 * as one super-packet. The fake TUN checks each super-packet's header and cuts it as the kernel
 * would, so `written` holds what the kernel's stack sees: it must be exactly the clients' packets,
 * each flow in order, with anti-spoofing, the MSS clamp, drops and per-session counters as exact as
 * without GRO.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GRO_MAX_HELD } from '../../../../edge-agent/src/datapath/gro';
import { createFakeTun } from '../../../../edge-agent/src/io/fake-tun';
import type { TunOffloads } from '../../../../edge-agent/src/io/tun';
import { decodeDataHeader, L2tpDecodeError } from '../../../../edge-agent/src/l2tp';
import { DataPath, SessionCounters, type DataSession } from '../../../../edge-agent/src/runtime/data-path';
import { batchedSocket, dataSession } from '../../../support/data-path-doubles';
import { ACK, pattern, PSH, sum16, tcp, udp } from '../../../support/gro-packets';

let slots = 0;
function session(address: string, over: Partial<DataSession> = {}): DataSession {
  const slot = slots++;
  return dataSession(address, slot, { localSessionId: 100 + slot, peerSessionId: 200 + slot, peer: { address: `198.51.100.${10 + slot}`, port: 1701, mark: 0 }, mss: 1360, ...over });
}

function setup(offloads: TunOffloads = 'tso+uso', batches = true) {
  const socket = batchedSocket(batches);
  const { device, peer } = createFakeTun('tbgro0', offloads);
  const counters = new SessionCounters();
  const path = new DataPath(socket, device, counters);
  /** Each packet in its own frame buffer (as in a receive slot), uncompressed PPP on even, ACFC+PFC on odd ones. */
  const receive = (s: DataSession, packets: Buffer[]) => {
    packets.forEach((packet, i) => {
      const head = i % 2 === 0 ? [0x00, 0x02, 0, 7, s.localSessionId >> 8, s.localSessionId & 0xff, 0xff, 0x03, 0x00, 0x21] : [0x00, 0x02, 0, 7, s.localSessionId >> 8, s.localSessionId & 0xff, 0x21];
      const frame = Buffer.concat([Buffer.from(head), packet]);
      const view = decodeDataHeader(frame);
      assert.ok(!(view instanceof L2tpDecodeError));
      path.fromClient(s, frame, view);
    });
  };
  return { socket, peer, counters, path, receive };
}

/** A run of UDP datagrams from `source`, ids consecutive. */
function udpRun(source: string, sizes: number[], id: number, sport = 40000): Buffer[] {
  return sizes.map((n, i) => udp(pattern(n, id + i), { id: id + i, source, sport }));
}

function tcpRun(source: string, sizes: number[], seq: number, id: number, lastFlags = ACK): Buffer[] {
  let s = seq;
  return sizes.map((n, i) => {
    const p = tcp(pattern(n, 200 + i), { id: id + i, seq: s, source, tcpFlags: i === sizes.length - 1 ? lastFlags : ACK });
    s += n;
    return p;
  });
}

const hex = (packets: readonly Uint8Array[]) => packets.map((p) => Buffer.from(p).toString('hex'));
/** The written packets of one flow (source address and source port), in order. */
const flow = (written: readonly Uint8Array[], source: string, sport: number) =>
  hex(written.filter((p) => Buffer.from(p.subarray(12, 16)).equals(Buffer.from(parseIpv4ToBytes(source))) && Buffer.from(p).readUInt16BE(20) === sport));
const parseIpv4ToBytes = (a: string) => a.split('.').map(Number);
const bytes = (packets: Buffer[]) => packets.reduce((n, p) => n + p.length, 0);

describe('data path to the TUN with GRO', () => {
  test('sessions round-robin in one batch: held until the batch ends, then each flow as one super-packet; the kernel sees every original, per flow in order; counters exact', () => {
    const { socket, peer, counters, path, receive } = setup();
    const a = session('10.8.0.2');
    const b = session('10.8.0.3');
    const c = session('10.8.0.4');
    const fa = udpRun('10.8.0.2', [1300, 1300, 1300, 1300, 900], 10);
    const fb = udpRun('10.8.0.3', [500, 500, 500], 20);
    const fc = tcpRun('10.8.0.4', [1200, 1200, 1200, 100], 5000, 30, ACK | PSH);
    for (let i = 0; i < 5; i++) {
      if (fa[i]) receive(a, [fa[i]!]);
      if (fb[i]) receive(b, [fb[i]!]);
      if (fc[i]) receive(c, [fc[i]!]);
    }
    assert.equal(peer.written.length, 0, 'nothing is written before the batch ends');
    socket.endBatch();
    assert.deepEqual(peer.rejected, []);
    assert.equal(peer.superPackets.length, 3);
    assert.deepEqual(flow(peer.written, '10.8.0.2', 40000), hex(fa));
    assert.deepEqual(flow(peer.written, '10.8.0.3', 40000), hex(fb));
    assert.deepEqual(flow(peer.written, '10.8.0.4', 51000), hex(fc));
    assert.equal(peer.written.length, 12);
    assert.deepEqual(counters.read(a.counterSlot), { bytesIn: bytes(fa), packetsIn: 5, bytesOut: 0, packetsOut: 0 });
    assert.deepEqual(counters.read(b.counterSlot), { bytesIn: bytes(fb), packetsIn: 3, bytesOut: 0, packetsOut: 0 });
    assert.deepEqual(counters.read(c.counterSlot), { bytesIn: bytes(fc), packetsIn: 4, bytesOut: 0, packetsOut: 0 });
    assert.deepEqual(path.offloaded, { superPackets: 0, segments: 0, checksums: 0, coalescedWrites: 3, coalescedPackets: 12 });
    assert.deepEqual(Object.values(path.drops).filter((n) => n !== 0), []);
  });

  test('a spoofed packet in the middle of a flow is dropped alone (counted per session); the rest still join', () => {
    const { socket, peer, counters, path, receive } = setup();
    const a = session('10.8.0.2');
    const run = udpRun('10.8.0.2', [400, 400, 400, 400], 50);
    const spoofed = udp(pattern(400, 1), { id: 52, source: '10.8.0.77' });
    receive(a, [run[0]!, run[1]!, spoofed, run[2]!, run[3]!]);
    socket.endBatch();
    assert.equal(path.drops['spoofed-source'], 1);
    assert.equal(path.spoofDrops.get(a.counterSlot), 1);
    assert.deepEqual(hex(peer.written), hex(run));
    assert.equal(peer.superPackets.length, 1);
    assert.deepEqual(counters.read(a.counterSlot), { bytesIn: bytes(run), packetsIn: 4, bytesOut: 0, packetsOut: 0 });
  });

  test('a SYN is clamped and goes alone; the data after it joins; the order holds', () => {
    const { socket, peer, path, receive } = setup();
    const a = session('10.8.0.2', { mss: 1200 });
    const syn = tcp(Buffer.alloc(0), { id: 1, seq: 999, source: '10.8.0.2', tcpFlags: 0x02, tcpOptions: [2, 4, 0x05, 0xb4] });
    const data = tcpRun('10.8.0.2', [1000, 1000, 1000], 1000, 2);
    receive(a, [syn, ...data]);
    socket.endBatch();
    assert.equal(peer.written.length, 4);
    const written = Buffer.from(peer.written[0]!);
    assert.equal(written.readUInt16BE(42), 1200, 'the SYN went through the MSS clamp');
    // The clamp kept the TCP checksum right (RFC 1624), verified here with this file's own sum.
    const pseudo = Buffer.alloc(12);
    written.copy(pseudo, 0, 12, 20);
    pseudo[9] = 6;
    pseudo.writeUInt16BE(written.length - 20, 10);
    assert.equal(sum16(written.subarray(20), sum16(pseudo)), 0xffff);
    assert.deepEqual(hex(peer.written.slice(1)), hex(data));
    assert.deepEqual(path.offloaded.coalescedWrites, 1);
    assert.equal(peer.superPackets.length, 1);
  });

  test('a datagram with a bad UDP checksum reaches the TUN alone and unchanged (the kernel drops it); its flow goes on', () => {
    const { socket, peer, path, receive } = setup();
    const a = session('10.8.0.2');
    const run = udpRun('10.8.0.2', [600, 600, 600, 600, 600], 70);
    const bad = Buffer.from(run[2]!);
    bad[bad.length - 1] = bad[bad.length - 1]! ^ 0xff;
    receive(a, [run[0]!, run[1]!, bad, run[3]!, run[4]!]);
    socket.endBatch();
    assert.deepEqual(hex(peer.written), hex([run[0]!, run[1]!, bad, run[3]!, run[4]!]));
    assert.equal(peer.superPackets.length, 2, 'two super-packets around the bad one, which went as a plain write');
    assert.equal(path.offloaded.coalescedPackets, 4);
  });

  test('a failed TUN write drops every packet it carried (tun-write), and counts none of them', () => {
    const { socket, peer, counters, path, receive } = setup();
    const a = session('10.8.0.2');
    receive(a, udpRun('10.8.0.2', [300, 300, 300], 90));
    receive(a, [udp(pattern(50, 1), { id: 500, source: '10.8.0.2', sport: 41000 })]);
    peer.failWrites = true;
    socket.endBatch();
    assert.equal(path.drops['tun-write'], 4);
    assert.deepEqual(counters.read(a.counterSlot), { bytesIn: 0, packetsIn: 0, bytesOut: 0, packetsOut: 0 });
    assert.equal(path.offloaded.coalescedWrites, 0);
  });

  test(`more than ${GRO_MAX_HELD} packets before the batch ends: the held ones are written early, none lost, order kept`, () => {
    const { socket, peer, counters, receive } = setup();
    const a = session('10.8.0.2');
    const run = udpRun('10.8.0.2', new Array<number>(GRO_MAX_HELD + 20).fill(100), 1000);
    receive(a, run);
    assert.ok(peer.written.length >= GRO_MAX_HELD, 'written early');
    socket.endBatch();
    assert.deepEqual(hex(peer.written), hex(run));
    assert.equal(counters.read(a.counterSlot).packetsIn, run.length);
  });

  test('endBatch (as the agent calls before a session\'s final counters) writes what is held; with nothing held it does nothing', () => {
    const { peer, counters, path, receive } = setup();
    const a = session('10.8.0.2');
    receive(a, udpRun('10.8.0.2', [200, 200], 5));
    path.endBatch();
    assert.equal(peer.written.length, 2);
    assert.equal(counters.read(a.counterSlot).packetsIn, 2);
    path.endBatch();
    assert.equal(peer.written.length, 2);
  });

  test('TUN offloads "tso" (no USO): UDP goes packet by packet, TCP still joins', () => {
    const { socket, peer, receive } = setup('tso');
    const a = session('10.8.0.2');
    const u = udpRun('10.8.0.2', [300, 300], 5);
    const t = tcpRun('10.8.0.2', [300, 300], 1, 9);
    receive(a, [...u, ...t]);
    socket.endBatch();
    assert.deepEqual(hex(peer.written), hex([...u, ...t]));
    assert.equal(peer.superPackets.length, 1);
    assert.equal(peer.superPackets[0]!.header[1], 1, 'TCPV4');
  });

  for (const [name, offloads, batches] of [
    ['a TUN without offloads', 'none', true],
    ['a socket without batch ends (node:dgram)', 'tso+uso', false],
  ] as const) {
    test(`${name}: every packet is written at once, as before`, () => {
      const { peer, counters, path, receive } = setup(offloads, batches);
      const a = session('10.8.0.2');
      const run = udpRun('10.8.0.2', [300, 300, 300], 5);
      receive(a, run);
      assert.deepEqual(hex(peer.written), hex(run));
      assert.equal(peer.superPackets.length, 0);
      assert.equal(counters.read(a.counterSlot).packetsIn, 3);
      assert.equal(path.offloaded.coalescedWrites, 0);
    });
  }
});
