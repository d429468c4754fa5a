/**
 * The agent's TUN device: one IFF_TUN | IFF_NO_PI interface shared by every client session.
 * Each read() returns exactly one IPv4/IPv6 packet and each write() injects exactly one. With
 * `offloads` (IFF_VNET_HDR + TUNSETOFFLOAD) each packet also has a virtio_net_hdr in front, and a
 * read may return a TCP/UDP super-packet of up to 64 KiB that the reader segments itself
 * (datapath/gso.ts): one read(2) for what would otherwise be dozens (issue 21).
 *
 * Reading without blocking the event loop or parking a libuv threadpool thread: the fd is opened
 * O_NONBLOCK and handed to a libuv stream handle (a `Pipe` from `process.binding('pipe_wrap')`,
 * wrapped in `net.Socket` with the `onread` user-buffer option), so epoll on the main loop signals
 * readability. `net.Socket({ fd })` would refuse the fd: libuv classifies a character device as a
 * FILE. Each wake-up delivers libuv's packet and then drains the queue with direct read(2) calls
 * through koffi into the same buffer, because a C++ -> JS stream callback per packet costs several
 * microseconds. Writes do NOT go through the stream (Node may merge queued stream writes into one
 * writev(), which TUN would take as ONE packet); they are synchronous write(2) calls through koffi:
 * a TUN write never blocks (the kernel queues or drops) and koffi saves ~0.6 us over fs.writeSync.
 *
 * Measured (test/integration/datapath/tun-throughput.ts; 84-byte ICMP echo requests written, the
 * kernel's replies read; Node 20, 2 cores shared with other busy jobs, so best of 3 rounds):
 *   write(), kernel ICMP processing included        ~190k-250k packets/s (fs.writeSync: ~220k)
 *   read via onPacket, draining a full queue         ~300k-600k packets/s (raw read(2) loop: ~400k)
 *   read via plain net.Socket 'data' events          ~110k-210k packets/s (rejected: 64 KiB alloc/read)
 *   echo loop, 64 in flight, write + read per packet ~130k round trips/s
 * The kernel's own work dominates writes: a write of a packet it drops early costs ~2.3 us.
 */
import { closeSync, constants as fsConstants, openSync } from 'node:fs';
import { Socket } from 'node:net';
import { readVirtioNetHeader, VIRTIO_NET_HDR_SIZE, type TunOffload } from '../datapath/gso';
import { TunError } from './errors';

/** One TUN interface. Packets are raw IP datagrams (IFF_NO_PI: no 4-byte packet-info prefix). */
export interface TunDevice {
  /** The kernel's name for the interface (resolves templates like `tb%d`). */
  readonly name: string;
  /** The offloads the kernel took (`openTun`'s `offloads`): what kind of super-packets reads may bring. */
  readonly offloads: TunOffloads;
  /** Inject one packet into the kernel. Returns false when the kernel rejected or dropped it. */
  write(packet: Uint8Array): boolean;
  /**
   * Inject the packet buf[start, end) like `write`; the bytes before `start` are the caller's
   * scratch (already-parsed headers): with offloads the virtio_net_hdr is written there when there
   * is room, which saves copying the packet.
   */
  writeFrom(buf: Uint8Array, start: number, end: number): boolean;
  /**
   * Inject frame[0, length): a virtio_net_hdr (e.g. a GSO super-packet's, datapath/gro.ts) then
   * the packet, in one write. Only with `offloads` other than 'none'; false otherwise, and when
   * the kernel refused it (a header that does not fit the packet: EINVAL) or dropped it.
   */
  writeWithHeader(frame: Uint8Array, length: number): boolean;
  /** Inject packets[0..count); returns how many the kernel accepted. */
  writeMany(packets: readonly Uint8Array[], count?: number): number;
  /**
   * Set the handler for packets the kernel routes out of the interface (replaces any previous
   * one). Reading starts on the first call. The packet is a view of one reused read buffer, valid
   * only until the handler returns: copy (or encapsulate) it before keeping it. The handler may
   * edit it in place (the data path clamps the TCP MSS there). With offloads on, `offload` says
   * when the packet is a GSO super-packet or has a partial checksum (one reused object, valid
   * until the handler returns); it is undefined for an ordinary packet.
   */
  onPacket(handler: (packet: Buffer, offload: TunOffload | undefined) => void): void;
  /** Set the handler for read errors after opening (the device is unusable afterwards). */
  onError(handler: (error: TunError) => void): void;
  /** Close the fd; the kernel deletes a non-persistent interface. Idempotent. */
  close(): Promise<void>;
}

export interface OpenTunOptions {
  /** Interface name, at most 15 bytes; `%d` lets the kernel pick a number (e.g. `tb%d`). */
  readonly name: string;
  /** Path of the clone device; only tests change it. */
  readonly devicePath?: string;
  /**
   * Ask the kernel for TCP (TSO) and UDP (USO) super-packets and partial checksums (IFF_VNET_HDR +
   * TUNSETOFFLOAD), as a NIC would: the reader must then segment them (datapath/gso.ts). Default off.
   */
  readonly offloads?: boolean;
}

/** `none`: plain packets only; `tso`: TCP super-packets; `tso+uso`: TCP and UDP ones (Linux >= 6.2). */
export type TunOffloads = 'none' | 'tso' | 'tso+uso';

// <linux/if_tun.h>, <linux/if.h>
const TUNSETIFF = 0x400454ca; // _IOW('T', 202, int)
const IFF_TUN = 0x0001;
const IFF_NO_PI = 0x1000;
const IFF_VNET_HDR = 0x4000;
const TUNSETOFFLOAD = 0x400454d0; // _IOW('T', 208, unsigned int); the flags travel as the argument itself
const TUN_F_CSUM = 0x01;
const TUN_F_TSO4 = 0x02;
// USO is accepted only for IPv4 and IPv6 together (drivers/net/tun.c set_offload); IPv6 super-packets
// are dropped like any IPv6 packet on this IPv4 data path.
const TUN_F_USO4 = 0x20;
const TUN_F_USO6 = 0x40;
const IFNAMSIZ = 16;
const IFREQ_SIZE = 40;
const EPERM = 1;
const EACCES = 13;
const EBUSY = 16;
const EINVAL = 22;

type Ioctl = (fd: number, request: number, ...rest: unknown[]) => number;
interface Ffi {
  readonly ioctl: Ioctl;
  /** libc write(2) through koffi: ~0.6 us cheaper per call than fs.writeSync and no throw on EAGAIN. */
  readonly write: (fd: number, buf: Uint8Array, length: number) => number;
  /** libc read(2) through koffi, used to drain the queue after libuv signals readability. */
  readonly read: (fd: number, buf: Uint8Array, length: number) => number;
  readonly errno: () => number;
}
let ffi: Ffi | undefined;

async function loadFfi(): Promise<Ffi> {
  if (ffi) return ffi;
  try {
    const koffi = (await import('koffi')).default;
    const libc = koffi.load('libc.so.6');
    const ioctl = libc.func('int ioctl(int fd, unsigned long request, ...)') as Ioctl;
    const write = libc.func('long write(int fd, const void *buf, unsigned long count)') as Ffi['write'];
    const read = libc.func('long read(int fd, _Out_ void *buf, unsigned long count)') as Ffi['read'];
    ffi = { ioctl, write, read, errno: () => koffi.errno() };
    return ffi;
  } catch (cause) {
    throw new TunError('ffi-unavailable', `cannot load koffi/libc to call ioctl(TUNSETIFF): ${String(cause)}`, undefined, { cause });
  }
}

/** Kernel rules for interface names (net/core/dev.c dev_valid_name), checked up front for a clear message. */
export function tunNameProblem(name: string): string | undefined {
  const bytes = Buffer.byteLength(name);
  if (bytes === 0) return 'interface name is empty';
  if (bytes >= IFNAMSIZ) return `interface name "${name}" is ${bytes} bytes; the limit is ${IFNAMSIZ - 1}`;
  if (name === '.' || name === '..') return `interface name "${name}" is reserved`;
  if (/[/:\s]/.test(name)) return `interface name "${name}" contains '/', ':' or whitespace`;
  return undefined;
}

interface StreamHandle {
  open(fd: number): number;
}
type PipeBinding = { Pipe: new (type: number) => StreamHandle; constants: { SOCKET: number } };

/** The libuv pipe binding; checked at open so that a Node without it fails early and clearly. */
function pipeBinding(name: string): PipeBinding {
  try {
    const binding = (process as unknown as { binding(id: string): PipeBinding }).binding('pipe_wrap');
    if (typeof binding.Pipe !== 'function') throw new Error('pipe_wrap has no Pipe');
    return binding;
  } catch (cause) {
    throw new TunError('io', `this Node.js has no usable process.binding('pipe_wrap') to poll the TUN fd: ${String(cause)}`, name, { cause });
  }
}

/**
 * Wrap a non-blocking fd in a libuv stream so that epoll on the main loop drives reads. With
 * `onread` libuv reads straight into `buffer` and calls `callback(nread)` without the Readable
 * machinery or a per-read 64 KiB allocation (measured: 9 us -> ~1.5 us per packet).
 */
function streamForFd(binding: PipeBinding, fd: number, buffer: Buffer, callback: (nread: number) => void): Socket {
  const handle = new binding.Pipe(binding.constants.SOCKET);
  const rc = handle.open(fd);
  if (rc !== 0) throw new Error(`uv_pipe_open failed (${rc})`);
  const options = { handle, readable: true, writable: false, onread: { buffer, callback } };
  return new Socket(options as unknown as ConstructorParameters<typeof Socket>[0]);
}

/**
 * Open (create if needed) a TUN interface with IFF_TUN | IFF_NO_PI. Needs CAP_NET_ADMIN.
 * Throws TunError with a code naming the cause.
 */
export async function openTun(options: OpenTunOptions): Promise<TunDevice> {
  const problem = tunNameProblem(options.name);
  if (problem) throw new TunError('invalid-name', problem, options.name);
  const ffi = await loadFfi();
  const pipes = pipeBinding(options.name);
  const { ioctl, errno } = ffi;
  const devicePath = options.devicePath ?? '/dev/net/tun';
  let fd: number;
  try {
    fd = openSync(devicePath, fsConstants.O_RDWR | fsConstants.O_NONBLOCK);
  } catch (cause) {
    throw openError(cause, devicePath, options.name);
  }
  const ifreq = Buffer.alloc(IFREQ_SIZE);
  ifreq.write(options.name, 0, IFNAMSIZ - 1, 'utf8');
  const flags = IFF_TUN | IFF_NO_PI | (options.offloads ? IFF_VNET_HDR : 0);
  ifreq.writeUInt16LE(flags, IFNAMSIZ); // ifr_flags is a host-order short (x86/arm LE)
  if (ioctl(fd, TUNSETIFF, 'void *', ifreq) < 0) {
    const err = errno();
    closeSync(fd);
    throw ioctlError(err, options.name);
  }
  const end = ifreq.indexOf(0);
  const name = ifreq.toString('utf8', 0, end < 0 || end > IFNAMSIZ ? IFNAMSIZ : end);
  let offloads: TunOffloads = 'none';
  if (options.offloads) {
    const offload = (bits: number) => ioctl(fd, TUNSETOFFLOAD, 'unsigned long', bits) === 0;
    // Kernels before 6.2 refuse USO (EINVAL): TCP alone is the bulk of downloads.
    if (offload(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_USO4 | TUN_F_USO6)) offloads = 'tso+uso';
    else if (offload(TUN_F_CSUM | TUN_F_TSO4)) offloads = 'tso';
  }
  return new LinuxTun(name, fd, ffi, pipes, options.offloads === true, offloads);
}

function openError(cause: unknown, path: string, name: string): TunError {
  const code = (cause as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENXIO' || code === 'ENODEV') {
    return new TunError('no-tun-device', `${path} is missing: load the tun module (modprobe tun) or give the container the device`, name, { cause });
  }
  if (code === 'EPERM' || code === 'EACCES') {
    return new TunError('permission', `cannot open ${path}: CAP_NET_ADMIN is needed (run as root or setcap cap_net_admin+ep on node)`, name, { cause });
  }
  return new TunError('io', `cannot open ${path}: ${String(cause)}`, name, { cause });
}

function ioctlError(err: number, name: string): TunError {
  switch (err) {
    case EPERM:
    case EACCES:
      return new TunError('permission', `TUNSETIFF ${name}: permission denied; CAP_NET_ADMIN is needed (run as root or setcap cap_net_admin+ep on node)`, name);
    case EBUSY:
      return new TunError('name-busy', `TUNSETIFF ${name}: interface is busy (another process has it open)`, name);
    case EINVAL:
      return new TunError('invalid-name', `TUNSETIFF ${name}: invalid argument (bad name, or an interface of another type or mode already uses it)`, name);
    default:
      return new TunError('io', `TUNSETIFF ${name} failed with errno ${err}`, name);
  }
}

/** Largest IPv4 packet and its virtio_net_hdr; the read buffer must hold any packet the kernel may hand us. */
const READ_BUFFER_SIZE = 65536 + VIRTIO_NET_HDR_SIZE;
/** Packets read per wake-up beyond the one libuv read. */
const DRAIN_BURST = 256;

class LinuxTun implements TunDevice {
  private closed = false;
  private stream: Socket | undefined;
  private readonly readBuffer = Buffer.allocUnsafe(READ_BUFFER_SIZE);
  /** With a virtio_net_hdr: writes go out of this buffer behind a zero header ("nothing to do"). */
  private readonly writeBuffer: Buffer | undefined;
  private readonly offload: TunOffload = { gsoType: 0, gsoSize: 0, needsChecksum: false, checksumStart: 0, checksumOffset: 0 };
  private packetHandler: (packet: Buffer, offload: TunOffload | undefined) => void = () => {};
  private errorHandler: (error: TunError) => void = () => {};

  constructor(
    readonly name: string,
    private readonly fd: number,
    private readonly ffi: Ffi,
    private readonly pipes: PipeBinding,
    private readonly vnetHeader: boolean,
    readonly offloads: TunOffloads,
  ) {
    if (vnetHeader) this.writeBuffer = Buffer.alloc(READ_BUFFER_SIZE);
  }

  write(packet: Uint8Array): boolean {
    if (this.closed) return false;
    // -1 with EAGAIN/ENOBUFS (queue full), EINVAL (not an IP packet), EIO (link down): the packet
    // is dropped like on a wire; callers count drops from the return value.
    const out = this.writeBuffer;
    if (!out) return this.ffi.write(this.fd, packet, packet.length) === packet.length;
    // One copy of the packet behind the header costs less than a writev's iovec per packet.
    if (packet.length > out.length - VIRTIO_NET_HDR_SIZE) return false;
    out.set(packet, VIRTIO_NET_HDR_SIZE);
    const length = VIRTIO_NET_HDR_SIZE + packet.length;
    return this.ffi.write(this.fd, out, length) === length;
  }

  writeFrom(buf: Uint8Array, start: number, end: number): boolean {
    if (!this.vnetHeader || start < VIRTIO_NET_HDR_SIZE) return this.write(buf.subarray(start, end));
    if (this.closed) return false;
    const from = start - VIRTIO_NET_HDR_SIZE;
    buf.fill(0, from, start);
    const length = end - from;
    return this.ffi.write(this.fd, from === 0 ? buf : buf.subarray(from), length) === length;
  }

  writeWithHeader(frame: Uint8Array, length: number): boolean {
    if (this.closed || !this.vnetHeader || length > frame.length || length <= VIRTIO_NET_HDR_SIZE) return false;
    return this.ffi.write(this.fd, frame, length) === length;
  }

  writeMany(packets: readonly Uint8Array[], count = packets.length): number {
    let ok = 0;
    for (let i = 0; i < count; i++) {
      const packet = packets[i];
      if (packet && this.write(packet)) ok++;
    }
    return ok;
  }

  onPacket(handler: (packet: Buffer, offload: TunOffload | undefined) => void): void {
    this.packetHandler = handler;
    if (this.stream || this.closed) return;
    // Creating the stream starts libuv reading, so it waits for the first handler.
    const buffer = this.readBuffer;
    const { read } = this.ffi;
    const fd = this.fd;
    const deliver = this.vnetHeader
      ? (n: number) => {
          if (n <= VIRTIO_NET_HDR_SIZE) return;
          const offload = readVirtioNetHeader(buffer, this.offload) ? this.offload : undefined;
          this.packetHandler(buffer.subarray(VIRTIO_NET_HDR_SIZE, n), offload);
        }
      : (n: number) => this.packetHandler(buffer.subarray(0, n), undefined);
    const stream = streamForFd(this.pipes, this.fd, buffer, (nread) => {
      deliver(nread);
      // libuv woke us for one packet; drain more with direct read(2) calls, which cost ~1 us each
      // instead of a ~4 us C++ -> JS callback per packet. Bounded so UDP sockets get their turn;
      // epoll is level-triggered, so anything left wakes us again on the next loop iteration.
      for (let i = 0; i < DRAIN_BURST && !this.closed; i++) {
        const n = read(fd, buffer, READ_BUFFER_SIZE);
        if (n <= 0) break; // EAGAIN: queue empty (other errors surface through libuv's next read)
        deliver(n);
      }
    });
    stream.on('error', (cause) => {
      if (!this.closed) this.errorHandler(new TunError('io', `read from ${this.name} failed: ${cause.message}`, this.name, { cause }));
    });
    this.stream = stream;
  }

  onError(handler: (error: TunError) => void): void {
    this.errorHandler = handler;
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    const stream = this.stream;
    if (!stream) {
      closeSync(this.fd);
      return Promise.resolve();
    }
    // The stream handle owns the fd once created: destroying it closes the fd exactly once.
    return new Promise((done) => {
      stream.once('close', () => done());
      stream.destroy();
    });
  }
}
