/**
 * The from-TUN cases' traffic: UDP datagrams of `ipSize` IP bytes to the destinations (port 9),
 * round-robin, as fast as this process can send them, for `seconds`.
 *
 *   gso:     UDP GSO super-datagrams (UDP_SEGMENT, a per-socket option): each send is one datagram
 *            of N segments of ipSize - 28 payload bytes, which is what a download looks like after
 *            a NIC's GRO when the host forwards it into a TUN with TSO/USO offloads: one read of
 *            up to 64 KiB. A TUN without offloads (the bare relay, an agent without them) gets
 *            the same datagram segmented by the kernel into ipSize-byte packets.
 *   packets: one datagram per packet, through the batched native socket (one sendmmsg per 64).
 *
 * Both count what the kernel accepted in ipSize-byte packets (segments); EAGAIN/ENOBUFS (send
 * buffer full) is not sent.
 *
 * Offered load: at most `offeredPps` packets/s (OFFERED_PPS by default, about 4x what the relay
 * takes: the rate the per-packet injector reaches here). A flood far above what the reader takes
 * measures the cost of dropping more than that of forwarding: without a cap the GSO injector
 * offered ~4M packets/s, and for a TUN without offloads the kernel segments every super-datagram
 * in the injector's send call before the full queue drops them, CPU taken from the reader on a
 * 2-core machine (the relay fell from ~90k to ~50k packets/s). A download's TCP sender keeps the
 * queue near full, not 40x over; the cap keeps the overload the same for every target.
 */
import { libcSocketCalls, MarksUnavailable, type SocketCalls } from '../../edge-agent/src/io/native-udp';
import { AF_INET, Errno, initSlot, MMSGHDR_SIZE, MSG_DONTWAIT, parseAddress, prepareSendSlot, slotLayouts, SO_SNDBUF, SOCK_CLOEXEC, SOCK_DGRAM, SOCK_NONBLOCK, SOL_SOCKET } from '../../edge-agent/src/io/msghdr';
import { openUdp } from '../../edge-agent/src/io/udp';

export type InjectMode = 'gso' | 'packets';

export interface Injected {
  /** ipSize-byte packets the kernel accepted (a super-datagram counts its segments). */
  readonly sent: number;
  readonly seconds: number;
}

/** include/uapi/linux/udp.h. */
const SOL_UDP = 17;
const UDP_SEGMENT = 103;
/** include/linux/udp.h: UDP_MAX_SEGMENTS is 128 on recent kernels, 64 on older ones (EINVAL above it). */
const MAX_SEGMENTS = 128;
const OLD_MAX_SEGMENTS = 64;
/** A UDP payload fits one IPv4 datagram: 65,535 - 20 - 8. */
const MAX_UDP_PAYLOAD = 65_507;
/** Super-datagrams per sendmmsg. */
const BATCH = 16;
const PORT = 9;

/** Segments per super-datagram for `ipSize`-byte packets: as many as the kernel allows. */
export function gsoSegments(ipSize: number, max = MAX_SEGMENTS): number {
  return Math.min(max, Math.floor(MAX_UDP_PAYLOAD / (ipSize - 28)));
}

/** The default offered load, packets/s. */
export const OFFERED_PPS = 400_000;

export function inject(mode: InjectMode, destinations: readonly string[], ipSize: number, seconds: number, offeredPps = OFFERED_PPS): Promise<Injected> {
  return mode === 'gso' ? injectGso(destinations, ipSize, seconds, offeredPps) : injectPackets(destinations, ipSize, seconds, offeredPps);
}

/** Waits while `sent` is ahead of the offered rate (by a millisecond or more: timers are that coarse). */
async function pace(sent: number, t0: number, offeredPps: number): Promise<void> {
  const aheadMs = (sent / offeredPps) * 1000 - (performance.now() - t0);
  if (aheadMs >= 1) await new Promise<void>((r) => setTimeout(r, aheadMs));
  else await new Promise<void>((r) => setImmediate(r));
}

/**
 * Through the batched native socket so that the generator is not what limits the figures: with
 * node:dgram (one sendmsg and its JS machinery per datagram) it alone managed ~90k packets/s here,
 * about the relay's rate.
 */
async function injectPackets(destinations: readonly string[], ipSize: number, seconds: number, offeredPps: number): Promise<Injected> {
  const socket = await openUdp({ address: '0.0.0.0', port: 0, sendBufferSize: 4 << 20, marks: 'auto' });
  const payload = Buffer.alloc(ipSize - 28);
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  let sent = 0;
  let i = 0;
  while (performance.now() < end) {
    for (let k = 0; k < 256; k++) {
      socket.send(payload, PORT, destinations[i]!);
      i = i + 1 === destinations.length ? 0 : i + 1;
    }
    sent += 256;
    await pace(sent, t0, offeredPps);
  }
  const elapsed = (performance.now() - t0) / 1000;
  await socket.close();
  // The native socket drops what the kernel refuses (send buffer full): those were never sent.
  const refused = (socket as { dropped?: { sendBufferFull: number } }).dropped?.sendBufferFull ?? 0;
  return { sent: sent - refused, seconds: elapsed };
}

async function injectGso(destinations: readonly string[], ipSize: number, seconds: number, offeredPps: number): Promise<Injected> {
  const sys = await libcSocketCalls();
  if (sys instanceof MarksUnavailable) throw new Error(`GSO injector: ${sys.reason} (--inject=packets sends without it)`);
  const targets = destinations.map((d) => parseAddress(d) ?? fail(`not an address: ${d}`));
  const fd = sys.socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) fail(`socket: errno ${sys.errno()}`);
  try {
    setInt(sys, fd, SOL_SOCKET, SO_SNDBUF, 4 << 20);
    setInt(sys, fd, SOL_UDP, UDP_SEGMENT, ipSize - 28);
    let segments = gsoSegments(ipSize);
    // The message headers, then the one payload every slot points at (zeros, like the per-packet
    // injector's): one buffer with its own backing store, whose addresses the kernel gets.
    const { slots, size } = slotLayouts(BATCH, 0);
    const arena = Buffer.allocUnsafeSlow(size + segments * (ipSize - 28)).fill(0);
    const view = new DataView(arena.buffer, arena.byteOffset, arena.length);
    const base = sys.address(arena);
    const payloadAddress = base + size;
    for (const slot of slots) initSlot(view, base, slot, 0);

    const t0 = performance.now();
    const end = t0 + seconds * 1000;
    let accepted = 0;
    let offered = 0;
    let next = 0;
    while (performance.now() < end) {
      // One batch, each super-datagram to the next destination; what the kernel refuses is retried
      // (to the same destinations) after a turn of the event loop.
      for (let k = 0; k < BATCH; k++) {
        prepareSendSlot(view, base, slots[k]!, targets[(next + k) % targets.length]!, PORT, segments * (ipSize - 28), 0, payloadAddress);
      }
      let index = 0;
      while (index < BATCH) {
        const n = sys.sendmmsg(fd, index === 0 ? arena : arena.subarray(index * MMSGHDR_SIZE), BATCH - index, MSG_DONTWAIT);
        if (n > 0) {
          index += n;
          continue;
        }
        const errno = sys.errno();
        if (errno === Errno.EINTR) continue;
        if (errno === Errno.EAGAIN || errno === Errno.ENOBUFS) break;
        if (errno === Errno.EINVAL && accepted === 0 && index === 0 && segments > gsoSegments(ipSize, OLD_MAX_SEGMENTS)) {
          // An older kernel's UDP_MAX_SEGMENTS: the same payload buffer, fewer segments.
          segments = gsoSegments(ipSize, OLD_MAX_SEGMENTS);
          break;
        }
        fail(`sendmmsg of ${segments} x ${ipSize - 28} bytes: errno ${errno}`);
      }
      accepted += index * segments;
      offered += BATCH * segments;
      next = (next + index) % targets.length;
      await pace(offered, t0, offeredPps);
    }
    return { sent: accepted, seconds: (performance.now() - t0) / 1000 };
  } finally {
    sys.close(fd);
  }
}

function setInt(sys: SocketCalls, fd: number, level: number, name: number, value: number): void {
  const b = Buffer.alloc(4);
  b.writeInt32LE(value);
  if (sys.setsockopt(fd, level, name, b, 4) !== 0) fail(`setsockopt(${level}, ${name}, ${value}): errno ${sys.errno()}`);
}

function fail(message: string): never {
  throw new Error(`GSO injector: ${message}`);
}
