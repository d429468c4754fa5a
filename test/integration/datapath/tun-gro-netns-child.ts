/**
 * Runs inside a network namespace made by tun-gro.test.ts (`ip netns exec`), as root. The agent's
 * real DataPath sits on a TUN opened with offloads, behind a socket that reports batch ends like
 * the batched L2TP socket; client packets (built by test/support/gro-packets.ts, never by the code
 * under test) go in as one received batch, so the data path joins them into GSO super-packets
 * written to the real TUN (datapath/gro.ts). Where they go:
 *
 *   udp-local  two interleaved UDP flows to a node:dgram socket on this host (the kernel segments
 *              the super-packet on delivery), one datagram with a corrupt checksum among them
 *   udp-fwd    the same datagrams to an address routed out a second TUN opened WITHOUT offloads:
 *              this host forwards them and must segment them in software and compute every
 *              checksum from our pseudo-header sum, so the packets read there show byte for byte
 *              what the kernel made of our super-packets
 *   tcp-fwd    TCP segments (one flow without options, one with RFC 7323 timestamps) the same way
 *   tcp-local  a real TCP connection to a node:net server here: the handshake played through the
 *              data path, then the data as one batch of segments (joined), the bytes read back
 *
 * It records what arrived, the kernel's UDP/TCP counters (/proc/net/snmp, this namespace's) and the
 * data path's counters, and writes them as JSON to argv[2]. Not a test file by itself.
 */
import { createSocket } from 'node:dgram';
import { createServer, type Socket } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { createLinkConfig } from '../../../edge-agent/src/io/link-config';
import { openTun } from '../../../edge-agent/src/io/tun';
import { decodeDataHeader } from '../../../edge-agent/src/l2tp';
import { DataPath, SessionCounters } from '../../../edge-agent/src/runtime/data-path';
import { batchedSocket, dataSession } from '../../support/data-path-doubles';
import { GRO_NET as NET, groPhases } from './gro-packets-plan';

const links = createLinkConfig();
const socket = batchedSocket();

const tun = await openTun({ name: 'tbgro%d', offloads: true });
const settings = { name: tun.name, mtu: 1500, addresses: [`${NET.gateway}/32`], routes: [`${NET.client}/32`] };
await links.configure(settings);
const sink = await openTun({ name: 'tbsink%d' });
const sinkSettings = { name: sink.name, mtu: 1500, addresses: [`${NET.sinkGateway}/32`], routes: [`${NET.sinkHost}/32`] };
await links.configure(sinkSettings);
writeFileSync('/proc/sys/net/ipv4/ip_forward', '1'); // this namespace's only

const counters = new SessionCounters();
const dataPath = new DataPath(socket, tun, counters);
const session = dataSession(NET.client, counters.allocate());
dataPath.routes.add(session);

/** The packets as one received batch: each in its own frame buffer (as in the socket's receive slots), then the batch end. */
function batch(packets: readonly Buffer[]): void {
  for (const packet of packets) {
    const frame = Buffer.concat([Buffer.from([0x00, 0x02, 0, 7, 0, 100, 0xff, 0x03, 0x00, 0x21]), packet]);
    const header = decodeDataHeader(frame);
    if (!('payloadOffset' in header)) throw new Error('bad test frame');
    dataPath.fromClient(session, frame, header);
  }
  socket.endBatch();
}

/** This namespace's /proc/net/snmp row for `proto` (Udp, Tcp) as name -> value. */
function snmp(proto: string): Record<string, number> {
  const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith(`${proto}:`));
  const names = lines[0]!.split(/\s+/).slice(1);
  const values = lines[1]!.split(/\s+/).slice(1).map(Number);
  return Object.fromEntries(names.map((n, i) => [n, values[i]!]));
}

const sinkReads: Buffer[] = [];
sink.onPacket((packet) => {
  if (packet[0]! >> 4 === 4) sinkReads.push(Buffer.from(packet));
});

function until(done: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  return new Promise((resolve) => {
    const check = () => (done() ? resolve(true) : Date.now() > end ? resolve(false) : setTimeout(check, 10));
    check();
  });
}

const phases = groPhases();
const result: Record<string, unknown> = { offloads: tun.offloads, sinkOffloads: sink.offloads };
const offloadedBefore = () => ({ ...dataPath.offloaded });

// --- udp-local ---
{
  const received: { port: number; data: string }[] = [];
  const receiver = createSocket('udp4');
  receiver.on('message', (data, from) => received.push({ port: from.port, data: data.toString('base64') }));
  await new Promise<void>((resolve) => receiver.bind(NET.udpPort, NET.gateway, resolve));
  const before = { udp: snmp('Udp'), offloaded: offloadedBefore(), drops: { ...dataPath.drops } };
  batch(phases.udpLocal);
  const finished = await until(() => received.length >= phases.udpLocalDeliverable, 5000);
  await new Promise((r) => setTimeout(r, 200)); // anything extra would show up now
  result.udpLocal = { finished, received, before, after: { udp: snmp('Udp'), offloaded: { ...dataPath.offloaded }, drops: { ...dataPath.drops } } };
  receiver.close();
}

// --- udp-fwd and tcp-fwd: read back from the sink TUN ---
for (const [name, packets] of [
  ['udpForwarded', phases.udpForwarded],
  ['tcpForwarded', phases.tcpForwarded],
] as const) {
  sinkReads.length = 0;
  const before = { offloaded: offloadedBefore() };
  batch(packets);
  const finished = await until(() => sinkReads.length >= packets.length, 5000);
  await new Promise((r) => setTimeout(r, 200));
  result[name] = { finished, reads: sinkReads.map((p) => p.toString('base64')), before, after: { offloaded: { ...dataPath.offloaded } } };
}

// --- tcp-local: a real connection; the client's side played through the data path ---
{
  let serverSocket: Socket | undefined;
  const chunks: Buffer[] = [];
  const server = createServer((s) => {
    serverSocket = s;
    s.on('data', (d: Buffer) => chunks.push(d));
    s.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(NET.tcpPort, NET.gateway, resolve));
  // The server's SYN-ACK comes out of the TUN: read it there (no L2TP needed for this test).
  let synAck: Buffer | undefined;
  tun.onPacket((packet) => {
    if (packet[0] === 0x45 && packet[9] === 6 && (packet[33]! & 0x12) === 0x12) synAck = Buffer.from(packet);
  });
  const before = { tcp: snmp('Tcp'), offloaded: offloadedBefore() };
  batch([phases.tcpSyn]);
  const gotSynAck = await until(() => synAck !== undefined, 5000);
  let finished = false;
  if (synAck) {
    const serverIsn = synAck.readUInt32BE(24);
    const segments = phases.tcpLocal(serverIsn);
    batch(segments);
    finished = await until(() => chunks.reduce((n, c) => n + c.length, 0) >= phases.tcpLocalBytes.length, 5000);
  }
  await new Promise((r) => setTimeout(r, 200));
  result.tcpLocal = { gotSynAck, finished, received: Buffer.concat(chunks).toString('base64'), before, after: { tcp: snmp('Tcp'), offloaded: { ...dataPath.offloaded } } };
  serverSocket?.destroy();
  server.close();
}

result.drops = dataPath.drops;
result.counters = counters.read(session.counterSlot);
await sink.close();
await tun.close();
await links.teardown(sinkSettings);
await links.teardown(settings);
writeFileSync(process.argv[2]!, JSON.stringify(result));
