/**
 * The Linux socket structures the marked UDP socket (native-udp.ts) hands to recvmmsg(2) and
 * sendmmsg(2), as byte layouts over a DataView: `struct mmsghdr`, `struct iovec`, `sockaddr_in`,
 * `sockaddr_in6` and one `SOL_SOCKET/SO_MARK` control message. Pure: no system calls here.
 *
 * Layouts are those of the LP64 Linux ABIs the fleet runs (x86_64 and aarch64: same sizes, same
 * offsets, little-endian); native-udp.ts refuses any other platform. Socket option numbers are the
 * asm-generic ones both use (include/uapi/asm-generic/socket.h).
 */

export const AF_INET = 2;
export const AF_INET6 = 10;
export const SOCK_DGRAM = 2;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
export const SOL_SOCKET = 1;
export const SO_SNDBUF = 7;
export const SO_RCVBUF = 8;
/** The packet mark (skb->mark): a socket option, and the control message type that carries it. */
export const SO_MARK = 36;
/** Deliver each datagram's mark as a SOL_SOCKET/SO_MARK control message (Linux >= 5.19). */
export const SO_RCVMARK = 75;
/** UDP generic segmentation offload (Linux >= 4.18): one send of equal-sized datagrams, cut by the kernel. */
export const SOL_UDP = 17;
export const UDP_SEGMENT = 103;
export const MSG_DONTWAIT = 0x40;
export const MSG_CTRUNC = 0x08;
export const MSG_TRUNC = 0x20;

export const Errno = {
  EPERM: 1,
  EINTR: 4,
  EIO: 5,
  EAGAIN: 11,
  EACCES: 13,
  EINVAL: 22,
  ENOPROTOOPT: 92,
  EMSGSIZE: 90,
  EADDRINUSE: 98,
  EADDRNOTAVAIL: 99,
  ENOBUFS: 105,
} as const;

/** `struct mmsghdr`: a 56-byte `struct msghdr` then `unsigned int msg_len`, padded to 64. */
export const MMSGHDR_SIZE = 64;
export const IOVEC_SIZE = 16;
/** Room for a `sockaddr_in6` (28 bytes), rounded up. */
export const NAME_SIZE = 32;
/** Room for one CMSG_SPACE(sizeof(u32)) = 24-byte control message, with slack for another. */
export const CONTROL_SIZE = 64;
/** CMSG_LEN(4): a 16-byte `struct cmsghdr` and the u32; CMSG_SPACE(4) rounds it up to 24. */
const MARK_CMSG_LEN = 20;
export const MARK_CMSG_SPACE = 24;
/** CMSG_LEN(2) for UDP_SEGMENT's u16 (the kernel wants exactly this); CMSG_SPACE(2) = 24. */
const SEGMENT_CMSG_LEN = 18;
const SEGMENT_CMSG_SPACE = 24;
/** Room per segmented message's control buffer: UDP_SEGMENT, then SO_MARK. */
export const SEGMENTED_CONTROL_SIZE = SEGMENT_CMSG_SPACE + MARK_CMSG_SPACE;

// struct msghdr field offsets
const MSG_NAME = 0;
const MSG_NAMELEN = 8;
const MSG_IOV = 16;
const MSG_IOVLEN = 24;
const MSG_CONTROL = 32;
const MSG_CONTROLLEN = 40;
const MSG_FLAGS = 48;
const MSG_LEN = 56;

/** An address as the kernel takes it: family and the 4 or 16 network-order bytes. */
export interface RawAddress {
  readonly family: typeof AF_INET | typeof AF_INET6;
  readonly bytes: Uint8Array;
}

/** Where each part of one message slot lives, as absolute addresses and as offsets in the arena. */
export interface SlotLayout {
  readonly header: number;
  readonly iov: number;
  readonly name: number;
  readonly control: number;
  readonly data: number;
}

/**
 * Lays out `count` message slots in one arena: headers first (recvmmsg/sendmmsg take them as one
 * array), then iovecs, names, control buffers and data buffers of `dataSize` bytes each.
 */
export function slotLayouts(count: number, dataSize: number): { readonly slots: readonly SlotLayout[]; readonly size: number } {
  const iovs = count * MMSGHDR_SIZE;
  const names = iovs + count * IOVEC_SIZE;
  const controls = names + count * NAME_SIZE;
  const datas = controls + count * CONTROL_SIZE;
  const slots: SlotLayout[] = [];
  for (let i = 0; i < count; i++) {
    slots.push({ header: i * MMSGHDR_SIZE, iov: iovs + i * IOVEC_SIZE, name: names + i * NAME_SIZE, control: controls + i * CONTROL_SIZE, data: datas + i * dataSize });
  }
  return { slots, size: datas + count * dataSize };
}

/** Pointers are 64-bit; arena addresses stay far below 2^53, so a double holds them exactly. */
function setPointer(view: DataView, offset: number, address: number): void {
  view.setUint32(offset, address % 0x1_0000_0000, true);
  view.setUint32(offset + 4, Math.floor(address / 0x1_0000_0000), true);
}

function setSize(view: DataView, offset: number, value: number): void {
  view.setUint32(offset, value, true);
  view.setUint32(offset + 4, 0, true);
}

/**
 * Points one slot's header at its own iovec, name and control buffer, and its iovec at its data
 * buffer (`base` = the arena's address). Done once; per message only the lengths change.
 */
export function initSlot(view: DataView, base: number, slot: SlotLayout, dataSize: number): void {
  setPointer(view, slot.header + MSG_NAME, base + slot.name);
  view.setUint32(slot.header + MSG_NAMELEN, NAME_SIZE, true);
  setPointer(view, slot.header + MSG_IOV, base + slot.iov);
  setSize(view, slot.header + MSG_IOVLEN, 1);
  setPointer(view, slot.header + MSG_CONTROL, base + slot.control);
  setSize(view, slot.header + MSG_CONTROLLEN, CONTROL_SIZE);
  view.setInt32(slot.header + MSG_FLAGS, 0, true);
  setPointer(view, slot.iov, base + slot.data);
  setSize(view, slot.iov + 8, dataSize);
}

/** Before a recvmmsg: the kernel overwrote these with what it used. */
export function resetReceiveSlot(view: DataView, slot: SlotLayout): void {
  view.setUint32(slot.header + MSG_NAMELEN, NAME_SIZE, true);
  view.setUint32(slot.header + MSG_CONTROLLEN, CONTROL_SIZE, true);
}

/** What recvmmsg reported for one slot. */
export function receivedLength(view: DataView, slot: SlotLayout): number {
  return view.getUint32(slot.header + MSG_LEN, true);
}

export function receivedFlags(view: DataView, slot: SlotLayout): number {
  return view.getInt32(slot.header + MSG_FLAGS, true);
}

/**
 * The SO_MARK value among the slot's control messages (cmsg(3) walk, CMSG_ALIGN to 8 bytes);
 * 0 when there is none (a kernel only sends it with SO_RCVMARK on).
 */
export function receivedMark(view: DataView, slot: SlotLayout): number {
  const length = Math.min(view.getUint32(slot.header + MSG_CONTROLLEN, true), CONTROL_SIZE);
  let at = 0;
  while (at + 16 <= length) {
    const cmsgLen = view.getUint32(slot.control + at, true);
    if (cmsgLen < 16 || at + cmsgLen > length) break;
    if (view.getInt32(slot.control + at + 8, true) === SOL_SOCKET && view.getInt32(slot.control + at + 12, true) === SO_MARK && cmsgLen >= MARK_CMSG_LEN) {
      return view.getUint32(slot.control + at + 16, true);
    }
    at += (cmsgLen + 7) & ~7;
  }
  return 0;
}

/**
 * Fills one send slot's header for a datagram of `length` bytes (already copied into its data
 * buffer, or `dataAddress` for one kept outside the arena) to `to`:`port`, with an SO_MARK control
 * message when `mark` is not 0 (the kernel then routes and matches IPsec policies with that mark).
 */
export function prepareSendSlot(view: DataView, base: number, slot: SlotLayout, to: RawAddress, port: number, length: number, mark: number, dataAddress?: number): void {
  const nameLength = writeSockaddr(view, slot.name, to, port);
  view.setUint32(slot.header + MSG_NAMELEN, nameLength, true);
  setPointer(view, slot.iov, dataAddress ?? base + slot.data);
  setSize(view, slot.iov + 8, length);
  if (mark === 0) {
    setPointer(view, slot.header + MSG_CONTROL, 0);
    setSize(view, slot.header + MSG_CONTROLLEN, 0);
  } else {
    setPointer(view, slot.header + MSG_CONTROL, base + slot.control);
    setSize(view, slot.header + MSG_CONTROLLEN, MARK_CMSG_SPACE);
    setSize(view, slot.control, MARK_CMSG_LEN);
    view.setInt32(slot.control + 8, SOL_SOCKET, true);
    view.setInt32(slot.control + 12, SO_MARK, true);
    view.setUint32(slot.control + 16, mark >>> 0, true);
    view.setUint32(slot.control + 20, 0, true);
  }
}

/**
 * Writes, at `header` of a second header vector, one message that sends slots[first ..
 * first + count) of the arena at `base` as ONE datagram train: their iovecs (consecutive in the
 * arena) gathered, the kernel cutting the joined bytes every `segmentSize` bytes (UDP_SEGMENT), so
 * each slot leaves as its own datagram. The name is the first slot's, and every slot of the run
 * must go to it, with mark `mark`, each exactly `segmentSize` bytes but the last (at most that).
 * `control` (absolute `controlAddress`) is this message's SEGMENTED_CONTROL_SIZE-byte buffer.
 */
export function prepareSegmentedMessage(
  vector: DataView,
  header: number,
  arena: DataView,
  base: number,
  first: SlotLayout,
  count: number,
  segmentSize: number,
  mark: number,
  control: number,
  controlAddress: number,
): void {
  setPointer(vector, header + MSG_NAME, base + first.name);
  vector.setUint32(header + MSG_NAMELEN, arena.getUint32(first.header + MSG_NAMELEN, true), true);
  vector.setUint32(header + MSG_NAMELEN + 4, 0, true);
  setPointer(vector, header + MSG_IOV, base + first.iov);
  setSize(vector, header + MSG_IOVLEN, count);
  setPointer(vector, header + MSG_CONTROL, controlAddress);
  setSize(vector, control + 0, SEGMENT_CMSG_LEN);
  vector.setInt32(control + 8, SOL_UDP, true);
  vector.setInt32(control + 12, UDP_SEGMENT, true);
  vector.setUint32(control + 16, segmentSize & 0xffff, true); // u16 value, then padding
  vector.setUint32(control + 20, 0, true);
  if (mark === 0) setSize(vector, header + MSG_CONTROLLEN, SEGMENT_CMSG_SPACE);
  else {
    const at = control + SEGMENT_CMSG_SPACE;
    setSize(vector, at, MARK_CMSG_LEN);
    vector.setInt32(at + 8, SOL_SOCKET, true);
    vector.setInt32(at + 12, SO_MARK, true);
    vector.setUint32(at + 16, mark >>> 0, true);
    vector.setUint32(at + 20, 0, true);
    setSize(vector, header + MSG_CONTROLLEN, SEGMENTED_CONTROL_SIZE);
  }
  vector.setInt32(header + MSG_FLAGS, 0, true);
  vector.setUint32(header + MSG_LEN, 0, true);
}

/** Writes a sockaddr_in (16 bytes) or sockaddr_in6 (28 bytes) at `offset`; returns its length. */
export function writeSockaddr(view: DataView, offset: number, to: RawAddress, port: number): number {
  view.setUint16(offset, to.family, true);
  view.setUint16(offset + 2, port, false);
  if (to.family === AF_INET) {
    for (let i = 0; i < 4; i++) view.setUint8(offset + 4 + i, to.bytes[i]!);
    view.setUint32(offset + 8, 0, true);
    view.setUint32(offset + 12, 0, true);
    return 16;
  }
  view.setUint32(offset + 4, 0, true); // flow info
  for (let i = 0; i < 16; i++) view.setUint8(offset + 8 + i, to.bytes[i]!);
  view.setUint32(offset + 24, 0, true); // scope id
  return 28;
}

/** Family, port and the address bytes' offset of a sockaddr the kernel wrote; undefined for others. */
export function readSockaddr(view: DataView, offset: number): { family: number; port: number; at: number } | undefined {
  const family = view.getUint16(offset, true);
  const port = view.getUint16(offset + 2, false);
  if (family === AF_INET) return { family, port, at: offset + 4 };
  if (family === AF_INET6) return { family, port, at: offset + 8 };
  return undefined;
}

/** Parses an IPv4 or IPv6 literal (as node:net's isIP accepts them) to its bytes; undefined otherwise. */
export function parseAddress(text: string): RawAddress | undefined {
  const v4 = parseIpv4Bytes(text);
  if (v4) return { family: AF_INET, bytes: v4 };
  const v6 = parseIpv6Bytes(text);
  return v6 ? { family: AF_INET6, bytes: v6 } : undefined;
}

function parseIpv4Bytes(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i]!;
    if (!/^\d{1,3}$/.test(part) || (part.length > 1 && part[0] === '0')) return undefined;
    const value = Number(part);
    if (value > 255) return undefined;
    bytes[i] = value;
  }
  return bytes;
}

function parseIpv6Bytes(text: string): Uint8Array | undefined {
  if (text.includes('%')) return undefined; // scoped (link-local with zone): not for our peers
  let head = text;
  let tail4: Uint8Array | undefined;
  const lastColon = text.lastIndexOf(':');
  if (lastColon >= 0 && text.includes('.', lastColon)) {
    tail4 = parseIpv4Bytes(text.slice(lastColon + 1));
    if (!tail4) return undefined;
    head = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const left = groups(halves[0]!);
  const right = halves.length === 2 ? groups(halves[1]!) : [];
  const missing = 8 - left.length - right.length;
  if ((halves.length === 1 && missing !== 0) || (halves.length === 2 && missing < 1)) return undefined;
  const all = [...left, ...new Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...right];
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    const g = all[i]!;
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    const value = parseInt(g, 16);
    bytes[2 * i] = value >> 8;
    bytes[2 * i + 1] = value & 0xff;
  }
  if (tail4) bytes.set(tail4, 12);
  return bytes;
}

/** Dotted quad of the 4 bytes at `at`. */
export function formatIpv4At(view: DataView, at: number): string {
  return `${view.getUint8(at)}.${view.getUint8(at + 1)}.${view.getUint8(at + 2)}.${view.getUint8(at + 3)}`;
}

/**
 * The 16 bytes at `at` as node:dgram prints a peer address: IPv4-mapped ones as `::ffff:a.b.c.d`,
 * others compressed (RFC 5952 §4: lower case, the longest run of two or more zero groups as `::`).
 */
export function formatIpv6At(view: DataView, at: number): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push(view.getUint16(at + 2 * i, false));
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${formatIpv4At(view, at + 12)}`;
  }
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (list: number[]) => list.map((v) => v.toString(16)).join(':');
  if (bestStart < 0) return hex(g);
  return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLength))}`;
}
