/**
 * GRO write-path experiment (issue 21; not a test). Run as root:
 *   ip netns add tbgroperf && ip netns exec tbgroperf node --import tsx test/integration/datapath/tun-gro-throughput.ts; ip netns del tbgroperf
 * Client packets go through the agent's real DataPath into a real TUN with offloads, in received
 * batches of 64 frames (as the marked socket's recvmmsg hands them over), forwarded out a veth
 * (which takes GSO packets whole, as a NIC with TSO/USO would) to a MAC address nobody has, so the
 * other end discards them: the production path of a client's upload. Packets/s, same rounds, modes alternating (best of the
 * rounds; the machine is shared):
 *   gro-udp / gro-tcp   one flow per batch with consecutive IP ids (and TCP sequence): joined
 *   gro-none            the same UDP frames with one IP id repeated: nothing joins (the held-batch
 *                       overhead alone)
 *   plain               the socket reports no batch ends: one write per packet (the path before GRO)
 * Prints JSON.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createLinkConfig } from '../../../edge-agent/src/io/link-config';
import { openTun } from '../../../edge-agent/src/io/tun';
import { decodeDataHeader, L2tpDecodeError, type DataHeaderView } from '../../../edge-agent/src/l2tp';
import { DataPath, SessionCounters } from '../../../edge-agent/src/runtime/data-path';
import { batchedSocket, dataSession } from '../../support/data-path-doubles';
import { ACK, pattern, tcp, udp } from '../../support/gro-packets';

const SIZE = Number(process.env.SIZE ?? 1400);
const BATCH = 64;
const BATCHES = 1500;
const tun = await openTun({ name: 'tbgroperf%d', offloads: true });
await createLinkConfig().configure({ name: tun.name, mtu: 1500, addresses: ['10.95.0.1/32'], routes: ['10.95.1.0/24'] });
const ip = (...args: string[]) => execFileSync('ip', args);
ip('link', 'add', 'tbgroeth0', 'type', 'veth', 'peer', 'name', 'tbgroeth1');
ip('link', 'set', 'tbgroeth0', 'up');
ip('link', 'set', 'tbgroeth1', 'up');
ip('address', 'add', '10.94.0.1/16', 'dev', 'tbgroeth0');
ip('neigh', 'add', '10.94.0.2', 'lladdr', '02:00:00:00:00:99', 'dev', 'tbgroeth0', 'nud', 'permanent');
writeFileSync('/proc/sys/net/ipv4/ip_forward', '1'); // this namespace's only

/** One batch's frames (each its own buffer, as the socket's receive slots) and their parsed headers. */
function frames(kind: 'udp' | 'tcp' | 'same-id'): { frame: Buffer; view: DataHeaderView }[] {
  const base = { source: '10.95.1.2', destination: '10.94.0.2', dport: 9 };
  return Array.from({ length: BATCH }, (_, i) => {
    const packet =
      kind === 'tcp'
        ? tcp(pattern(SIZE - 40, i), { ...base, id: i, seq: i * (SIZE - 40), tcpFlags: ACK })
        : udp(pattern(SIZE - 28, i), { ...base, id: kind === 'udp' ? i : 1 });
    const frame = Buffer.concat([Buffer.from([0x00, 0x02, 0, 7, 0, 100, 0xff, 0x03, 0x00, 0x21]), packet]);
    const view = decodeDataHeader(frame);
    if (view instanceof L2tpDecodeError) throw new Error(view.message);
    return { frame, view };
  });
}

const modes = {
  'gro-udp': { batches: true, kind: 'udp' },
  'gro-tcp': { batches: true, kind: 'tcp' },
  'gro-none': { batches: true, kind: 'same-id' },
  plain: { batches: false, kind: 'udp' },
} as const;
const results: Record<string, number[]> = {};
const written: Record<string, number> = {};
for (let round = 0; round < 5; round++) {
  for (const [name, mode] of Object.entries(modes)) {
    const s = batchedSocket(mode.batches);
    const counters = new SessionCounters();
    const path = new DataPath(s, tun, counters);
    const sess = dataSession('10.95.1.2', counters.allocate());
    const batch = frames(mode.kind);
    const t = process.hrtime.bigint();
    for (let b = 0; b < BATCHES; b++) {
      for (const f of batch) path.fromClient(sess, f.frame, f.view);
      s.endBatch();
    }
    const ns = Number(process.hrtime.bigint() - t);
    const accepted = counters.read(sess.counterSlot).packetsIn;
    (results[name] ??= []).push(Math.round((accepted / ns) * 1e9));
    written[name] = path.offloaded.coalescedWrites;
  }
}
const best = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, Math.max(...v)]));
console.log(JSON.stringify({ size: SIZE, batch: BATCH, packetsPerRound: BATCH * BATCHES, bestPps: best, rounds: results, superPacketsLastRound: written }));
await tun.close();
ip('link', 'del', 'tbgroeth0');
