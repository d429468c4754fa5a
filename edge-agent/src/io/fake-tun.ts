/**
 * An in-memory TUN for tests: the `device` side is what the agent uses, the `peer` side plays the
 * kernel. Like the real device it hands handlers a view of one reused buffer, and it poisons that
 * buffer after each handler returns, so a consumer that keeps the view instead of copying fails
 * its tests instead of corrupting packets in production.
 *
 * `writeWithHeader` plays the kernel's side of a GSO write (tun_get_user, virtio_net_hdr_to_skb):
 * it checks the virtio_net_hdr as strictly as the data path needs (a header the kernel would take
 * but segment wrongly is refused here too), then cuts the super-packet as the kernel's GSO would,
 * so `written` holds the packets the kernel's stack would see.
 */
import { GSO_NONE, GSO_TCPV4, GSO_UDP_L4, GsoSegmenter, readVirtioNetHeader, VIRTIO_NET_HDR_SIZE, type TunOffload } from '../datapath/gso';
import { checkIpv4Packet } from '../datapath/ipv4';
import { onesComplementSum } from '../datapath/checksum';
import type { TunDevice, TunOffloads } from './tun';
import type { TunError } from './errors';

export interface FakeTunPeer {
  /** Deliver a packet to the device's packet handler, as if the kernel routed it into the TUN (with a virtio_net_hdr's request when given). */
  inject(packet: Uint8Array, offload?: TunOffload): void;
  /** Copies of the packets the device wrote (sent to the "kernel"), oldest first. */
  readonly written: Uint8Array[];
  /** Called with each packet the device writes (after it is appended to `written`). */
  onWrite(handler: (packet: Uint8Array) => void): void;
  /** Resolves with the next written packet not yet taken by an earlier call. */
  nextWrite(): Promise<Uint8Array>;
  /** Each frame `writeWithHeader` took: its virtio_net_hdr and the packet behind it (copies). */
  readonly superPackets: { readonly header: Uint8Array; readonly packet: Uint8Array }[];
  /** Why frames given to `writeWithHeader` were refused (a bug in the writer: tests expect none). */
  readonly rejected: string[];
  /** Make the next writes fail (return false), like a full kernel queue. */
  failWrites: boolean;
  readonly closed: boolean;
}

const POISON = 0xee;

/** A connected device/peer pair. */
export function createFakeTun(name = 'faketun0', offloads: TunOffloads = 'none'): { device: TunDevice; peer: FakeTunPeer } {
  let closed = false;
  let packetHandler: ((packet: Buffer, offload: TunOffload | undefined) => void) | undefined;
  let writeHandler: (packet: Uint8Array) => void = () => {};
  const scratch = Buffer.alloc(65536);
  const written: Uint8Array[] = [];
  let taken = 0;
  const waiters: ((packet: Uint8Array) => void)[] = [];

  const superPackets: FakeTunPeer['superPackets'][number][] = [];
  const rejected: string[] = [];
  const segmenter = new GsoSegmenter();
  const peer: FakeTunPeer = {
    written,
    superPackets,
    rejected,
    failWrites: false,
    get closed() {
      return closed;
    },
    inject(packet, offload) {
      if (closed || !packetHandler) return; // the kernel drops while nobody reads
      scratch.set(packet);
      packetHandler(scratch.subarray(0, packet.length), offload);
      scratch.fill(POISON, 0, packet.length);
    },
    onWrite(handler) {
      writeHandler = handler;
    },
    nextWrite() {
      const ready = written[taken];
      if (ready) {
        taken++;
        return Promise.resolve(ready);
      }
      return new Promise((resolve) => waiters.push(resolve));
    },
  };

  const device: TunDevice = {
    name,
    offloads,
    write(packet) {
      if (closed || peer.failWrites) return false;
      const copy = Uint8Array.from(packet);
      written.push(copy);
      const waiter = waiters.shift();
      if (waiter) {
        taken++;
        waiter(copy);
      }
      writeHandler(copy);
      return true;
    },
    writeFrom(buf, start, end) {
      return device.write(buf.subarray(start, end));
    },
    writeWithHeader(frame, length) {
      if (closed || peer.failWrites || offloads === 'none' || length <= VIRTIO_NET_HDR_SIZE || length > frame.length) return false;
      const header = Uint8Array.from(frame.subarray(0, VIRTIO_NET_HDR_SIZE));
      const packet = Uint8Array.from(frame.subarray(VIRTIO_NET_HDR_SIZE, length));
      const offload: TunOffload = { gsoType: 0, gsoSize: 0, needsChecksum: false, checksumStart: 0, checksumOffset: 0 };
      readVirtioNetHeader(header, offload);
      const problem = superPacketProblem(header, packet, offload, offloads);
      if (problem) {
        rejected.push(problem);
        return false;
      }
      superPackets.push({ header, packet });
      if (offload.gsoType === GSO_NONE) return device.write(packet);
      const count = segmenter.load(packet, offload.gsoType, offload.gsoSize);
      for (let i = 0; i < count; i++) {
        const start = segmenter.payloadStart(i);
        const stop = segmenter.payloadStop(i);
        const segment = new Uint8Array(packet.length);
        const headers = segmenter.writeHeaders(i, segment, 0);
        segment.set(packet.subarray(start, stop), headers);
        device.write(segment.subarray(0, headers + stop - start));
      }
      return true;
    },
    writeMany(packets, count = packets.length) {
      let ok = 0;
      for (let i = 0; i < count; i++) {
        const packet = packets[i];
        if (packet && device.write(packet)) ok++;
      }
      return ok;
    },
    onPacket(handler) {
      packetHandler = handler;
    },
    onError(_handler: (error: TunError) => void) {
      // The fake never fails reads.
    },
    close() {
      closed = true;
      return Promise.resolve();
    },
  };
  return { device, peer };
}

/**
 * What the kernel would refuse in a GSO write, or segment into packets other than the writer meant:
 * the rules of virtio_net_hdr_to_skb (NEEDS_CSUM at the transport header, UDP_L4 at most 64
 * segments) and what tcp_gso_segment/__udp_gso_segment expect of the checksum field (the
 * pseudo-header sum of the super-packet's own length, RFC 793 §3.1 / RFC 768).
 */
function superPacketProblem(header: Uint8Array, packet: Uint8Array, offload: TunOffload, offloads: TunOffloads): string | undefined {
  if (checkIpv4Packet(packet) !== undefined || ((packet[2]! << 8) | packet[3]!) !== packet.length) return `bad IPv4 header (${checkIpv4Packet(packet) ?? 'total length'})`;
  if (offload.gsoType === GSO_NONE) return offload.needsChecksum ? 'NEEDS_CSUM without GSO is not what the data path writes' : undefined;
  const tcp = offload.gsoType === GSO_TCPV4;
  if (!tcp && offload.gsoType !== GSO_UDP_L4) return `gso_type ${offload.gsoType}`;
  if (!tcp && offloads !== 'tso+uso') return 'UDP_L4 without USO';
  if (packet[9] !== (tcp ? 6 : 17)) return `gso_type ${offload.gsoType} on IP protocol ${packet[9]}`;
  const ihl = (packet[0]! & 0x0f) << 2;
  const l4Header = tcp ? (packet[ihl + 12]! >>> 4) << 2 : 8;
  const hdrLen = header[2]! | (header[3]! << 8);
  if (!offload.needsChecksum || offload.checksumStart !== ihl || offload.checksumOffset !== (tcp ? 16 : 6)) return 'NEEDS_CSUM not at the transport checksum';
  if (hdrLen !== ihl + l4Header) return `hdr_len ${hdrLen}, headers ${ihl + l4Header}`;
  const payload = packet.length - ihl - l4Header;
  if (offload.gsoSize === 0 || payload <= offload.gsoSize) return `gso_size ${offload.gsoSize} for ${payload} payload bytes`;
  if (!tcp && payload > offload.gsoSize * 64) return 'more than 64 UDP segments';
  const l4Length = packet.length - ihl;
  if (!tcp && ((packet[ihl + 4]! << 8) | packet[ihl + 5]!) !== l4Length) return 'UDP length';
  const pseudo = onesComplementSum(packet, 12, 20, packet[9]! + l4Length);
  const at = ihl + (tcp ? 16 : 6);
  const field = (packet[at]! << 8) | packet[at + 1]!;
  if (field !== pseudo) return `checksum field 0x${field.toString(16)}, pseudo-header sum 0x${pseudo.toString(16)}`;
  return undefined;
}
