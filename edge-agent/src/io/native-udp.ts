/**
 * The L2TP socket with per-datagram packet marks, for telling apart clients that share one
 * address AND port (Windows PCs behind one NAT all send L2TP from port 1701; docs/ipsec.md).
 * charon puts each CHILD_SA's mark on the datagrams it decrypts (`set_mark_in = %same`); this
 * socket reads it with SO_RCVMARK (a SOL_SOCKET/SO_MARK control message per datagram, Linux >=
 * 5.19) and sends each reply with a mark as an SO_MARK control message (needs CAP_NET_ADMIN), so
 * it matches that SA's marked outbound policy. node:dgram exposes no control messages, hence this
 * thin native part: libc's recvmmsg/sendmmsg through koffi (prebuilt for x64 and arm64, already
 * used for the TUN ioctl), woken by a libuv poll handle on Node's own event loop
 * (`koffi.node.poll`), so nothing blocks and no threadpool thread is parked. The poll callback
 * only schedules the reading: koffi calls it outside any Node callback scope (executionAsyncId()
 * is 0 there: no async context for what the handlers start, and their ticks and promise jobs
 * run only by V8's own checkpoint). A setImmediate runs in the same loop iteration, right after
 * the poll phase, in a proper scope, as node:dgram's 'message' listeners run; a handler that
 * throws then surfaces as an uncaught exception, as from a 'message' listener.
 *
 * Batching: each wake-up reads up to RECEIVE_BATCH datagrams per recvmmsg (a few calls per
 * wake-up, bounded so the TUN gets its turn); sends are copied into a send arena and leave in one
 * sendmmsg per batch, flushed when the batch is full and at the end of the current task (a
 * microtask), so a TUN burst of N packets costs N/64 system calls instead of N. After the handler
 * has seen a recvmmsg's datagrams, the batch-end handler runs (before the slots are reused): the
 * data path joins a batch's packets into TUN super-packets then (datapath/gro.ts).
 *
 * Segmentation (`segmentation`, UDP GSO): datagrams of one batch that follow each other to the
 * same client with the same mark and size (a TUN super-packet cut into segments is such a run) go
 * as ONE message: their arena slots gathered, UDP_SEGMENT telling the kernel to cut them apart
 * again, so the UDP/IP send path runs once per run instead of once per datagram. The kernel
 * refuses it on IPsec (xfrm) routes (EIO) and above the route's MTU (EINVAL/EMSGSIZE): that run
 * then leaves datagram by datagram, and the destination (for the MTU: at that size) is not tried
 * again.
 */
import { lookup } from 'node:dns';
import { constants as osConstants } from 'node:os';
import { isIP } from 'node:net';
import { UdpError } from './errors';
import {
  AF_INET,
  AF_INET6,
  Errno,
  formatIpv4At,
  formatIpv6At,
  initSlot,
  MMSGHDR_SIZE,
  MSG_DONTWAIT,
  MSG_TRUNC,
  parseAddress,
  prepareSendSlot,
  readSockaddr,
  receivedFlags,
  receivedLength,
  receivedMark,
  resetReceiveSlot,
  slotLayouts,
  SEGMENTED_CONTROL_SIZE,
  prepareSegmentedMessage,
  SO_MARK,
  SO_RCVBUF,
  SO_RCVMARK,
  SO_SNDBUF,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  SOCK_NONBLOCK,
  SOL_SOCKET,
  writeSockaddr,
  type RawAddress,
  type SlotLayout,
} from './msghdr';
import type { DatagramSocket, OpenUdpOptions, RemoteInfo } from './datagram';

/** The system calls the socket makes: libc through koffi, or a test double. */
export interface SocketCalls {
  socket(domain: number, type: number, protocol: number): number;
  setsockopt(fd: number, level: number, name: number, value: Uint8Array, length: number): number;
  bind(fd: number, address: Uint8Array, length: number): number;
  getsockname(fd: number, address: Uint8Array, length: Uint8Array): number;
  recvmmsg(fd: number, vector: Uint8Array, count: number, flags: number, timeout: null): number;
  sendmmsg(fd: number, vector: Uint8Array, count: number, flags: number): number;
  close(fd: number): number;
  errno(): number;
  /** Address of a buffer's first byte (stable: backing stores of Buffers never move). */
  address(buffer: Uint8Array): number;
  /** Calls `onReadable` from the event loop whenever the fd is readable, until closed. */
  poll(fd: number, onReadable: () => void): { close(): void };
}

/** Why the marked socket cannot be used here (the caller falls back to node:dgram). */
export class MarksUnavailable {
  constructor(readonly reason: string) {}
}

/** Datagrams per recvmmsg / sendmmsg. */
const RECEIVE_BATCH = 64;
const SEND_BATCH = 64;
/** recvmmsg calls per wake-up at most (256 datagrams, like the TUN's drain burst). */
const RECEIVE_ROUNDS = 4;
/** Room per datagram: the PPP MTU is at most 1500, plus L2TP/PPP headers. Larger is counted and dropped. */
const RECEIVE_SLOT = 4096;
/** Sends up to this size are copied into the arena; larger ones are sent from the caller's buffer. */
const SEND_SLOT = 4096;
/** Datagram bytes per segmented send at most: an IPv4 datagram's 65,535 less headers, with room to spare. */
const SEGMENTED_MAX_BYTES = 65_000;
/** Destinations remembered as refusing segmentation; past this the memory starts over (a new try each). */
const REFUSED_MAX = 4096;

let loaded: SocketCalls | MarksUnavailable | undefined;

/** libc through koffi; MarksUnavailable when this platform or koffi cannot provide it. */
export async function libcSocketCalls(): Promise<SocketCalls | MarksUnavailable> {
  if (loaded) return loaded;
  if (process.platform !== 'linux' || (process.arch !== 'x64' && process.arch !== 'arm64')) {
    return (loaded = new MarksUnavailable(`the marked socket supports Linux on x64 and arm64, not ${process.platform}/${process.arch}`));
  }
  try {
    const koffi = (await import('koffi')).default;
    if (typeof koffi.node?.poll !== 'function') return (loaded = new MarksUnavailable(`koffi ${koffi.version} has no node.poll`));
    const libc = koffi.load('libc.so.6');
    const fn = <T>(signature: string) => libc.func(signature) as unknown as T;
    loaded = {
      socket: fn('int socket(int domain, int type, int protocol)'),
      setsockopt: fn('int setsockopt(int fd, int level, int name, const void *value, unsigned int length)'),
      bind: fn('int bind(int fd, const void *address, unsigned int length)'),
      getsockname: fn('int getsockname(int fd, void *address, void *length)'),
      recvmmsg: fn('int recvmmsg(int fd, void *vector, unsigned int count, int flags, void *timeout)'),
      sendmmsg: fn('int sendmmsg(int fd, void *vector, unsigned int count, int flags)'),
      close: fn('int close(int fd)'),
      errno: () => koffi.errno(),
      address: (buffer) => Number(koffi.address(buffer)),
      poll: (fd, onReadable) => koffi.node.poll(fd, { readable: true }, onReadable),
    };
    return loaded;
  } catch (cause) {
    return (loaded = new MarksUnavailable(`cannot load koffi/libc: ${String(cause)}`));
  }
}

const ERRNO_NAMES = new Map<number, string>(Object.entries(osConstants.errno).map(([name, value]) => [value, name]));

function errnoError(errno: number, call: string): NodeJS.ErrnoException {
  const code = ERRNO_NAMES.get(errno) ?? `errno ${errno}`;
  const error: NodeJS.ErrnoException = new Error(`${call} ${code}`);
  error.code = code;
  error.errno = -errno;
  error.syscall = call;
  return error;
}

/**
 * Opens the marked socket, or answers MarksUnavailable when this host cannot do marks (kernel
 * without SO_RCVMARK, no CAP_NET_ADMIN for SO_MARK, no koffi): the caller then uses node:dgram.
 * Rejects with UdpError when the socket itself cannot be made or bound (EADDRINUSE, EACCES...).
 */
export async function openMarkedUdp(options: OpenUdpOptions, calls?: SocketCalls): Promise<DatagramSocket | MarksUnavailable> {
  const sys = calls ?? (await libcSocketCalls());
  if (sys instanceof MarksUnavailable) return sys;
  const bindAddress = await resolveLiteral(options.address);
  const local = bindAddress === undefined ? undefined : parseAddress(bindAddress);
  if (!local) throw new UdpError(`cannot bind UDP ${options.address}:${options.port}: not an address`, options.address, options.port);
  const fail = (call: string, errno: number) =>
    new UdpError(`cannot bind UDP ${options.address}:${options.port}: ${call}: ${errnoError(errno, call).code}`, options.address, options.port, { cause: errnoError(errno, call) });
  const fd = sys.socket(local.family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw fail('socket', sys.errno());
  const int = (value: number) => {
    const b = Buffer.alloc(4);
    b.writeInt32LE(value);
    return b;
  };
  const option = (name: number, value: number) => (sys.setsockopt(fd, SOL_SOCKET, name, int(value), 4) === 0 ? 0 : sys.errno());
  const giveUp = (why: string) => {
    sys.close(fd);
    return new MarksUnavailable(why);
  };
  let errno = option(SO_RCVMARK, 1);
  if (errno === Errno.ENOPROTOOPT) return giveUp('the kernel has no SO_RCVMARK (Linux 5.19 or newer is needed)');
  if (errno !== 0) return giveUp(`setsockopt(SO_RCVMARK): ${errnoError(errno, 'setsockopt').code}`);
  // Setting the socket's own mark to 0 changes nothing but needs the privilege a per-datagram
  // SO_MARK needs: find out now rather than at the first reply.
  errno = option(SO_MARK, 0);
  if (errno === Errno.EPERM) return giveUp('setting packet marks needs CAP_NET_ADMIN');
  if (errno !== 0) return giveUp(`setsockopt(SO_MARK): ${errnoError(errno, 'setsockopt').code}`);
  for (const [name, size] of [[SO_RCVBUF, options.receiveBufferSize], [SO_SNDBUF, options.sendBufferSize]] as const) {
    if (!size) continue;
    errno = option(name, size);
    if (errno !== 0) {
      sys.close(fd);
      throw new UdpError(`cannot size UDP buffers: ${errnoError(errno, 'setsockopt').code}`, options.address, options.port, { cause: errnoError(errno, 'setsockopt') });
    }
  }
  const name = Buffer.alloc(32);
  const nameLength = new DataView(name.buffer, name.byteOffset, name.length);
  const length = writeSockaddr(nameLength, 0, local, options.port);
  if (sys.bind(fd, name, length) !== 0) {
    const bindErrno = sys.errno();
    sys.close(fd);
    throw fail('bind', bindErrno);
  }
  const lengthOut = Buffer.alloc(4);
  lengthOut.writeUInt32LE(32);
  name.fill(0);
  const port = sys.getsockname(fd, name, lengthOut) === 0 ? (readSockaddr(nameLength, 0)?.port ?? options.port) : options.port;
  return new MarkedUdpSocket(sys, fd, bindAddress!, port, local.family, options.segmentation === true);
}

async function resolveLiteral(address: string): Promise<string | undefined> {
  if (isIP(address) !== 0) return address;
  return new Promise((resolve) => lookup(address, (error, resolved) => resolve(error ? undefined : resolved)));
}

/** One native arena of message slots, and JS views of it. */
class Arena {
  readonly bytes: Buffer;
  readonly view: DataView;
  readonly base: number;
  readonly slots: readonly SlotLayout[];

  constructor(calls: SocketCalls, count: number, readonly dataSize: number) {
    const { slots, size } = slotLayouts(count, dataSize);
    // Its own backing store (not the pool's): its address is handed to the kernel.
    this.bytes = Buffer.allocUnsafeSlow(size).fill(0);
    this.view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.length);
    this.base = calls.address(this.bytes);
    this.slots = slots;
    for (const slot of slots) initSlot(this.view, this.base, slot, dataSize);
  }

  /** The header array from slot `index` on, for a (re)try of the rest of a batch. */
  from(index: number): Buffer {
    return index === 0 ? this.bytes : this.bytes.subarray(index * MMSGHDR_SIZE);
  }
}

/** The header vector of a segmented batch: one message per run of slots, each with its control buffer. */
class RunVector {
  readonly bytes: Buffer;
  readonly view: DataView;
  readonly base: number;
  /** Per message: its first slot and how many slots it carries. */
  readonly first: Int32Array;
  readonly count: Int32Array;

  constructor(calls: SocketCalls, private readonly size: number) {
    this.bytes = Buffer.allocUnsafeSlow(size * (MMSGHDR_SIZE + SEGMENTED_CONTROL_SIZE)).fill(0);
    this.view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.length);
    this.base = calls.address(this.bytes);
    this.first = new Int32Array(size);
    this.count = new Int32Array(size);
  }

  header(message: number): number {
    return message * MMSGHDR_SIZE;
  }

  control(message: number): number {
    return this.size * MMSGHDR_SIZE + message * SEGMENTED_CONTROL_SIZE;
  }

  from(message: number): Buffer {
    return message === 0 ? this.bytes : this.bytes.subarray(message * MMSGHDR_SIZE);
  }
}

const refusalKey = (address: string, mark: number) => `${address}/${mark}`;

class MarkedUdpSocket implements DatagramSocket {
  readonly marks = true;
  private readonly received: Arena;
  private readonly outgoing: Arena;
  /** Per receive slot, a Buffer over its data (handlers get a subarray: no copy). */
  private readonly receiveViews: Buffer[];
  private readonly poller: { close(): void };
  private handler: (data: Buffer, remote: RemoteInfo) => void = () => {};
  private batchEndHandler: (() => void) | undefined;
  private errorHandler: (error: UdpError) => void = () => {};
  private pending = 0;
  /** Buffers of oversize sends, referenced until their batch has left. */
  private readonly pinned: Uint8Array[] = [];
  private flushQueued = false;
  private readScheduled = false;
  /** Receive slots the last recvmmsg filled: their lengths are reset before the next one. */
  private usedSlots = 0;
  private closed = false;
  /** Datagrams the kernel would not take (send buffer full) and oversize ones we could not take. */
  readonly dropped = { sendBufferFull: 0, truncated: 0 };
  private readonly ipv4Names = new Map<number, string>();
  private readonly destinations = new Map<string, RawAddress>();
  /** UDP GSO sends: messages, the datagrams they carried, and runs the kernel refused (sent one by one). */
  readonly segmented = { messages: 0, datagrams: 0, refused: 0 };
  /** Per queued send slot: where it goes and its length, for finding runs to segment. */
  private readonly slotTo: (RawAddress | undefined)[] = new Array<RawAddress | undefined>(SEND_BATCH).fill(undefined);
  private readonly slotAddress: string[] = new Array<string>(SEND_BATCH).fill('');
  private readonly slotPort = new Int32Array(SEND_BATCH);
  private readonly slotMark = new Uint32Array(SEND_BATCH);
  private readonly slotLength = new Int32Array(SEND_BATCH);
  /** The segmented batch: one message header per run, and each run's UDP_SEGMENT (+ mark) control buffer. */
  private readonly runs: RunVector | undefined;
  /** Destinations whose route refused segmentation: `address/mark` (IPsec), `address/mark/size` (MTU). */
  private readonly refused = new Set<string>();

  constructor(
    private readonly sys: SocketCalls,
    private readonly fd: number,
    readonly address: string,
    readonly port: number,
    private readonly family: number,
    segmentation: boolean,
  ) {
    this.received = new Arena(sys, RECEIVE_BATCH, RECEIVE_SLOT);
    this.outgoing = new Arena(sys, SEND_BATCH, SEND_SLOT);
    if (segmentation) this.runs = new RunVector(sys, SEND_BATCH);
    this.receiveViews = this.received.slots.map((slot) => this.received.bytes.subarray(slot.data, slot.data + RECEIVE_SLOT));
    this.poller = sys.poll(fd, () => {
      if (this.readScheduled || this.closed) return;
      this.readScheduled = true;
      setImmediate(this.readTask);
    });
  }

  private readonly readTask = () => {
    this.readScheduled = false;
    this.onReadable();
  };

  send(data: Uint8Array, port: number, address: string, mark = 0): void {
    if (this.closed) return;
    const to = this.destination(address);
    if (to === undefined) {
      this.sendLater(Buffer.from(data), port, address, mark);
      return;
    }
    const a = this.outgoing;
    const slot = a.slots[this.pending]!;
    if (data.length <= SEND_SLOT) {
      a.bytes.set(data, slot.data);
      prepareSendSlot(a.view, a.base, slot, to, port, data.length, mark);
    } else {
      this.pinned.push(data);
      prepareSendSlot(a.view, a.base, slot, to, port, data.length, mark, this.sys.address(data));
    }
    this.queued(to, address, port, mark, data.length);
  }

  sendParts(head: Uint8Array, headLength: number, body: Uint8Array, port: number, address: string, mark = 0): void {
    if (this.closed) return;
    const length = headLength + body.length;
    const to = this.destination(address);
    if (to === undefined || length > SEND_SLOT) {
      const joined = Buffer.allocUnsafe(length);
      joined.set(headLength === head.length ? head : head.subarray(0, headLength), 0);
      joined.set(body, headLength);
      if (to === undefined) this.sendLater(joined, port, address, mark);
      else this.send(joined, port, address, mark);
      return;
    }
    // The frame is assembled in its arena slot: no buffer of its own, one copy of the packet.
    const a = this.outgoing;
    const slot = a.slots[this.pending]!;
    for (let i = 0; i < headLength; i++) a.bytes[slot.data + i] = head[i]!;
    a.bytes.set(body, slot.data + headLength);
    prepareSendSlot(a.view, a.base, slot, to, port, length, mark);
    this.queued(to, address, port, mark, length);
  }

  /** Not a literal (our peers always are: they come from received datagrams): resolve, then send. */
  private sendLater(copy: Buffer, port: number, address: string, mark: number): void {
    lookup(address, { family: this.family === AF_INET ? 4 : 0 }, (error, resolved) => {
      if (error) this.report(new UdpError(`UDP ${this.address}:${this.port}: cannot resolve ${address}: ${error.message}`, this.address, this.port, { cause: error }));
      else if (isIP(resolved) !== 0) this.send(copy, port, resolved, mark);
    });
  }

  /** One more datagram is in the arena: send the batch when full, else at the end of this task. */
  private queued(to: RawAddress, address: string, port: number, mark: number, length: number): void {
    const i = this.pending;
    this.slotTo[i] = to;
    this.slotAddress[i] = address;
    this.slotPort[i] = port;
    this.slotMark[i] = mark;
    this.slotLength[i] = length;
    if (++this.pending === SEND_BATCH) this.flush();
    else if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(this.flushTask);
    }
  }

  private readonly flushTask = () => {
    this.flushQueued = false;
    this.flush();
  };

  /** Hands the queued datagrams to the kernel; what it refuses is dropped, like on a wire. */
  private flush(): void {
    const count = this.pending;
    if (!this.runs || count < 2 || !this.flushRuns(count)) this.sendSlots(0, count);
    this.pending = 0;
    this.pinned.length = 0;
    this.slotTo.fill(undefined, 0, count);
  }

  /**
   * Segmentation: groups the queued slots into runs (same destination object, port and mark;
   * every datagram the first's size but the last, which may be shorter) and sends one message per
   * run. False, having sent nothing, when no run has two datagrams: the plain batch is cheaper.
   */
  private flushRuns(count: number): boolean {
    const runs = this.runs!;
    const { slotTo: to, slotPort: port, slotMark: mark, slotLength: length } = this;
    const a = this.outgoing;
    let messages = 0;
    for (let i = 0; i < count; ) {
      const size = length[i]!;
      let j = i + 1;
      let bytes = size;
      while (j < count && to[j] === to[i] && port[j] === port[i] && mark[j] === mark[i] && length[j]! <= size && length[j - 1] === size && bytes + length[j]! <= SEGMENTED_MAX_BYTES) {
        bytes += length[j]!;
        j++;
      }
      if (j - i > 1 && this.refused.size > 0 && this.isRefused(this.slotAddress[i]!, mark[i]!, size)) j = i + 1;
      runs.first[messages] = i;
      runs.count[messages] = j - i;
      if (j - i > 1) prepareSegmentedMessage(runs.view, runs.header(messages), a.view, a.base, a.slots[i]!, j - i, size, mark[i]!, runs.control(messages), runs.base + runs.control(messages));
      else a.bytes.copy(runs.bytes, runs.header(messages), a.slots[i]!.header, a.slots[i]!.header + MMSGHDR_SIZE);
      messages++;
      i = j;
    }
    if (messages === count) return false;
    let index = 0;
    while (index < messages && !this.closed) {
      const sent = this.sys.sendmmsg(this.fd, runs.from(index), messages - index, MSG_DONTWAIT);
      if (sent > 0) {
        for (let m = index; m < index + sent; m++) this.countRun(runs.count[m]!);
        index += sent;
        continue;
      }
      const errno = this.sys.errno();
      if (errno === Errno.EINTR) continue;
      if (errno === Errno.EAGAIN || errno === Errno.ENOBUFS) {
        for (let m = index; m < messages; m++) this.dropped.sendBufferFull += runs.count[m]!;
        break;
      }
      const first = runs.first[index]!;
      const n = runs.count[index]!;
      if (n > 1 && (errno === Errno.EIO || errno === Errno.EINVAL || errno === Errno.EMSGSIZE)) {
        // This route will not take segments: none at all (EIO: IPsec), or none this large (MTU).
        // The run goes datagram by datagram, and the destination is not asked again.
        if (this.refused.size >= REFUSED_MAX) this.refused.clear();
        const key = refusalKey(this.slotAddress[first]!, mark[first]!);
        this.refused.add(errno === Errno.EIO ? key : `${key}/${length[first]}`);
        this.segmented.refused++;
        this.sendSlots(first, n);
      } else {
        this.report(new UdpError(`UDP ${this.address}:${this.port}: send failed: ${errnoError(errno, 'sendmmsg').code}`, this.address, this.port, { cause: errnoError(errno, 'sendmmsg') }));
      }
      index++;
    }
    return true;
  }

  private isRefused(address: string, mark: number, size: number): boolean {
    const key = refusalKey(address, mark);
    return this.refused.has(key) || this.refused.has(`${key}/${size}`);
  }

  private countRun(datagrams: number): void {
    if (datagrams < 2) return;
    this.segmented.messages++;
    this.segmented.datagrams += datagrams;
  }

  /** Sends slots [first, first + count) as they are, one datagram per message. */
  private sendSlots(first: number, count: number): void {
    const end = first + count;
    let index = first;
    while (index < end && !this.closed) {
      const sent = this.sys.sendmmsg(this.fd, this.outgoing.from(index), end - index, MSG_DONTWAIT);
      if (sent > 0) {
        index += sent;
        continue;
      }
      const errno = this.sys.errno();
      if (errno === Errno.EINTR) continue;
      if (errno === Errno.EAGAIN || errno === Errno.ENOBUFS) {
        this.dropped.sendBufferFull += end - index;
        break;
      }
      // This one datagram failed (e.g. no route); the rest may still go.
      this.report(new UdpError(`UDP ${this.address}:${this.port}: send failed: ${errnoError(errno, 'sendmmsg').code}`, this.address, this.port, { cause: errnoError(errno, 'sendmmsg') }));
      index++;
    }
  }

  /** Reads what is queued (a bounded number of batches: epoll is level-triggered, the rest wakes us again). */
  private onReadable(): void {
    const { view, slots } = this.received;
    for (let round = 0; round < RECEIVE_ROUNDS && !this.closed; round++) {
      for (let i = 0; i < this.usedSlots; i++) resetReceiveSlot(view, slots[i]!);
      const n = this.sys.recvmmsg(this.fd, this.received.bytes, RECEIVE_BATCH, MSG_DONTWAIT, null);
      this.usedSlots = Math.max(n, 0);
      if (n <= 0) {
        const errno = n < 0 ? this.sys.errno() : 0;
        if (errno !== 0 && errno !== Errno.EAGAIN && errno !== Errno.EINTR) {
          this.report(new UdpError(`UDP ${this.address}:${this.port}: receive failed: ${errnoError(errno, 'recvmmsg').code}`, this.address, this.port, { cause: errnoError(errno, 'recvmmsg') }));
        }
        return;
      }
      try {
        for (let i = 0; i < n && !this.closed; i++) {
          const slot = slots[i]!;
          if ((receivedFlags(view, slot) & MSG_TRUNC) !== 0) {
            this.dropped.truncated++;
            continue;
          }
          const from = readSockaddr(view, slot.name);
          if (!from) continue;
          const remote: RemoteInfo = { address: from.family === AF_INET ? this.ipv4Name(view, from.at) : formatIpv6At(view, from.at), port: from.port, mark: receivedMark(view, slot) };
          // A handler that throws ends this read (the slots are reset before the next one).
          this.handler(this.receiveViews[i]!.subarray(0, receivedLength(view, slot)), remote);
        }
      } finally {
        // The batch's views are still valid here; the next recvmmsg reuses the slots.
        this.batchEndHandler?.();
      }
      if (n < RECEIVE_BATCH) return;
    }
  }

  /** Dotted quad of a peer address, cached: a string per datagram is most of the per-packet cost. */
  private ipv4Name(view: DataView, at: number): string {
    const key = view.getUint32(at, false);
    let name = this.ipv4Names.get(key);
    if (name === undefined) {
      if (this.ipv4Names.size >= 4096) this.ipv4Names.clear();
      name = formatIpv4At(view, at);
      this.ipv4Names.set(key, name);
    }
    return name;
  }

  private destination(address: string): RawAddress | undefined {
    let to = this.destinations.get(address);
    if (to) return to;
    const parsed = parseAddress(address);
    if (!parsed) return undefined;
    to = parsed;
    if (this.family === AF_INET6 && parsed.family === AF_INET) {
      // A dual-stack socket reaches IPv4 peers at their IPv4-mapped address.
      const mapped = new Uint8Array(16);
      mapped[10] = 0xff;
      mapped[11] = 0xff;
      mapped.set(parsed.bytes, 12);
      to = { family: AF_INET6, bytes: mapped };
    }
    if (this.destinations.size >= 4096) this.destinations.clear();
    this.destinations.set(address, to);
    return to;
  }

  private report(error: UdpError): void {
    this.errorHandler(error);
  }

  onMessage(handler: (data: Buffer, remote: RemoteInfo) => void): void {
    this.handler = handler;
  }

  onBatchEnd(handler: () => void): void {
    this.batchEndHandler = handler;
  }

  onError(handler: (error: UdpError) => void): void {
    this.errorHandler = handler;
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.flush();
    this.closed = true;
    this.poller.close();
    this.sys.close(this.fd);
    return Promise.resolve();
  }
}
