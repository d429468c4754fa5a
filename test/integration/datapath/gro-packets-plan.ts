/**
 * The client packets of the real-TUN GRO test (tun-gro.test.ts and its netns child), built with
 * test/support/gro-packets.ts, and what the kernel must make of them once forwarded (TTL - 1).
 */
import { ACK, pattern, PSH, sum16, tcp, udp } from '../../support/gro-packets';

export const GRO_NET = {
  /** The agent's TUN (offloads on) and the session's client behind it. */
  gateway: '10.97.0.1',
  client: '10.97.1.2',
  /** A TUN without offloads and an address routed out of it: forwarded packets are segmented in software. */
  sinkGateway: '10.96.0.1',
  sinkHost: '10.96.1.2',
  udpPort: 9000,
  tcpPort: 5003,
  clientIsn: 0x20000000,
} as const;

/** Interleave runs round-robin (sessions' flows arriving mixed in one batch). */
function interleave(...runs: Buffer[][]): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; runs.some((r) => i < r.length); i++) for (const r of runs) if (i < r.length) out.push(r[i]!);
  return out;
}

/** A copy with its transport's last byte flipped: the transport checksum no longer verifies. */
export function corrupt(packet: Buffer): Buffer {
  const c = Buffer.from(packet);
  c[c.length - 1] = c[c.length - 1]! ^ 0x01;
  return c;
}

/** The packet as the host forwards it: TTL - 1, IPv4 header checksum recomputed, nothing else. */
export function forwarded(packet: Buffer): Buffer {
  const f = Buffer.from(packet);
  f[8] = f[8]! - 1;
  f.writeUInt16BE(0, 10);
  f.writeUInt16BE(~sum16(f.subarray(0, 20)) & 0xffff, 10);
  return f;
}

const N = GRO_NET;

/** Two UDP flows: A 12 x 1200 + 300 bytes, B 6 x 800 with B[3] corrupt; ids consecutive per flow. */
function udpFlows(destination: string) {
  const a = [...Array.from({ length: 12 }, () => 1200), 300].map((n, i) => udp(pattern(n, i), { id: 1000 + i, source: N.client, destination, sport: 40000, dport: N.udpPort }));
  const b = Array.from({ length: 6 }, (_, i) => udp(pattern(800, 40 + i), { id: 2000 + i, source: N.client, destination, sport: 40001, dport: N.udpPort }));
  b[3] = corrupt(b[3]!);
  return { a, b, batch: interleave(a, b) };
}

export function groPhases() {
  const local = udpFlows(N.gateway);
  const fwd = udpFlows(N.sinkHost);
  let seq = 1_000_000;
  const c = [...Array.from({ length: 16 }, () => 1000), 400].map((n, i, all) => {
    const p = tcp(pattern(n, 80 + i), { id: 3000 + i, seq, source: N.client, destination: N.sinkHost, sport: 50000, dport: 443, tcpFlags: i === all.length - 1 ? ACK | PSH : ACK });
    seq += n;
    return p;
  });
  const timestamps = [1, 1, 8, 10, 0, 1, 0, 0, 0, 2, 0, 0];
  const d = Array.from({ length: 5 }, (_, i) => tcp(pattern(988, 120 + i), { id: 4000 + i, seq: 7_000_000 + i * 988, source: N.client, destination: N.sinkHost, sport: 50001, dport: 443, tcpOptions: timestamps }));
  const tcpLocalBytes = pattern(20_000, 7);
  return {
    udpLocal: local.batch,
    udpLocalFlows: { a: local.a, b: local.b },
    /** Datagrams the receiver must get: all but the corrupt one. */
    udpLocalDeliverable: local.a.length + local.b.length - 1,
    udpForwarded: fwd.batch,
    tcpForwarded: interleave(c, d),
    tcpForwardedFlows: { c, d },
    tcpSyn: tcp(Buffer.alloc(0), { id: 5000, seq: N.clientIsn, source: N.client, destination: N.gateway, sport: 50100, dport: N.tcpPort, tcpFlags: 0x02, window: 65535, tcpOptions: [2, 4, 0x05, 0xb4] }),
    tcpLocalBytes,
    /** The handshake's ACK, then the bytes in 1000-byte segments (PSH on the last), ids and seq consecutive. */
    tcpLocal(serverIsn: number): Buffer[] {
      const ack = (serverIsn + 1) >>> 0;
      const base = { source: N.client, destination: N.gateway, sport: 50100, dport: N.tcpPort, ack, window: 65535 };
      const out = [tcp(Buffer.alloc(0), { ...base, id: 5001, seq: N.clientIsn + 1 })];
      for (let i = 0; i * 1000 < tcpLocalBytes.length; i++) {
        const last = (i + 1) * 1000 >= tcpLocalBytes.length;
        out.push(tcp(tcpLocalBytes.subarray(i * 1000, (i + 1) * 1000), { ...base, id: 5002 + i, seq: N.clientIsn + 1 + i * 1000, tcpFlags: last ? ACK | PSH : ACK }));
      }
      return out;
    },
  };
}
