/**
 * TUN offloads (IFF_VNET_HDR + TUNSETOFFLOAD, issue 21) against the real kernel, in throwaway
 * network namespaces (root only; in CI it must run: no skip there). The netns child
 * (tun-offload-netns-child.ts) makes the kernel's own UDP and TCP stacks send GSO super-packets and
 * CHECKSUM_PARTIAL packets into a TUN opened with offloads, through the agent's real DataPath:
 * from this host's own sockets, and forwarded from a second namespace behind a veth (a download
 * passing through the agent, as in production). It records every read and every frame; this file
 * verifies the frames with its own checksum code (offload-packets.ts), never the agent's.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { realTunUnavailable } from '../../support/real-tun';
import {
  checkIpv4,
  l4ChecksumValid,
  mssOption,
  NET,
  parseFrame,
  plainPayload,
  TCP_BYTES,
  TCP_CWR,
  TCP_FIN,
  TCP_PSH,
  TCP_SYN,
  tcpOf,
  tcpPayload,
  UDP_SEGMENTS,
  udpOf,
  udpPayload,
  type Ipv4View,
} from './offload-packets';

const cannotRun = realTunUnavailable();
// In CI this must run: a missing prerequisite fails the test instead of skipping it.
const why = process.env.CI ? undefined : cannotRun;
if (why) console.log(`# skipping TUN offload tests: ${why}`);

const NS = `tboff-${process.pid}`;
const SERVER_NS = `tbsrv-${process.pid}`;
const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'tun-offload-netns-child.ts');
/** TUN_F_USO4/6 exist since Linux 6.2; older kernels give TSO only (openTun falls back). */
const [major = 0, minor = 0] = release().split('.').map(Number);
const USO = major > 6 || (major === 6 && minor >= 2);
const GSO_TCPV4 = 1;
const GSO_UDP_L4 = 5;
const GSO_ECN = 0x80;
/** The session the child routes (peer, ids, first Ns): what every frame's headers must say. */
const PEER = { address: '198.51.100.7', port: 1701, mark: 0x55, tunnelId: 0x4142, sessionId: 0x4344, firstNs: 1000 };
/** Where the traffic comes from: this host's own sockets, or a server whose packets this host forwards. */
const SOURCES = [
  { name: 'local', udp: 'udp', tcp: 'tcp', address: NET.gateway, synMss: NET.mss, tcpOptions: 0 },
  // veth MTU 1500; the client agrees to timestamps: 12 bytes of options on every segment
  { name: 'forwarded', udp: 'fwd-udp', tcp: 'fwd-tcp', address: NET.server, synMss: 1460, tcpOptions: 12 },
] as const;

interface Offload {
  gsoType: number;
  gsoSize: number;
  needsChecksum: boolean;
  checksumStart: number;
  checksumOffset: number;
}
interface Counters {
  bytesOut: number;
  packetsOut: number;
  packetsIn: number;
}
interface Result {
  offloads: unknown;
  plainTunOffloads: unknown;
  outcomes: Record<string, { sent: string; finished: boolean }>;
  plainGso: string;
  tcpPeers: Record<string, { synAcks: number; acks: number }>;
  snapshots: Record<string, Counters>;
  reads: { phase: string; offload: Offload | null; packet: string }[];
  frames: { phase: string; read: number; frame: string; port: number; address: string; mark: number }[];
  plainReads: { offloadArgument: string; packet: string }[];
  drops: Record<string, number>;
}

/** A frame as sent: its Ns, the read it came from, its inner packet (IPv4 header verified). */
interface Sent {
  readonly ns: number;
  readonly read: number;
  readonly ip: Ipv4View;
  readonly bytes: Buffer;
}

describe('TUN offloads against the real kernel (namespaces)', { skip: why }, () => {
  let r: Result;
  let dir: string;

  before(() => {
    assert.equal(cannotRun, undefined, `cannot run the TUN offload test: ${cannotRun}`);
    dir = mkdtempSync(join(tmpdir(), 'tun-offload-'));
    execFileSync('ip', ['netns', 'add', NS]);
    execFileSync('ip', ['netns', 'add', SERVER_NS]);
    const out = join(dir, 'result.json');
    const run = spawnSync('ip', ['netns', 'exec', NS, process.execPath, '--import', 'tsx', CHILD, out, SERVER_NS], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(run.status, 0, `child failed: ${run.stderr}`);
    r = JSON.parse(readFileSync(out, 'utf8')) as Result;
  });
  after(() => {
    spawnSync('ip', ['netns', 'del', NS]);
    spawnSync('ip', ['netns', 'del', SERVER_NS]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** The frames of one phase, each checked for peer, L2TP/PPP headers and a sound IPv4 header. */
  function sentIn(phase: string): Sent[] {
    return r.frames
      .filter((f) => f.phase === phase)
      .map((f, i) => {
        assert.deepEqual([f.address, f.port, f.mark], [PEER.address, PEER.port, PEER.mark], `${phase} frame ${i}: wrong peer`);
        const frame = parseFrame(Buffer.from(f.frame, 'base64'));
        assert.ok(typeof frame !== 'string', `${phase} frame ${i}: ${String(frame)}`);
        // RFC 2661 §3.1: a data message with S set (the session asked for sequencing), our peer's ids, Nr 0.
        assert.equal(frame.flags, 0x0802, `${phase} frame ${i}: L2TP flags`);
        assert.deepEqual([frame.tunnelId, frame.sessionId, frame.nr], [PEER.tunnelId, PEER.sessionId, 0], `${phase} frame ${i}: L2TP ids`);
        const ip = checkIpv4(frame.ip);
        assert.ok(typeof ip !== 'string', `${phase} frame ${i}: ${String(ip)}`);
        return { ns: frame.ns, read: f.read, ip, bytes: Buffer.from(frame.ip) };
      });
  }
  const superPackets = (phase: string, gso: number) => r.reads.filter((x) => x.phase === phase && x.offload && (x.offload.gsoType & ~GSO_ECN) === gso);
  const packetOf = (read: { packet: string }) => {
    const ip = checkIpv4(Buffer.from(read.packet, 'base64'));
    assert.ok(typeof ip !== 'string', String(ip));
    return ip;
  };
  const delta = (phase: string) => ({
    packets: r.snapshots[`${phase}After`]!.packetsOut - r.snapshots[`${phase}Before`]!.packetsOut,
    bytes: r.snapshots[`${phase}After`]!.bytesOut - r.snapshots[`${phase}Before`]!.bytesOut,
  });

  test('the TUN opened with offloads reports them on (TCP and, on Linux >= 6.2, UDP)', () => {
    assert.equal(r.offloads, USO ? 'tso+uso' : 'tso');
  });

  test('the data path refused nothing: no bad-offload, no checksum or length drop (only the kernel\'s IPv6 chatter)', () => {
    const { 'not-ipv4': _ipv6, ...rest } = r.drops;
    assert.deepEqual(Object.entries(rest).filter(([, n]) => n !== 0), []);
    assert.ok('bad-offload' in rest);
  });

  test('every frame, segments included, takes the next L2TP Ns (one frame per segment)', () => {
    const ns = r.frames.map((f) => (parseFrame(Buffer.from(f.frame, 'base64')) as { ns: number }).ns);
    assert.deepEqual(ns, ns.map((_, i) => (PEER.firstNs + i) & 0xffff));
  });

  for (const source of SOURCES) {
    test(`UDP GSO (${source.name}): one super-packet read; each of its 41 segments leaves as its own frame, lengths, IP ids and checksums right, payload in order`, () => {
      assert.deepEqual(r.outcomes[source.udp], { sent: 'ok', finished: true });
      const supers = superPackets(source.udp, GSO_UDP_L4);
      // Fails if offloads silently stay off: the kernel would then segment in software.
      const offloads = JSON.stringify(r.reads.filter((x) => x.phase === source.udp).map((x) => x.offload));
      assert.equal(supers.length, USO ? 1 : 0, `UDP_L4 super-packets read (offloads of each read: ${offloads})`);
      const original = USO ? packetOf(supers[0]!) : undefined;
      if (original) {
        assert.equal(original.totalLength, 20 + 8 + udpPayload().length, 'the super-packet holds the whole send');
        assert.equal(supers[0]!.offload!.gsoSize, NET.udpGsoSize);
      }
      const sent = sentIn(source.udp);
      assert.equal(sent.length, UDP_SEGMENTS.full + 1);
      const payloads: Buffer[] = [];
      sent.forEach((s, i) => {
        assert.deepEqual([s.ip.source, s.ip.destination, s.ip.protocol, s.ip.headerLength], [source.address, NET.client, 17, 20], `frame ${i}`);
        const size = i < UDP_SEGMENTS.full ? NET.udpGsoSize : UDP_SEGMENTS.last;
        assert.equal(s.ip.totalLength, 20 + 8 + size, `frame ${i}: IPv4 total length`);
        assert.equal(s.ip.id, ((original?.id ?? sent[0]!.ip.id) + i) & 0xffff, `frame ${i}: IP id`);
        assert.equal(s.bytes.readUInt16BE(6) & 0x3fff, 0, `frame ${i}: a fragment`);
        const udp = udpOf(s.ip);
        assert.equal(udp.destinationPort, NET.udpPort);
        assert.equal(udp.sourcePort, udpOf(sent[0]!.ip).sourcePort);
        assert.equal(udp.length, 8 + size, `frame ${i}: UDP length`);
        assert.ok(l4ChecksumValid(s.bytes), `frame ${i}: bad UDP checksum 0x${s.bytes.readUInt16BE(26).toString(16)}`);
        payloads.push(Buffer.from(udp.payload));
      });
      assert.ok(Buffer.concat(payloads).equals(udpPayload()), 'the segments joined are not the bytes sent');
    });

    test(`UDP GSO (${source.name}): the session counters count 41 packets and their bytes`, () => {
      const bytes = sentIn(source.udp).reduce((n, s) => n + s.ip.totalLength, 0);
      assert.equal(bytes, (UDP_SEGMENTS.full + 1) * 28 + udpPayload().length);
      assert.deepEqual(delta(source.udp), { packets: UDP_SEGMENTS.full + 1, bytes });
    });

    test(`TCP TSO (${source.name}): TCPV4 super-packets read; every segment fits the session's MSS, checksums right, seq contiguous, PSH/FIN only last, CWR only first`, () => {
      assert.deepEqual(r.outcomes[source.tcp], { sent: 'ok', finished: true }, 'the TCP transfer did not finish');
      const supers = superPackets(source.tcp, GSO_TCPV4);
      assert.ok(supers.length >= 1, 'no TCPV4 super-packet was read: offloads are off or the kernel never batched');
      // The client's SYN-ACK went through the data path's MSS clamp: the kernel cuts at the session's
      // MSS, less the options every segment carries (RFC 7323 timestamps on the forwarded flow).
      for (const s of supers) assert.equal(s.offload!.gsoSize, NET.sessionMss - source.tcpOptions);
      for (const s of supers) assert.equal(tcpOf(packetOf(s)).options.length, source.tcpOptions);
      const sent = sentIn(source.tcp);
      for (const [i, s] of sent.entries()) {
        assert.deepEqual([s.ip.source, s.ip.destination, s.ip.protocol], [source.address, NET.client, 6], `frame ${i}`);
        assert.ok(s.ip.totalLength <= NET.mtu, `frame ${i}: ${s.ip.totalLength} bytes > MTU`);
        assert.ok(tcpOf(s.ip).payload.length <= NET.sessionMss, `frame ${i}: ${tcpOf(s.ip).payload.length} bytes of data > the session's MSS`);
        assert.ok(l4ChecksumValid(s.bytes), `frame ${i}: bad TCP checksum 0x${s.bytes.readUInt16BE(36).toString(16)}`);
      }
      // The FIN (and PSH) the kernel put on its last super-packet must end up on its last segment
      // only. Local: the writer's write and shutdown follow each other in this process, before the
      // client's ACKs let the kernel send it all. Forwarded: another process, scheduling decides.
      const finSuper = supers.some((x) => tcpOf(packetOf(x)).flags & TCP_FIN);
      if (source.name === 'local') assert.ok(finSuper, 'no super-packet carried the FIN');
      // Each super-packet against the frames made from it.
      for (const read of new Set(sent.map((s) => s.read))) {
        const o = r.reads[read]!.offload;
        if (!o || (o.gsoType & ~GSO_ECN) !== GSO_TCPV4) continue;
        const original = packetOf(r.reads[read]!);
        const whole = tcpOf(original);
        const segments = sent.filter((s) => s.read === read);
        assert.equal(segments.length, Math.ceil(whole.payload.length / o.gsoSize), `read ${read}: segment count`);
        let seq = whole.seq;
        segments.forEach((s, i) => {
          const t = tcpOf(s.ip);
          const last = i === segments.length - 1;
          assert.equal(t.seq, seq, `read ${read} segment ${i}: seq`);
          assert.equal(t.ack, whole.ack);
          assert.deepEqual(t.options, whole.options, `read ${read} segment ${i}: TCP options`);
          assert.equal(t.payload.length, last ? whole.payload.length - o.gsoSize * i : o.gsoSize, `read ${read} segment ${i}: size`);
          let flags = whole.flags;
          if (!last) flags &= ~(TCP_FIN | TCP_PSH);
          if (i > 0) flags &= ~TCP_CWR;
          assert.equal(t.flags, flags, `read ${read} segment ${i}: flags 0x${t.flags.toString(16)} of super-packet flags 0x${whole.flags.toString(16)}`);
          assert.equal(s.ip.id, (original.id + i) & 0xffff, `read ${read} segment ${i}: IP id`);
          seq = (seq + t.payload.length) >>> 0;
        });
        const joined = Buffer.concat(segments.map((s) => tcpOf(s.ip).payload));
        assert.ok(joined.equals(Buffer.from(whole.payload)), `read ${read}: segments joined differ from the super-packet's data`);
      }
    });

    test(`TCP TSO (${source.name}): the byte stream reassembled from the frames is exactly what was written, FIN right after the last byte`, () => {
      const sent = sentIn(source.tcp).map((s) => tcpOf(s.ip));
      const syn = sent.find((t) => t.flags & TCP_SYN);
      assert.ok(syn, 'no SYN was framed');
      const start = (syn.seq + 1) >>> 0;
      const stream = Buffer.alloc(TCP_BYTES);
      let next = 0;
      let retransmitted = 0;
      let finAt = -1;
      for (const t of sent) {
        if (t.flags & TCP_SYN) continue;
        const offset = (t.seq - start) >>> 0;
        if (t.payload.length > 0) {
          // New data must start exactly where the stream ends; anything earlier is a retransmission.
          assert.ok(offset <= next, `gap: a segment at offset ${offset} while the stream ends at ${next}`);
          if (offset < next) retransmitted++;
          stream.set(t.payload, offset);
          next = Math.max(next, offset + t.payload.length);
        }
        if (t.flags & TCP_FIN) finAt = offset + t.payload.length;
      }
      assert.equal(next, TCP_BYTES);
      assert.ok(stream.equals(tcpPayload()), 'the reassembled stream differs from what was written');
      assert.equal(finAt, TCP_BYTES, 'FIN not right after the last byte');
      if (retransmitted > 0) console.log(`# ${source.name}: ${retransmitted} retransmitted TCP segments`);
    });

    test(`TCP (${source.name}): the SYN (MSS ${source.synMss}, partial checksum) reaches the client clamped to the session's MSS with a valid checksum`, () => {
      const synRead = r.reads.find((x) => x.phase === source.tcp && (tcpOf(packetOf(x)).flags & TCP_SYN) !== 0);
      assert.ok(synRead, 'no SYN was read');
      assert.equal(synRead.offload?.needsChecksum, true, 'the SYN came without NEEDS_CSUM');
      assert.equal(mssOption(tcpOf(packetOf(synRead)).options), source.synMss);
      const syn = sentIn(source.tcp).find((s) => (tcpOf(s.ip).flags & TCP_SYN) !== 0);
      assert.ok(syn, 'no SYN was framed');
      assert.equal(mssOption(tcpOf(syn.ip).options), NET.sessionMss);
      assert.ok(l4ChecksumValid(syn.bytes), `bad TCP checksum on the clamped SYN 0x${syn.bytes.readUInt16BE(36).toString(16)}`);
    });

    test(`TCP TSO (${source.name}): the session counters count every segment frame out and every client packet in`, () => {
      const sent = sentIn(source.tcp);
      assert.deepEqual(delta(source.tcp), { packets: sent.length, bytes: sent.reduce((n, s) => n + s.ip.totalLength, 0) });
      assert.ok(sent.length > r.reads.filter((x) => x.phase === source.tcp).length, 'no more frames than reads: super-packets were not cut');
      // The client's side went through DataPath.fromClient: every packet accepted and counted in.
      const peer = r.tcpPeers[source.tcp === 'tcp' ? NET.tcpPort : NET.forwardedTcpPort]!;
      assert.ok(peer.synAcks >= 1);
      assert.ok(peer.acks > 0);
      assert.equal(r.snapshots[`${source.tcp}After`]!.packetsIn - r.snapshots[`${source.tcp}Before`]!.packetsIn, peer.synAcks + peer.acks);
    });
  }

  test('NEEDS_CSUM without GSO: a small datagram holding only the pseudo-header sum reaches the client with its checksum completed', () => {
    assert.deepEqual(r.outcomes.plain, { sent: 'ok', finished: true });
    const reads = r.reads.filter((x) => x.phase === 'plain');
    assert.equal(reads.length, 1);
    const o = reads[0]!.offload;
    assert.ok(o, 'the read carried no offload metadata: the kernel computed the checksum itself');
    assert.deepEqual([o.needsChecksum, o.gsoType, o.checksumStart, o.checksumOffset], [true, 0, 20, 6]);
    // As read, the checksum field holds the pseudo-header sum (CHECKSUM_PARTIAL): not valid yet.
    assert.equal(l4ChecksumValid(Buffer.from(reads[0]!.packet, 'base64')), false);
    const sent = sentIn('plain');
    assert.equal(sent.length, 1);
    const s = sent[0]!;
    assert.ok(l4ChecksumValid(s.bytes), `bad UDP checksum 0x${s.bytes.readUInt16BE(26).toString(16)}`);
    const udp = udpOf(s.ip);
    assert.deepEqual([udp.sourcePort, udp.destinationPort, udp.length], [NET.plainUdpSourcePort, 9, 8 + plainPayload().length]);
    assert.ok(Buffer.from(udp.payload).equals(plainPayload()));
    assert.deepEqual(delta('plain'), { packets: 1, bytes: s.ip.totalLength });
  });

  test('a TUN opened without offloads: offloads none, the kernel segments and checksums itself, the handler gets no metadata', () => {
    assert.equal(r.plainTunOffloads, 'none');
    assert.equal(r.plainGso, 'ok');
    assert.equal(r.plainReads.length, 6);
    const payloads: Buffer[] = [];
    for (const [i, read] of r.plainReads.entries()) {
      assert.equal(read.offloadArgument, 'undefined', `read ${i}`);
      const bytes = Buffer.from(read.packet, 'base64');
      const ip = packetOf(read);
      assert.equal(ip.destination, NET.plainClient);
      assert.ok(ip.totalLength <= NET.mtu);
      assert.ok(l4ChecksumValid(bytes), `read ${i}: bad UDP checksum`);
      payloads.push(Buffer.from(udpOf(ip).payload));
    }
    assert.ok(Buffer.concat(payloads.slice(0, 5)).equals(udpPayload().subarray(0, 5 * NET.udpGsoSize)));
    assert.ok(payloads[5]!.equals(plainPayload()));
  });
});
