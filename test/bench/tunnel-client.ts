/**
 * The tunnel-setup client in a process of its own: a sequential L2TP LAC that brings up control
 * connections only (RFC 2661 §5.1: SCCRQ -> SCCRP -> SCCCN, no sessions), one at a time, each from
 * its own loopback source address (127.<base>.x.y), against any LNS (the edge agent, xl2tpd).
 * Messages are built and read with the project's L2TP codec; the client keeps the smallest
 * reliable-delivery state a tunnel needs to stay up: it acknowledges whatever the LNS sends later
 * (its ZLB ack of SCCCN is counted as the tunnel confirmed; a HELLO or StopCCN gets a ZLB, §5.8).
 * Driven over IPC by tunnel-setup.ts.
 */
import { openUdp, type DatagramSocket } from '../../edge-agent/src/io';
import { decodeControlMessage, decodePacket, encodeControlMessage, encodePacket, L2tpDecodeError } from '../../edge-agent/src/l2tp';
import { serveRpc } from './child-rpc';

interface Server {
  readonly address: string;
  readonly port: number;
}

/** Our side of one tunnel: what the LNS assigned and what we expect from it next. */
interface ClientTunnel {
  readonly server: Server;
  peerTunnelId: number;
  /** Ns we expect next from the LNS (our Nr). */
  nr: number;
  confirmed: boolean;
}

interface Source {
  readonly socket: DatagramSocket;
  /** `${server port}|${our Assigned Tunnel ID}` -> tunnel. */
  readonly tunnels: Map<string, ClientTunnel>;
  /** The SCCRP this source waits for now (one setup at a time). */
  waiting?: { server: Server; ourTunnelId: number; resolve: () => void };
}

const sources: Source[] = [];
/** Tunnels whose SCCCN the LNS acknowledged, by `${server port}|${our Assigned Tunnel ID}`. */
const confirmedBy = new Map<string, number>();
let confirmed = 0;
let acksSent = 0;
let unexpected = 0;

/** 127.<base>.<1..254>.<1..254>: never .0 or .255 in the last octet. */
const sourceAddress = (base: number, i: number) => `127.${base}.${1 + Math.floor(i / 254)}.${1 + (i % 254)}`;

/** Our SCCRQ (§6.1) with `ourTunnelId` as Assigned Tunnel ID; Ns 0, Nr 0, to Tunnel ID 0. */
function sccrq(ourTunnelId: number): Uint8Array {
  const body = encodeControlMessage({
    type: 'SCCRQ',
    protocolVersion: { version: 1, revision: 0 },
    hostName: 'bench-lac',
    framingCapabilities: 3,
    bearerCapabilities: 0,
    assignedTunnelId: ourTunnelId,
    receiveWindowSize: 4,
    vendorName: 'tunnel-broker bench',
  });
  return encodePacket({ isControl: true, tunnelId: 0, sessionId: 0, ns: 0, nr: 0 }, body);
}

const SCCCN_BODY = encodeControlMessage({ type: 'SCCCN' });

function onDatagram(source: Source, data: Buffer, port: number): void {
  const packet = decodePacket(data);
  if (packet instanceof L2tpDecodeError || !packet.header.isControl) {
    unexpected++;
    return;
  }
  const { header, payload } = packet;
  const key = `${port}|${header.tunnelId}`;
  const waiting = source.waiting;
  if (waiting && waiting.server.port === port && waiting.ourTunnelId === header.tunnelId && !source.tunnels.has(key)) {
    const msg = payload.length > 0 ? decodeControlMessage(payload) : undefined;
    if (!msg || msg instanceof L2tpDecodeError || msg.type !== 'SCCRP' || msg.assignedTunnelId === undefined) {
      unexpected++;
      return;
    }
    source.waiting = undefined;
    const tunnel: ClientTunnel = { server: waiting.server, peerTunnelId: msg.assignedTunnelId, nr: 1, confirmed: false };
    source.tunnels.set(key, tunnel);
    // SCCCN (§6.3) acknowledges the SCCRP (Nr 1); the LNS's acknowledgement of it confirms the tunnel.
    source.socket.send(encodePacket({ isControl: true, tunnelId: tunnel.peerTunnelId, sessionId: 0, ns: 1, nr: 1 }, SCCCN_BODY), port, tunnel.server.address);
    waiting.resolve();
    return;
  }
  const tunnel = source.tunnels.get(key);
  if (!tunnel) {
    unexpected++;
    return;
  }
  if (!tunnel.confirmed && header.nr !== undefined && header.nr >= 2) {
    tunnel.confirmed = true;
    confirmed++;
    confirmedBy.set(key, (confirmedBy.get(key) ?? 0) + 1);
  }
  if (payload.length === 0) return; // a ZLB: nothing to acknowledge
  if (header.ns === tunnel.nr) tunnel.nr = (tunnel.nr + 1) & 0xffff;
  // HELLO, StopCCN or a retransmission: acknowledge with a ZLB (our next Ns is 2: SCCRQ 0, SCCCN 1).
  source.socket.send(encodePacket({ isControl: true, tunnelId: tunnel.peerTunnelId, sessionId: 0, ns: 2, nr: tunnel.nr }), port, tunnel.server.address);
  acksSent++;
}

/** Binds `count` sockets, one per source address 127.<base>.x.y (done before any timing). */
async function bind(a: { base: number; count: number }): Promise<number> {
  for (let i = sources.length; i < a.count; i++) {
    const socket = await openUdp({ address: sourceAddress(a.base, i), port: 0 });
    const source: Source = { socket, tunnels: new Map() };
    socket.onMessage((data, remote) => onDatagram(source, data, remote.port));
    socket.onError(() => {
      // Loss (e.g. ICMP port unreachable after a server stopped): the servers retransmit.
    });
    sources.push(source);
  }
  return sources.length;
}

/**
 * Sets up `count` tunnels one after the other against `server`, from sources `first`..: SCCRQ,
 * wait for SCCRP, SCCCN, and the next SCCRQ at once (driven from the receive callback: no promise
 * or timer per tunnel, so the client adds little to each round trip). A setup without SCCRP within
 * `timeoutMs` fails and the next one starts. `seconds` is the setup time (first SCCRQ to last
 * SCCCN); the LNS's acknowledgements of the SCCCNs are counted as they come (see `confirmed`).
 */
async function run(a: { server: Server; first: number; count: number; ourTunnelId: number; timeoutMs?: number }) {
  const packet = sccrq(a.ourTunnelId);
  const timeoutMs = a.timeoutMs ?? 3000;
  const end = a.first + a.count;
  let failed = 0;
  let next = a.first;
  let startedAt = 0;
  const t0 = performance.now();
  await new Promise<void>((done) => {
    const start = (): void => {
      if (next === end) {
        clearInterval(watchdog);
        done();
        return;
      }
      const source = sources[next++];
      if (!source) throw new Error(`source ${next - 1} is not bound (bind first)`);
      source.waiting = { server: a.server, ourTunnelId: a.ourTunnelId, resolve: start };
      startedAt = performance.now();
      source.socket.send(packet, a.server.port, a.server.address);
    };
    const watchdog = setInterval(() => {
      const source = sources[next - 1];
      if (!source?.waiting || performance.now() - startedAt < timeoutMs) return;
      source.waiting = undefined;
      failed++;
      start();
    }, 100);
    start();
  });
  return { seconds: (performance.now() - t0) / 1000, ok: a.count - failed, failed };
}

/** Tunnels with our ids `ourTunnelIds` that `port` has confirmed so far, after waiting up to `timeoutMs` for `atLeast` of them. */
async function confirmedOf(a: { port: number; ourTunnelIds: number[]; atLeast: number; timeoutMs: number }): Promise<number> {
  const count = () => a.ourTunnelIds.reduce((n, id) => n + (confirmedBy.get(`${a.port}|${id}`) ?? 0), 0);
  const deadline = performance.now() + a.timeoutMs;
  while (count() < a.atLeast && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return count();
}

serveRpc(
  {
    bind: (a) => bind(a as { base: number; count: number }),
    run: (a) => run(a as Parameters<typeof run>[0]),
    confirmed: (a) => confirmedOf(a as Parameters<typeof confirmedOf>[0]),
    stats: () => ({ confirmed, acksSent, unexpected, sources: sources.length }),
  },
  async () => {
    await Promise.all(sources.splice(0).map((s) => s.socket.close()));
  },
);
