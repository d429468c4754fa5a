/**
 * GRO for TUN writes (issue 21): the reverse of gso.ts. Within one received batch, consecutive
 * packets of one TCP or UDP flow that the kernel could have cut from one super-packet are joined
 * into that super-packet and written to the TUN once, behind a virtio_net_hdr asking for GSO
 * (as wireguard-go coalesces its TUN writes). The kernel then segments it again where it has to
 * (net/ipv4/af_inet.c inet_gso_segment, tcp_offload.c tcp_gso_segment, udp_offload.c
 * __udp_gso_segment), rewriting per segment exactly what we require to follow a rule here:
 *   IPv4: total length, identification = first id + i, header checksum; TOS, TTL, DF copied.
 *     So: no options, no fragments, same TOS/TTL/DF, ids exactly +1 per packet.
 *   UDP: length, checksum; every payload gso_size bytes except a shorter last one; at most 64
 *     (UDP_MAX_SEGMENTS: virtio_net_hdr_to_skb refuses more).
 *   TCP: seq += gso_size; FIN/PSH cleared but on the last, CWR but on the first; all else copied.
 *     So: contiguous sequence, same ack/window/urgent/options, ACK only (PSH on the last).
 * The super-packet is CHECKSUM_PARTIAL (NEEDS_CSUM, csum_start at the transport header), its
 * checksum field the pseudo-header sum of its own length (what tcp_gso_segment/__udp_gso_segment
 * adjust per segment). A CHECKSUM_PARTIAL packet counts as verified on local delivery, so every
 * original's transport checksum is verified before it joins: a corrupt packet goes alone and the
 * kernel drops it as it would have. Checksums are verified lazily, only when a merge is at hand,
 * so a batch without a coalescing opportunity pays no checksum pass.
 *
 * No I/O, never throws: packets are held as views (valid until `flush`, which the caller runs
 * before the buffers are reused) and handed back to a sink, alone or joined.
 */
import { GSO_TCPV4, GSO_UDP_L4, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_SIZE } from './gso';
import { IP_PROTOCOL_TCP, IP_PROTOCOL_UDP } from './ipv4';

/** Segments per super-packet at most (the kernel's UDP_MAX_SEGMENTS; kept for TCP too). */
export const GRO_MAX_SEGMENTS = 64;
/** Packets held at most before the caller must flush (two received batches of 64). */
export const GRO_MAX_HELD = 128;
const TABLE_SIZE = 256; // power of two, twice GRO_MAX_HELD: short probe chains
const MAX_IP_LENGTH = 65535;
const TCP_ACK = 0x10;
const TCP_PSH = 0x08;

/** Where the held packets go at `flush`, in the order their first packets came. */
export interface GroSink {
  /** A packet that joined nothing: buf[start, end) as it was added (bytes before start are the caller's). */
  single(buf: Uint8Array, start: number, end: number, tag: number): void;
  /**
   * A super-packet: frame[0, length) is a virtio_net_hdr followed by the packet. tags[0, count)
   * and lengths[0, count) are the tags and IP lengths of the packets it joined, in order (views
   * reused by the next call).
   */
  coalesced(frame: Uint8Array, length: number, tags: Int32Array, lengths: Int32Array, count: number): void;
}

/** Which transports may be joined: UDP needs the TUN's USO (Linux >= 6.2), TCP its TSO. */
export interface GroOptions {
  readonly udp: boolean;
  readonly tcp: boolean;
}

/** Item states: a packet or chain that takes no more packets, or one that may, checksums verified or not yet. */
const CLOSED = 0;
const OPEN = 1;
const OPEN_VERIFIED = 2;

/** The packets of one batch, grouped into items (a packet alone or a chain to join), per flow. */
export class GroBatch {
  private readonly bufs: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(GRO_MAX_HELD).fill(undefined);
  private readonly starts = new Int32Array(GRO_MAX_HELD);
  private readonly ends = new Int32Array(GRO_MAX_HELD);
  private readonly tags = new Int32Array(GRO_MAX_HELD);
  /** Next packet of the same item, or -1. */
  private readonly nexts = new Int32Array(GRO_MAX_HELD);
  private packets = 0;

  private readonly heads = new Int32Array(GRO_MAX_HELD);
  private readonly tails = new Int32Array(GRO_MAX_HELD);
  private readonly counts = new Int32Array(GRO_MAX_HELD);
  private readonly states = new Uint8Array(GRO_MAX_HELD);
  private readonly gsoSizes = new Int32Array(GRO_MAX_HELD);
  /** IP total length of the super-packet so far. */
  private readonly totals = new Int32Array(GRO_MAX_HELD);
  private readonly nextIds = new Int32Array(GRO_MAX_HELD);
  private readonly nextSeqs = new Uint32Array(GRO_MAX_HELD);
  private readonly keySources = new Uint32Array(GRO_MAX_HELD);
  private readonly keyDestinations = new Uint32Array(GRO_MAX_HELD);
  private readonly keyPorts = new Uint32Array(GRO_MAX_HELD);
  private readonly keyProtocols = new Uint8Array(GRO_MAX_HELD);
  private items = 0;

  /** Flow table: per slot the flow's latest item, valid when its stamp is this batch's. */
  private readonly slotItems = new Int32Array(TABLE_SIZE);
  private readonly slotStamps = new Uint32Array(TABLE_SIZE);
  private stamp = 1;

  private readonly frame = new Uint8Array(VIRTIO_NET_HDR_SIZE + MAX_IP_LENGTH);
  private readonly outTags = new Int32Array(GRO_MAX_SEGMENTS);
  private readonly outLengths = new Int32Array(GRO_MAX_SEGMENTS);
  private view: DataView = new DataView(new ArrayBuffer(0));

  constructor(private readonly options: GroOptions) {}

  /** Packets held. */
  get held(): number {
    return this.packets;
  }

  /** No room for another packet: flush first. */
  get full(): boolean {
    return this.packets === GRO_MAX_HELD;
  }

  /**
   * Hold the IPv4 packet buf[start, end) (its header already validated, end - start its total
   * length) until `flush`; `tag` comes back with it. False when full (nothing held).
   */
  add(buf: Uint8Array, start: number, end: number, tag: number): boolean {
    if (this.packets === GRO_MAX_HELD) return false;
    const p = this.packets++;
    this.bufs[p] = buf;
    this.starts[p] = start;
    this.ends[p] = end;
    this.tags[p] = tag;
    this.nexts[p] = -1;
    const protocol = buf[start + 9]!;
    const enabled = protocol === IP_PROTOCOL_UDP ? this.options.udp : protocol === IP_PROTOCOL_TCP && this.options.tcp;
    const ihl = (buf[start]! & 0x0f) << 2;
    // Only the first fragment carries ports; later ones cannot belong to a flow we join.
    if (!enabled || end - start < ihl + 4 || (buf[start + 6]! & 0x1f) !== 0 || buf[start + 7] !== 0) {
      this.newItem(p, CLOSED);
      return true;
    }
    const source = u32(buf, start + 12);
    const destination = u32(buf, start + 16);
    const ports = u32(buf, start + ihl);
    let slot = (Math.imul(source ^ Math.imul(destination, 0x9e3779b1) ^ Math.imul(ports, 0x85ebca6b), 0xc2b2ae35) >>> 24) & (TABLE_SIZE - 1);
    for (;;) {
      if (this.slotStamps[slot] !== this.stamp) break;
      const item = this.slotItems[slot]!;
      if (this.keySources[item] === source && this.keyDestinations[item] === destination && this.keyPorts[item] === ports && this.keyProtocols[item] === protocol) {
        const verdict = this.append(item, p);
        if (verdict === APPENDED) return true;
        // The flow's later packets may join this one, never an earlier item: its order holds.
        this.slotItems[slot] = this.newItem(p, verdict === REFUSED ? this.headState(p) : CLOSED);
        this.setKey(source, destination, ports, protocol);
        return true;
      }
      slot = (slot + 1) & (TABLE_SIZE - 1);
    }
    this.slotStamps[slot] = this.stamp;
    this.slotItems[slot] = this.newItem(p, this.headState(p));
    this.setKey(source, destination, ports, protocol);
    return true;
  }

  /**
   * Hand every held packet to `sink`, alone or joined, in the order of each item's first packet
   * (so each flow's order holds), then forget them all (also when the sink throws).
   */
  flush(sink: GroSink): void {
    try {
      for (let i = 0; i < this.items; i++) {
        const head = this.heads[i]!;
        if (this.counts[i] === 1) sink.single(this.bufs[head]!, this.starts[head]!, this.ends[head]!, this.tags[head]!);
        else {
          const count = this.counts[i]!;
          const length = this.build(i);
          sink.coalesced(this.frame, length, this.outTags, this.outLengths, count);
        }
      }
    } finally {
      this.bufs.fill(undefined, 0, this.packets);
      this.packets = 0;
      this.items = 0;
      if (++this.stamp === 0x100000000) {
        this.stamp = 1;
        this.slotStamps.fill(0);
      }
    }
  }

  private newItem(p: number, state: number): number {
    const i = this.items++;
    this.heads[i] = p;
    this.tails[i] = p;
    this.counts[i] = 1;
    this.states[i] = state;
    if (state !== CLOSED) {
      const b = this.bufs[p]!;
      const s = this.starts[p]!;
      const length = this.ends[p]! - s;
      const header = this.headerLength(b, s);
      this.gsoSizes[i] = length - header;
      this.totals[i] = length;
      this.nextIds[i] = (u16(b, s + 4) + 1) & 0xffff;
      if (b[s + 9] === IP_PROTOCOL_TCP) this.nextSeqs[i] = (u32(b, s + 24) + length - header) >>> 0;
    }
    return i;
  }

  /** The flow of the item just made. */
  private setKey(source: number, destination: number, ports: number, protocol: number): void {
    const i = this.items - 1;
    this.keySources[i] = source;
    this.keyDestinations[i] = destination;
    this.keyPorts[i] = ports;
    this.keyProtocols[i] = protocol;
  }

  /** IPv4 + TCP/UDP header length of a packet that passed `headState`. */
  private headerLength(b: Uint8Array, s: number): number {
    return b[s + 9] === IP_PROTOCOL_TCP ? 20 + ((b[s + 32]! >>> 4) << 2) : 28;
  }

  /** Whether packet p may start a super-packet: OPEN, or CLOSED when it can only go alone. */
  private headState(p: number): number {
    const b = this.bufs[p]!;
    const s = this.starts[p]!;
    const length = this.ends[p]! - s;
    // No options (the kernel copies them to every segment, unchecked), no MF, DF alone allowed.
    if (b[s] !== 0x45 || (b[s + 6]! & 0xbf) !== 0 || u16(b, s + 2) !== length) return CLOSED;
    if (b[s + 9] === IP_PROTOCOL_UDP) {
      // A zero checksum means none (RFC 768): segments would get one; leave such datagrams alone.
      if (length <= 28 || u16(b, s + 24) !== length - 20 || u16(b, s + 26) === 0) return CLOSED;
      return OPEN;
    }
    if (length < 40) return CLOSED;
    const header = 20 + ((b[s + 32]! >>> 4) << 2);
    // Data with ACK alone: PSH would be lost on the first segment, and SYN/FIN/RST/URG/ECE/CWR are not for joining.
    if (header < 40 || header >= length || b[s + 33] !== TCP_ACK) return CLOSED;
    return OPEN;
  }

  /** Join packet p to item i when the kernel would cut them apart into exactly these packets. */
  private append(i: number, p: number): number {
    if (this.states[i] === CLOSED || this.counts[i] === GRO_MAX_SEGMENTS) return REFUSED;
    const b = this.bufs[p]!;
    const s = this.starts[p]!;
    const length = this.ends[p]! - s;
    const head = this.heads[i]!;
    const hb = this.bufs[head]!;
    const hs = this.starts[head]!;
    if (b[s] !== 0x45 || b[s + 1] !== hb[hs + 1] || b[s + 6] !== hb[hs + 6] || b[s + 7] !== 0 || b[s + 8] !== hb[hs + 8]) return REFUSED;
    if (u16(b, s + 2) !== length || u16(b, s + 4) !== this.nextIds[i]) return REFUSED;
    const gsoSize = this.gsoSizes[i]!;
    let payload: number;
    let last = false;
    if (b[s + 9] === IP_PROTOCOL_UDP) {
      payload = length - 28;
      if (payload <= 0 || payload > gsoSize || u16(b, s + 24) !== length - 20 || u16(b, s + 26) === 0) return REFUSED;
      last = payload < gsoSize;
    } else {
      if (length < 40) return REFUSED;
      const header = 20 + ((b[s + 32]! >>> 4) << 2);
      payload = length - header;
      if (header !== 20 + ((hb[hs + 32]! >>> 4) << 2) || payload <= 0 || payload > gsoSize) return REFUSED;
      const flags = b[s + 33];
      if (flags !== TCP_ACK && flags !== (TCP_ACK | TCP_PSH)) return REFUSED;
      if (u32(b, s + 24) !== this.nextSeqs[i]) return REFUSED;
      // ack, then data offset .. urgent pointer except flags and checksum, then the options.
      if (u32(b, s + 28) !== u32(hb, hs + 28) || b[s + 32] !== hb[hs + 32] || u16(b, s + 34) !== u16(hb, hs + 34) || u16(b, s + 38) !== u16(hb, hs + 38)) return REFUSED;
      for (let k = 40; k < header; k++) if (b[s + k] !== hb[hs + k]) return REFUSED;
      last = payload < gsoSize || flags !== TCP_ACK;
    }
    if (this.totals[i]! + payload > MAX_IP_LENGTH) return REFUSED;
    if (this.states[i] === OPEN) {
      if (!this.checksumValid(hb, hs, this.ends[head]!)) {
        this.states[i] = CLOSED;
        return REFUSED;
      }
      this.states[i] = OPEN_VERIFIED;
    }
    if (!this.checksumValid(b, s, s + length)) return CORRUPT;
    this.nexts[this.tails[i]!] = p;
    this.tails[i] = p;
    this.counts[i] = this.counts[i]! + 1;
    this.totals[i] = this.totals[i]! + payload;
    this.nextIds[i] = (this.nextIds[i]! + 1) & 0xffff;
    this.nextSeqs[i] = (this.nextSeqs[i]! + payload) >>> 0;
    if (last) this.states[i] = CLOSED;
    return APPENDED;
  }

  /** The transport checksum of the packet b[s, end) (20-byte IPv4 header) verifies (RFC 1071 §1, RFC 768, RFC 793 §3.1). */
  private checksumValid(b: Uint8Array, s: number, end: number): boolean {
    let view = this.view;
    if (view.buffer !== b.buffer) view = this.view = new DataView(b.buffer);
    const o = b.byteOffset + s;
    let sum = view.getUint32(o + 12) + view.getUint32(o + 16) + b[s + 9]! + (end - s - 20);
    let k = o + 20;
    const stop = b.byteOffset + end;
    for (; k + 7 < stop; k += 8) sum += view.getUint32(k) + view.getUint32(k + 4);
    for (; k + 1 < stop; k += 2) sum += view.getUint16(k);
    if (k < stop) sum += view.getUint8(k) << 8;
    while (sum > 0xffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
    return sum === 0xffff;
  }

  /** Write item i's super-packet behind its virtio_net_hdr into `frame`; answers the frame's length. */
  private build(i: number): number {
    const frame = this.frame;
    const head = this.heads[i]!;
    const hb = this.bufs[head]!;
    const hs = this.starts[head]!;
    const tcp = hb[hs + 9] === IP_PROTOCOL_TCP;
    const header = this.headerLength(hb, hs);
    const at0 = VIRTIO_NET_HDR_SIZE;
    frame.set(hb.subarray(hs, hs + header), at0);
    let at = at0 + header;
    let n = 0;
    let last = head;
    for (let p = head; p >= 0; p = this.nexts[p]!) {
      const b = this.bufs[p]!;
      const s = this.starts[p]!;
      const e = this.ends[p]!;
      frame.set(b.subarray(s + header, e), at);
      at += e - s - header;
      this.outTags[n] = this.tags[p]!;
      this.outLengths[n] = e - s;
      n++;
      last = p;
    }
    const total = at - at0;
    frame[at0 + 2] = total >>> 8;
    frame[at0 + 3] = total & 0xff;
    frame[at0 + 10] = 0;
    frame[at0 + 11] = 0;
    let ipSum = 0;
    for (let k = 0; k < 20; k += 2) ipSum += (frame[at0 + k]! << 8) | frame[at0 + k + 1]!;
    ipSum = fold(ipSum);
    const ipChecksum = ~ipSum & 0xffff;
    frame[at0 + 10] = ipChecksum >>> 8;
    frame[at0 + 11] = ipChecksum & 0xff;
    const l4Length = total - 20;
    let checksumAt: number;
    if (tcp) {
      // The last packet's flags (ACK, maybe PSH): the kernel clears PSH on all segments but the last.
      frame[at0 + 33] = this.bufs[last]![this.starts[last]! + 33]!;
      checksumAt = at0 + 36;
    } else {
      frame[at0 + 24] = l4Length >>> 8;
      frame[at0 + 25] = l4Length & 0xff;
      checksumAt = at0 + 26;
    }
    // CHECKSUM_PARTIAL: the field holds the pseudo-header sum (not complemented), length included.
    let pseudo = l4Length + hb[hs + 9]!;
    for (let k = 12; k < 20; k += 2) pseudo += (frame[at0 + k]! << 8) | frame[at0 + k + 1]!;
    pseudo = fold(pseudo);
    frame[checksumAt] = pseudo >>> 8;
    frame[checksumAt + 1] = pseudo & 0xff;
    // struct virtio_net_hdr, little-endian: flags, gso_type, hdr_len, gso_size, csum_start, csum_offset.
    frame[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    frame[1] = tcp ? GSO_TCPV4 : GSO_UDP_L4;
    le16(frame, 2, header);
    le16(frame, 4, this.gsoSizes[i]!);
    le16(frame, 6, 20);
    le16(frame, 8, tcp ? 16 : 6);
    return at;
  }
}

const APPENDED = 0;
/** Not joinable: the packet starts an item of its own (which may take later packets). */
const REFUSED = 1;
/** Its transport checksum is wrong: it goes alone, and takes nothing after it. */
const CORRUPT = 2;

function u16(b: Uint8Array, at: number): number {
  return (b[at]! << 8) | b[at + 1]!;
}

function u32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

function le16(b: Uint8Array, at: number, value: number): void {
  b[at] = value & 0xff;
  b[at + 1] = value >>> 8;
}

function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}
