/**
 * The packet path between the L2TP socket and the shared TUN device (the hot path: no per-packet
 * objects beyond the unavoidable views and one outgoing buffer per packet sent to a client).
 *
 *   client -> agent: L2TP data header (RFC 2661 §3.1) -> PPP header (ACFC/PFC forms, RFC 1661 §6.5/6.6)
 *     -> IPv4 (0x0021) -> source must be the session's address -> MSS clamp -> TUN write
 *   agent -> client: TUN read -> IPv4 destination -> session (route table) -> MSS clamp
 *     -> PPP + L2TP headers prepended -> UDP send to the client's address and port, with the packet
 *     mark of the IPsec SA the tunnel's latest datagram came through (its reply path)
 *   With TUN offloads a read may be a GSO super-packet: it is cut into MSS-sized segments
 *     (datapath/gso.ts), each framed and counted as its own packet; a partial checksum is completed.
 *   With TUN offloads and a socket that receives in batches, a batch's packets to the TUN are held
 *     until the batch ends, and consecutive packets of one TCP/UDP flow go as one GSO super-packet
 *     (datapath/gro.ts): one write(2) for many. Checks, the MSS clamp and drops happen per packet
 *     as they arrive; the counters count each packet when its write succeeds.
 *
 * Non-IPv4 PPP protocols (LCP, IPCP, authentication, CCP...) go to the session's PPP engine.
 */
import { checkClientPacket, checkIpv4Packet, clampTcpMss, ipv4TotalLength, RouteTable, SessionCounters, type DropReason } from '../datapath';
import { completeChecksum, GSO_NONE, GsoSegmenter, type TunOffload } from '../datapath/gso';
import { GroBatch, type GroSink } from '../datapath/gro';
import type { DatagramSocket } from '../io/udp';
import type { TunDevice } from '../io/tun';
import type { PeerPath } from './tunnels';
import { encodeDataHeaderInto, type DataHeaderView } from '../l2tp';

const PPP_IPV4 = 0x0021;

/** What the data path needs of a session; the session runner owns and updates these fields. */
export interface DataSession {
  readonly localTunnelId: number;
  readonly localSessionId: number;
  peerTunnelId: number;
  peerSessionId: number;
  /** The tunnel's peer: address, port and the IPsec SA mark replies carry (shared with the tunnel). */
  readonly peer: PeerPath;
  /** Assigned client address as uint32; 0 until the link is up. */
  address: number;
  readonly counterSlot: number;
  /** Forwarding enabled (IPCP opened). */
  forwarding: boolean;
  /** Peer accepts ACFC / PFC on frames we send. */
  acfc: boolean;
  pfc: boolean;
  /** Peer asked for sequenced data messages (§5.4): our next Ns, or -1 when off. */
  dataNs: number;
  /** Largest TCP MSS allowed through this session. */
  mss: number;
  /** A non-IPv4 PPP frame for the session's PPP engine (payload is a view: copy to keep). */
  onPppFrame(protocol: number, payload: Uint8Array): void;
}

/** Counters of packets the data path dropped, by reason (process totals). */
/** `unprotected`: a datagram without a mark for a tunnel whose datagrams came through a marked SA. */
/** `bad-offload`: a TUN super-packet or partial checksum whose offsets do not fit the packet. */
export type DropCounts = Record<DropReason | 'not-forwarding' | 'bad-ppp' | 'tun-write' | 'unprotected' | 'bad-offload', number>;

export class DataPath<S extends DataSession = DataSession> {
  readonly routes = new RouteTable<S>();
  readonly drops: DropCounts = {
    'too-short': 0,
    'not-ipv4': 0,
    'bad-header-length': 0,
    'bad-total-length': 0,
    'bad-checksum': 0,
    'spoofed-source': 0,
    'no-route': 0,
    'not-forwarding': 0,
    'bad-ppp': 0,
    'tun-write': 0,
    unprotected: 0,
    'bad-offload': 0,
  };
  /**
   * TUN offload work (process totals): super-packets read and cut, the segments they made, partial
   * checksums completed; super-packets written (joined from clients' packets) and the packets joined.
   */
  readonly offloaded = { superPackets: 0, segments: 0, checksums: 0, coalescedWrites: 0, coalescedPackets: 0 };
  /** Per-session spoofing drops (keyed by counter slot), for logs and tests. */
  readonly spoofDrops = new Map<number, number>();
  /** Packets from clients held until the socket's batch ends (TUN offloads and a batched socket only). */
  private readonly gro: GroBatch | undefined;

  constructor(
    private readonly socket: DatagramSocket,
    private readonly tun: TunDevice,
    readonly counters: SessionCounters,
  ) {
    if (tun.offloads !== 'none' && socket.onBatchEnd) {
      this.gro = new GroBatch({ tcp: true, udp: tun.offloads === 'tso+uso' });
      socket.onBatchEnd(() => this.endBatch());
    }
  }

  /**
   * Write the packets held from the batch just received, joined where they can be. The socket
   * calls it at each batch end; the agent also before a session's counters are read for good.
   */
  endBatch(): void {
    const gro = this.gro;
    if (gro !== undefined && gro.held > 0) gro.flush(this.tunWriter);
  }

  private readonly tunWriter: GroSink = {
    single: (buf, start, end, slot) => {
      if (this.tun.writeFrom(buf, start, end)) this.counters.addIn(slot, end - start);
      else this.drops['tun-write']++;
    },
    coalesced: (frame, length, slots, lengths, count) => {
      if (!this.tun.writeWithHeader(frame, length)) {
        this.drops['tun-write'] += count;
        return;
      }
      this.offloaded.coalescedWrites++;
      this.offloaded.coalescedPackets += count;
      for (let i = 0; i < count; i++) this.counters.addIn(slots[i]!, lengths[i]!);
    },
  };

  /** A data packet from a client, already matched to `session`. */
  fromClient(session: DataSession, buf: Uint8Array, view: DataHeaderView): void {
    let at = view.payloadOffset;
    const end = at + view.payloadLength;
    if (end - at < 2) {
      this.drops['bad-ppp']++;
      return;
    }
    // Receivers accept the uncompressed forms whatever was negotiated (RFC 1661 §6.5, §6.6).
    if (buf[at] === 0xff) {
      if (buf[at + 1] !== 0x03) {
        this.drops['bad-ppp']++;
        return;
      }
      at += 2;
    }
    if (at >= end) {
      this.drops['bad-ppp']++;
      return;
    }
    let protocol = buf[at]!;
    if ((protocol & 1) === 1) at += 1;
    else {
      if (at + 1 >= end || (buf[at + 1]! & 1) === 0) {
        this.drops['bad-ppp']++;
        return;
      }
      protocol = (protocol << 8) | buf[at + 1]!;
      at += 2;
    }
    if (protocol !== PPP_IPV4) {
      session.onPppFrame(protocol, buf.subarray(at, end));
      return;
    }
    if (!session.forwarding) {
      this.drops['not-forwarding']++;
      return;
    }
    const packet = buf.subarray(at, end);
    const verdict = checkClientPacket(packet, session.address);
    if (verdict !== undefined) {
      this.drops[verdict]++;
      if (verdict === 'spoofed-source') this.spoofDrops.set(session.counterSlot, (this.spoofDrops.get(session.counterSlot) ?? 0) + 1);
      return;
    }
    const total = ipv4TotalLength(packet);
    const ip = total === packet.length ? packet : packet.subarray(0, total);
    clampTcpMss(ip, session.mss);
    const gro = this.gro;
    if (gro !== undefined) {
      // Held as a view of the socket's buffer, valid until the batch ends (endBatch runs then).
      if (gro.full) this.endBatch();
      gro.add(buf, at, at + total, session.counterSlot);
      return;
    }
    // The frame's L2TP/PPP headers, parsed by now, are room for the TUN's own header.
    if (this.tun.writeFrom(buf, at, at + total)) this.counters.addIn(session.counterSlot, total);
    else this.drops['tun-write']++;
  }

  /** Frame headers of the packet being sent (L2TP with Ns/Nr: 10, PPP uncompressed: 4), then a segment's IPv4 and TCP headers (60 + 60 at most). */
  private readonly head = Buffer.alloc(14 + 120);
  private readonly segmenter = new GsoSegmenter();

  /**
   * A packet the kernel routed into the TUN (the buffer is reused after we return, and ours until
   * then: the MSS clamp edits it in place). The frame's headers and the packet go to the socket as
   * two parts, so the batched socket assembles the frame in its send arena: no buffer per packet.
   * `offload` (TUN offloads on): a super-packet to segment, or a checksum to complete.
   */
  fromTun(packet: Uint8Array, offload?: TunOffload): void {
    const invalid = checkIpv4Packet(packet);
    if (invalid !== undefined) {
      this.drops[invalid]++;
      return;
    }
    const session = this.routes.lookupPacket(packet);
    if (!session || !session.forwarding) {
      this.drops['no-route']++;
      return;
    }
    const total = ipv4TotalLength(packet);
    const ip = total === packet.length ? packet : packet.subarray(0, total);
    if (offload) {
      if (offload.gsoType !== GSO_NONE) {
        this.sendSegments(session, ip, offload);
        return;
      }
      if (offload.needsChecksum) {
        if (!completeChecksum(ip, total, offload.checksumStart, offload.checksumOffset)) {
          this.drops['bad-offload']++;
          return;
        }
        this.offloaded.checksums++;
      }
    }
    clampTcpMss(ip, session.mss);
    const pppHeader = (session.acfc ? 0 : 2) + (session.pfc ? 1 : 2);
    const headLength = (session.dataNs >= 0 ? 10 : 6) + pppHeader;
    this.writeHeaders(session, this.head, PPP_IPV4, pppHeader, total);
    const peer = session.peer;
    this.socket.sendParts(this.head, headLength, ip, peer.port, peer.address, peer.mark);
    this.counters.addOut(session.counterSlot, total);
  }

  /**
   * A GSO super-packet: one frame per segment, its headers (L2TP, PPP, IPv4, TCP/UDP) built in
   * `head` and its payload a view of the super-packet. No MSS clamp: a SYN is never a super-packet.
   */
  private sendSegments(session: DataSession, ip: Uint8Array, offload: TunOffload): void {
    const segmenter = this.segmenter;
    const count = segmenter.load(ip, offload.gsoType, offload.gsoSize);
    if (count === 0) {
      this.drops['bad-offload']++;
      return;
    }
    this.offloaded.superPackets++;
    this.offloaded.segments += count;
    const pppHeader = (session.acfc ? 0 : 2) + (session.pfc ? 1 : 2);
    const frameHead = (session.dataNs >= 0 ? 10 : 6) + pppHeader;
    const head = this.head;
    const peer = session.peer;
    for (let i = 0; i < count; i++) {
      const start = segmenter.payloadStart(i);
      const stop = segmenter.payloadStop(i);
      const headers = segmenter.writeHeaders(i, head, frameHead);
      const length = headers + stop - start;
      this.writeHeaders(session, head, PPP_IPV4, pppHeader, length);
      this.socket.sendParts(head, frameHead + headers, ip.subarray(start, stop), peer.port, peer.address, peer.mark);
      this.counters.addOut(session.counterSlot, length);
    }
  }

  /** A PPP control frame from the session's engine: always the uncompressed header (RFC 1661 §6.5). */
  sendPpp(session: DataSession, protocol: number, payload: Uint8Array): void {
    const l2tpHeader = session.dataNs >= 0 ? 10 : 6;
    const out = Buffer.allocUnsafe(l2tpHeader + 4 + payload.length);
    out.set(payload, l2tpHeader + 4);
    this.writeHeaders(session, out, protocol, 4, payload.length);
    const peer = session.peer;
    this.socket.send(out, peer.port, peer.address, peer.mark);
  }

  private writeHeaders(session: DataSession, out: Uint8Array, protocol: number, pppHeader: number, payloadLength: number): void {
    const sequenced = session.dataNs >= 0;
    const ns = sequenced ? session.dataNs : -1;
    if (sequenced) session.dataNs = (session.dataNs + 1) & 0xffff;
    let at = encodeDataHeaderInto(out, 0, session.peerTunnelId, session.peerSessionId, pppHeader + payloadLength, false, ns, 0);
    if (pppHeader === 4 || pppHeader === 3) {
      out[at++] = 0xff;
      out[at++] = 0x03;
    }
    if (pppHeader === 1 || pppHeader === 3) out[at] = protocol;
    else {
      out[at] = protocol >>> 8;
      out[at + 1] = protocol & 0xff;
    }
  }
}

export { SessionCounters };
