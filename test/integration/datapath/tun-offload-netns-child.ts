/**
 * Runs inside a network namespace made by tun-offload.test.ts (`ip netns exec`), as root. Opens a
 * real TUN with offloads, puts the agent's real DataPath behind it with one routed session and a
 * socket that records every frame, and makes real kernel stacks send into the TUN:
 *
 *   udp      one sendto() of 40 x 1372 bytes + 500 with UDP_SEGMENT (a USO super-packet)
 *   plain    a small datagram: CHECKSUM_PARTIAL, no GSO (the NEEDS_CSUM flag alone)
 *   tcp      node:net connects to the session's address and writes 256 KiB; this script plays the
 *            L2TP client: it answers the SYN with a SYN-ACK sent through the data path
 *            (DataPath.fromClient, as a frame from the client) and ACKs every segment, so the
 *            kernel's window opens and it sends TSO super-packets
 *   fwd-udp  the same UDP send from a second namespace (argv[3]) behind a veth: this host forwards
 *   fwd-tcp  the same TCP transfer from there, with RFC 7323 timestamps (12 bytes of options per
 *            segment): super-packets the host forwards, as in production
 *   nooff    a second TUN opened without offloads gets a GSO send and a plain datagram
 *
 * It only records: every read (offload metadata and a copy of the packet as the TUN gave it) and
 * every frame the data path sent, then writes them as JSON to the path in argv[2] for the parent
 * to verify. Not a test file by itself.
 */
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseIpv4 } from '../../../edge-agent/src/datapath/address';
import type { TunOffload } from '../../../edge-agent/src/datapath/gso';
import type { DatagramSocket } from '../../../edge-agent/src/io/datagram';
import { createLinkConfig, execFileRunner } from '../../../edge-agent/src/io/link-config';
import { openTun, type TunDevice } from '../../../edge-agent/src/io/tun';
import { decodeDataHeader } from '../../../edge-agent/src/l2tp';
import { DataPath, SessionCounters, type DataSession } from '../../../edge-agent/src/runtime/data-path';
import { buildTcp, checkIpv4, NET, parseFrame, plainPayload, TCP_ACK, TCP_FIN, TCP_SYN, tcpOf, tcpPayload, timestamps, udpPayload } from './offload-packets';
import { sendSegmented, sendTcp } from './offload-senders';

type Phase = 'setup' | 'udp' | 'plain' | 'tcp' | 'fwd-udp' | 'fwd-tcp' | 'after';
let phase: Phase = 'setup';
const SERVER_NS = process.argv[3]!;
const SENDERS = join(dirname(fileURLToPath(import.meta.url)), 'offload-senders.ts');

interface ReadRecord {
  phase: Phase;
  offload: TunOffload | null;
  packet: string;
}
interface FrameRecord {
  phase: Phase;
  read: number;
  frame: string;
  port: number;
  address: string;
  mark: number;
}
const reads: ReadRecord[] = [];
const frames: FrameRecord[] = [];
let onFrame: (frame: Buffer) => void = () => {};
let wake: () => void = () => {};

/** A copy of the metadata (the adapter hands one reused object), or null for a plain packet. */
function offloadRecord(o: TunOffload | undefined): TunOffload | null {
  return o ? { gsoType: o.gsoType, gsoSize: o.gsoSize, needsChecksum: o.needsChecksum, checksumStart: o.checksumStart, checksumOffset: o.checksumOffset } : null;
}

/** A socket that records what the data path sends (headers and packet joined, as on the wire). */
function recordingSocket(): DatagramSocket {
  const record = (frame: Buffer, port: number, address: string, mark = 0) => {
    frames.push({ phase, read: reads.length - 1, frame: frame.toString('base64'), port, address, mark });
    onFrame(frame);
    wake();
  };
  return {
    address: '192.0.2.1',
    port: 1701,
    marks: true,
    send: (data, port, address, mark) => record(Buffer.from(data), port, address, mark),
    sendParts: (head, headLength, body, port, address, mark) => record(Buffer.concat([head.subarray(0, headLength), body]), port, address, mark),
    onMessage() {},
    onError() {},
    close: () => Promise.resolve(),
  };
}

function until(done: () => boolean, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(done()), ms);
    wake = () => {
      if (done()) {
        clearTimeout(timer);
        wake = () => {};
        // Let the current TUN drain burst finish (its frames are counted after sendParts returns).
        setImmediate(() => resolve(true));
      }
    };
    wake();
  });
}
const framesIn = (p: Phase) => frames.filter((f) => f.phase === p).length;

function sendDatagram(data: Buffer, address: string, port: number, sourcePort: number): Promise<void> {
  const s = createSocket('udp4');
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.bind(sourcePort, NET.gateway, () => s.send(data, port, address, (e) => (s.close(), e ? reject(e) : resolve())));
  });
}

/** Run offload-senders.ts in the server namespace; resolves with its one-line outcome. */
function sendFromServer(mode: 'udp' | 'tcp', port: number): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn('ip', ['netns', 'exec', SERVER_NS, process.execPath, '--import', 'tsx', SENDERS, mode, NET.client, String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => resolve(code === 0 ? out.trim() : `exit ${code}: ${out.trim()}`));
  });
}

// --- the TUN with offloads, the data path and one session ---
const links = createLinkConfig();
const tun = await openTun({ name: 'tboff%d', offloads: true });
const settings = { name: tun.name, mtu: NET.mtu, addresses: [`${NET.gateway}/32`], routes: [NET.clientRoute] };
await links.configure(settings);
const counters = new SessionCounters();
const dataPath = new DataPath(recordingSocket(), tun, counters);
const session: DataSession = {
  localTunnelId: 7,
  localSessionId: 100,
  peerTunnelId: 0x4142,
  peerSessionId: 0x4344,
  peer: { address: '198.51.100.7', port: 1701, mark: 0x55 },
  address: parseIpv4(NET.client)!,
  counterSlot: counters.allocate(),
  forwarding: true,
  acfc: false,
  pfc: false,
  dataNs: 1000, // sequenced: each segment's frame must take the next Ns
  mss: NET.sessionMss, // below the kernel's 1360: its SYN and the client's SYN-ACK are clamped
  onPppFrame() {},
};
dataPath.routes.add(session);
tun.onPacket((packet, offload) => {
  if (packet[0]! >> 4 === 4) reads.push({ phase, offload: offloadRecord(offload), packet: Buffer.from(packet).toString('base64') });
  dataPath.fromTun(packet, offload);
});
const snapshots: Record<string, unknown> = {};
const outcomes: Record<string, unknown> = {};

/** Run one phase: start it, wait for `done`, keep the counters before and after. */
async function run(name: Phase, start: () => Promise<string> | string, done: () => boolean, ms: number): Promise<void> {
  phase = name;
  snapshots[`${name}Before`] = counters.read(session.counterSlot);
  const [sent, finished] = await Promise.all([start(), until(done, ms)]);
  outcomes[name] = { sent, finished };
  snapshots[`${name}After`] = counters.read(session.counterSlot);
  phase = 'after';
}

// --- the L2TP client's side of TCP, played through the data path ---
const OUR_ISN = 0x10000000;
interface TcpPeer {
  server: number[];
  serverPort: number;
  rcvNxt: number;
  finSeen: boolean;
  synAcks: number;
  acks: number;
  /** RFC 7323 timestamps in use: the latest TSval received, echoed in TSecr (§4.3). */
  timestamps: boolean;
  tsRecent: number;
  tsVal: number;
}
const tcpPeers = new Map<number, TcpPeer>();

let clientFrames = 0;
/**
 * A packet from the client as its L2TP data frame (no sequence numbers), into the data path. Every
 * other frame has compressed PPP headers (ACFC + PFC, 7 header bytes): the TUN writes those by
 * copying behind its virtio_net_hdr, the 10-byte form puts the header in the frame's own room.
 */
function fromClient(packet: Buffer): boolean {
  const head = clientFrames++ % 2 === 0 ? Buffer.from([0x00, 0x02, 0, 0, 0, 0, 0xff, 0x03, 0x00, 0x21]) : Buffer.from([0x00, 0x02, 0, 0, 0, 0, 0x21]);
  head.writeUInt16BE(session.localTunnelId, 2);
  head.writeUInt16BE(session.localSessionId, 4);
  const frame = Buffer.concat([head, packet]);
  const header = decodeDataHeader(frame);
  if (!('payloadOffset' in header)) return false;
  const before = counters.read(session.counterSlot).packetsIn;
  dataPath.fromClient(session, frame, header);
  return counters.read(session.counterSlot).packetsIn === before + 1;
}

/** NOP, NOP, Timestamps (RFC 7323 §3): the 12 bytes Linux puts on every segment too. */
function timestampOption(peer: TcpPeer): number[] {
  const b = Buffer.alloc(8);
  b.writeUInt32BE(peer.tsVal++ >>> 0, 0);
  b.writeUInt32BE(peer.tsRecent >>> 0, 4);
  return [1, 1, 8, 10, ...b];
}

function answer(port: number, peer: TcpPeer, flags: number, seq: number, options: number[] = peer.timestamps ? timestampOption(peer) : []): boolean {
  return fromClient(
    buildTcp({
      source: NET.client.split('.').map(Number),
      destination: peer.server,
      sourcePort: port,
      destinationPort: peer.serverPort,
      seq,
      ack: peer.rcvNxt,
      flags,
      window: 0xffff, // scaled by 2^4 after the handshake: 1 MiB
      options,
    }),
  );
}

onFrame = (frame) => {
  const f = parseFrame(frame);
  if (typeof f === 'string') return;
  const ip = checkIpv4(f.ip);
  if (typeof ip === 'string' || ip.protocol !== 6 || ip.destination !== NET.client) return;
  const t = tcpOf(ip);
  const port = t.destinationPort;
  if (t.flags & TCP_SYN) {
    // A retransmitted SYN (a slow machine) gets the same SYN-ACK again; the counts add up.
    const peer: TcpPeer = tcpPeers.get(port) ?? {
      server: ip.source.split('.').map(Number),
      serverPort: t.sourcePort,
      rcvNxt: 0,
      finSeen: false,
      synAcks: 0,
      acks: 0,
      // Forwarded flow: agree to timestamps, so every segment has 12 bytes of TCP options.
      timestamps: port === NET.forwardedTcpPort && timestamps(t.options) !== undefined,
      tsRecent: 0,
      tsVal: 1,
    };
    peer.rcvNxt = (t.seq + 1) >>> 0;
    peer.tsRecent = timestamps(t.options)?.[0] ?? 0;
    tcpPeers.set(port, peer);
    // MSS (RFC 793 §3.1; the data path clamps it to the session's), window scale 4 (RFC 7323 §2),
    // timestamps on the forwarded flow; no SACK.
    const options = [2, 4, NET.mss >> 8, NET.mss & 0xff, 1, 3, 3, 4, ...(peer.timestamps ? timestampOption(peer) : [])];
    if (answer(port, peer, TCP_SYN | TCP_ACK, OUR_ISN, options)) peer.synAcks++;
    return;
  }
  const peer = tcpPeers.get(port);
  if (!peer) return;
  const fin = (t.flags & TCP_FIN) !== 0;
  if (peer.timestamps) peer.tsRecent = timestamps(t.options)?.[0] ?? peer.tsRecent;
  if (t.seq === peer.rcvNxt) peer.rcvNxt = (peer.rcvNxt + t.payload.length + (fin ? 1 : 0)) >>> 0;
  if (fin) peer.finSeen = true;
  if ((t.payload.length > 0 || fin) && answer(port, peer, TCP_ACK, OUR_ISN + 1)) peer.acks++;
};
const finSeen = (port: number) => () => tcpPeers.get(port)?.finSeen === true;

// --- the server namespace behind a veth, for traffic this host forwards ---
const sh = execFileRunner();
await sh('ip', ['link', 'add', 'tbfwd0', 'type', 'veth', 'peer', 'name', 'tbfwd1', 'netns', SERVER_NS]);
await sh('ip', ['address', 'add', `${NET.forwarder}/24`, 'dev', 'tbfwd0']);
await sh('ip', ['link', 'set', 'tbfwd0', 'up']);
await sh('ip', ['-n', SERVER_NS, 'address', 'add', `${NET.server}/24`, 'dev', 'tbfwd1']);
await sh('ip', ['-n', SERVER_NS, 'link', 'set', 'tbfwd1', 'up']);
await sh('ip', ['-n', SERVER_NS, 'link', 'set', 'lo', 'up']);
await sh('ip', ['-n', SERVER_NS, 'route', 'add', NET.clientRoute, 'via', NET.forwarder]);
writeFileSync('/proc/sys/net/ipv4/ip_forward', '1'); // this namespace's only
// A 1 MiB send buffer from the start (per namespace): the 256 KiB write is taken at once and the
// FIN joins the last unsent data, so the kernel's last super-packet carries FIN (cut: on the last
// segment only). With the default 16 KiB the FIN mostly left alone, after the data.
const WMEM = '4096 1048576 4194304';
writeFileSync('/proc/sys/net/ipv4/tcp_wmem', WMEM);
await sh('ip', ['netns', 'exec', SERVER_NS, 'sysctl', '-q', '-w', `net.ipv4.tcp_wmem=${WMEM}`]);

const UDP_FRAMES = 41;
await run('udp', () => sendSegmented(udpPayload(), NET.client, NET.udpPort, NET.udpGsoSize), () => framesIn('udp') >= UDP_FRAMES, 5000);
await run('plain', () => sendDatagram(plainPayload(), NET.client, 9, NET.plainUdpSourcePort).then(() => 'ok'), () => framesIn('plain') >= 1, 5000);
await run('tcp', () => sendTcp(tcpPayload(), NET.client, NET.tcpPort), finSeen(NET.tcpPort), 20_000);
await run('fwd-udp', () => sendFromServer('udp', NET.udpPort), () => framesIn('fwd-udp') >= UDP_FRAMES, 10_000);
await run('fwd-tcp', () => sendFromServer('tcp', NET.forwardedTcpPort), finSeen(NET.forwardedTcpPort), 20_000);

// --- nooff: a TUN opened without offloads gets a GSO send and a plain datagram ---
const plainTun: TunDevice = await openTun({ name: 'tbnooff%d' });
const plainSettings = { name: plainTun.name, mtu: NET.mtu, addresses: ['10.99.0.2/32'], routes: [NET.plainRoute] };
await links.configure(plainSettings);
const plainReads: { offloadArgument: string; packet: string }[] = [];
plainTun.onPacket((packet, offload) => {
  if (packet[0]! >> 4 !== 4) return;
  plainReads.push({ offloadArgument: offload === undefined ? 'undefined' : JSON.stringify(offload), packet: Buffer.from(packet).toString('base64') });
  wake();
});
const plainGso = await sendSegmented(udpPayload().subarray(0, 5 * NET.udpGsoSize), NET.plainClient, NET.udpPort, NET.udpGsoSize);
await sendDatagram(plainPayload(), NET.plainClient, 9, NET.plainUdpSourcePort);
await until(() => plainReads.length >= 6, 5000);

const result = {
  tunName: tun.name,
  offloads: tun.offloads,
  plainTunOffloads: plainTun.offloads,
  outcomes,
  plainGso,
  tcpPeers: Object.fromEntries(tcpPeers),
  snapshots,
  drops: dataPath.drops,
  reads,
  frames,
  plainReads,
};
await plainTun.close();
await tun.close();
await links.teardown(plainSettings);
await links.teardown(settings);
await sh('ip', ['link', 'del', 'tbfwd0']);
writeFileSync(process.argv[2]!, JSON.stringify(result));
