/**
 * The marked socket's decisions and batching against a scripted kernel (no root, no real socket):
 * when it falls back to node:dgram, what errors it reports, how sends are batched into sendmmsg
 * and what each message header says. test/integration/io/marked-udp.test.ts runs it for real.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { UdpError } from '../../../../edge-agent/src/io/errors';
import { Errno, SO_MARK, SO_RCVMARK, SOL_SOCKET, SOL_UDP, UDP_SEGMENT, formatIpv4At, readSockaddr, writeSockaddr, parseAddress } from '../../../../edge-agent/src/io/msghdr';
import { MarksUnavailable, openMarkedUdp, type SocketCalls } from '../../../../edge-agent/src/io/native-udp';
import type { DatagramSocket, RemoteInfo } from '../../../../edge-agent/src/io/udp';

interface Sent {
  readonly to: string;
  readonly port: number;
  readonly mark: number;
  readonly data: string;
}

interface Incoming {
  readonly from: string;
  readonly port: number;
  readonly mark: number;
  readonly data: Buffer;
}

/** A scripted kernel: pointers are fake addresses that map back to the buffers they came from. */
class ScriptedKernel implements SocketCalls {
  readonly closed: number[] = [];
  readonly options = new Map<number, number>();
  readonly sent: Sent[] = [];
  readonly sendCalls: number[] = [];
  /** Per UDP_SEGMENT message the kernel took: datagrams it was cut into, and the segment size. */
  readonly segmentedSends: { datagrams: number; segment: number }[] = [];
  /** Per sendmmsg call: how many to accept, or -errno. Beyond the script: all. */
  sendScript: number[] = [];
  optionErrno = new Map<number, number>();
  bindErrno = 0;
  readonly incoming: Incoming[] = [];
  private lastErrno = 0;
  private readonly regions: { base: number; buffer: Uint8Array }[] = [];
  private onReadable: (() => void) | undefined;
  pollClosed = false;

  socket(): number {
    return 9;
  }
  setsockopt(_fd: number, _level: number, name: number, value: Uint8Array): number {
    const errno = this.optionErrno.get(name);
    if (errno) return this.fail(errno);
    this.options.set(name, Buffer.from(value).readInt32LE(0));
    return 0;
  }
  bind(): number {
    return this.bindErrno ? this.fail(this.bindErrno) : 0;
  }
  getsockname(_fd: number, address: Uint8Array): number {
    writeSockaddr(new DataView(address.buffer, address.byteOffset, address.byteLength), 0, parseAddress('192.0.2.1')!, 41701);
    return 0;
  }
  close(fd: number): number {
    this.closed.push(fd);
    return 0;
  }
  errno(): number {
    return this.lastErrno;
  }
  address(buffer: Uint8Array): number {
    const base = 0x7f00_0000_0000 + this.regions.length * 0x100_0000;
    this.regions.push({ base, buffer });
    return base;
  }
  poll(_fd: number, onReadable: () => void) {
    this.onReadable = onReadable;
    return { close: () => void (this.pollClosed = true) };
  }
  /** Let the socket read what is queued in `incoming` (it reads from a setImmediate: wait for it). */
  async readable(): Promise<void> {
    this.onReadable?.();
    await new Promise((resolve) => setImmediate(resolve));
  }

  sendmmsg(_fd: number, vector: Uint8Array, count: number): number {
    this.sendCalls.push(count);
    const scripted = this.sendScript.shift();
    if (scripted !== undefined && scripted < 0) return this.fail(-scripted);
    const take = Math.min(count, scripted ?? count);
    const v = view(vector);
    for (let i = 0; i < take; i++) {
      const h = i * 64;
      const name = this.resolve(u64(v, h));
      const iovs = this.resolve(u64(v, h + 16));
      const iovCount = u64(v, h + 24);
      // The message's bytes: its iovecs gathered, as the kernel copies them.
      const parts: Buffer[] = [];
      for (let k = 0; k < iovCount; k++) {
        const data = this.resolve(u64(iovs.view, iovs.at + 16 * k));
        const length = u64(iovs.view, iovs.at + 16 * k + 8);
        parts.push(Buffer.from(data.buffer.subarray(data.at, data.at + length)));
      }
      const bytes = Buffer.concat(parts);
      const { mark, segment } = this.controls(v, h);
      const from = readSockaddr(name.view, name.at)!;
      if (segment !== undefined) this.segmentedSends.push({ datagrams: Math.ceil(bytes.length / segment), segment });
      else assert.equal(iovCount, 1, 'several iovecs only with UDP_SEGMENT');
      const size = segment ?? bytes.length;
      for (let at = 0; at < bytes.length; at += size) {
        this.sent.push({ to: formatIpv4At(name.view, from.at), port: from.port, mark, data: bytes.subarray(at, at + size).toString() });
      }
    }
    return take;
  }

  /** The SO_MARK and UDP_SEGMENT control messages of the message at `h`, checked as the kernel would. */
  private controls(v: DataView, h: number): { mark: number; segment: number | undefined } {
    const control = u64(v, h + 32);
    const length = u64(v, h + 40);
    let mark = 0;
    let segment: number | undefined;
    if (control === 0) return { mark, segment };
    const c = this.resolve(control);
    for (let at = 0; at + 16 <= length; ) {
      const cmsgLength = u64(c.view, c.at + at);
      const level = c.view.getInt32(c.at + at + 8, true);
      const type = c.view.getInt32(c.at + at + 12, true);
      if (level === SOL_SOCKET && type === SO_MARK) {
        assert.equal(cmsgLength, 20);
        mark = c.view.getUint32(c.at + at + 16, true);
      } else if (level === SOL_UDP && type === UDP_SEGMENT) {
        assert.equal(cmsgLength, 18, 'CMSG_LEN(sizeof(u16)), as udp_cmsg_send demands');
        segment = c.view.getUint16(c.at + at + 16, true);
      } else assert.fail(`unexpected control message ${level}/${type}`);
      at += (cmsgLength + 7) & ~7;
    }
    return { mark, segment };
  }

  recvmmsg(_fd: number, vector: Uint8Array, count: number): number {
    if (this.incoming.length === 0) return this.fail(Errno.EAGAIN);
    const v = view(vector);
    let n = 0;
    for (; n < count && this.incoming.length > 0; n++) {
      const d = this.incoming.shift()!;
      const h = n * 64;
      const name = this.resolve(u64(v, h));
      writeSockaddr(name.view, name.at, parseAddress(d.from)!, d.port);
      const iov = this.resolve(u64(v, h + 16));
      const data = this.resolve(u64(iov.view, iov.at));
      const room = u64(iov.view, iov.at + 8);
      data.buffer.set(d.data.subarray(0, room), data.at);
      v.setUint32(h + 56, Math.min(d.data.length, room), true);
      v.setInt32(h + 48, d.data.length > room ? 0x20 : 0, true); // MSG_TRUNC
      const control = this.resolve(u64(v, h + 32));
      control.view.setBigUint64(control.at, 20n, true);
      control.view.setInt32(control.at + 8, 1, true);
      control.view.setInt32(control.at + 12, SO_MARK, true);
      control.view.setUint32(control.at + 16, d.mark, true);
      v.setBigUint64(h + 40, 24n, true);
    }
    return n;
  }

  private fail(errno: number): number {
    this.lastErrno = errno;
    return -1;
  }

  private resolve(pointer: number): { buffer: Uint8Array; view: DataView; at: number } {
    const region = this.regions.find((r) => pointer >= r.base && pointer < r.base + r.buffer.length);
    assert.ok(region, `pointer ${pointer.toString(16)} outside every buffer the socket registered`);
    return { buffer: region.buffer, view: view(region.buffer), at: pointer - region.base };
  }
}

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
const u64 = (v: DataView, at: number) => Number(v.getBigUint64(at, true));
const OPTIONS = { address: '192.0.2.1', port: 1701 };

async function open(kernel: ScriptedKernel, segmentation = false): Promise<DatagramSocket> {
  const socket = await openMarkedUdp({ ...OPTIONS, segmentation }, kernel);
  assert.ok(!(socket instanceof MarksUnavailable), 'opened');
  return socket;
}

describe('marked socket: when it is not used', () => {
  test('a kernel without SO_RCVMARK (< 5.19): unavailable, the reason says why, the fd is closed', async () => {
    const kernel = new ScriptedKernel();
    kernel.optionErrno.set(SO_RCVMARK, Errno.ENOPROTOOPT);
    const result = await openMarkedUdp(OPTIONS, kernel);
    assert.ok(result instanceof MarksUnavailable);
    assert.match(result.reason, /SO_RCVMARK.*5\.19/);
    assert.deepEqual(kernel.closed, [9]);
  });

  test('no CAP_NET_ADMIN to set marks: unavailable', async () => {
    const kernel = new ScriptedKernel();
    kernel.optionErrno.set(SO_MARK, Errno.EPERM);
    const result = await openMarkedUdp(OPTIONS, kernel);
    assert.ok(result instanceof MarksUnavailable);
    assert.match(result.reason, /CAP_NET_ADMIN/);
    assert.deepEqual(kernel.closed, [9]);
  });

  test('a port in use is an error, not a fallback (node:dgram could not bind it either)', async () => {
    const kernel = new ScriptedKernel();
    kernel.bindErrno = Errno.EADDRINUSE;
    await assert.rejects(openMarkedUdp(OPTIONS, kernel), (error: unknown) => {
      assert.ok(error instanceof UdpError);
      assert.equal((error.cause as NodeJS.ErrnoException).code, 'EADDRINUSE');
      return true;
    });
    assert.deepEqual(kernel.closed, [9]);
  });

  test('opened: SO_RCVMARK on, the kernel-chosen port reported', async () => {
    const kernel = new ScriptedKernel();
    const socket = await openMarkedUdp({ ...OPTIONS, port: 0, receiveBufferSize: 1 << 20 }, kernel);
    assert.ok(!(socket instanceof MarksUnavailable));
    assert.equal(socket.marks, true);
    assert.equal(socket.port, 41701);
    assert.equal(kernel.options.get(SO_RCVMARK), 1);
    assert.equal(kernel.options.get(8), 1 << 20, 'SO_RCVBUF');
    await socket.close();
    assert.equal(kernel.pollClosed, true);
  });
});

describe('marked socket: sending', () => {
  test('sends of one task leave in sendmmsg batches of 64, each with its destination and mark', async () => {
    const kernel = new ScriptedKernel();
    const socket = await open(kernel);
    for (let i = 0; i < 100; i++) socket.send(Buffer.from(`d${i}`), 1701, `198.51.100.${i % 3}`, i % 2 === 0 ? 0 : 1000 + i);
    assert.deepEqual(kernel.sendCalls, [64], 'a full batch leaves at once');
    await Promise.resolve();
    assert.deepEqual(kernel.sendCalls, [64, 36], 'the rest at the end of the task');
    assert.equal(kernel.sent.length, 100);
    assert.deepEqual(kernel.sent[0], { to: '198.51.100.0', port: 1701, mark: 0, data: 'd0' });
    assert.deepEqual(kernel.sent[65], { to: '198.51.100.2', port: 1701, mark: 1065, data: 'd65' });
    await socket.close();
  });

  test('a full send buffer drops the rest like a wire; a failing datagram is reported and the others still go', async () => {
    const kernel = new ScriptedKernel();
    const socket = await open(kernel);
    const errors: UdpError[] = [];
    socket.onError((e) => errors.push(e));
    kernel.sendScript = [1, -Errno.EAGAIN];
    for (let i = 0; i < 4; i++) socket.send(Buffer.from(`x${i}`), 1701, '198.51.100.1');
    await Promise.resolve();
    assert.deepEqual(kernel.sent.map((s) => s.data), ['x0']);
    assert.equal((socket as unknown as { dropped: { sendBufferFull: number } }).dropped.sendBufferFull, 3);
    assert.equal(errors.length, 0);

    kernel.sendScript = [-Errno.EINVAL];
    for (let i = 0; i < 3; i++) socket.send(Buffer.from(`y${i}`), 1701, '198.51.100.1');
    await Promise.resolve();
    assert.deepEqual(kernel.sent.map((s) => s.data).slice(1), ['y1', 'y2']);
    assert.equal(errors.length, 1);
    assert.equal((errors[0]!.cause as NodeJS.ErrnoException).code, 'EINVAL');
    await socket.close();
  });

  test('frames sent in two parts are assembled in the batch like whole ones, in order, with partial sends resumed', async () => {
    const kernel = new ScriptedKernel();
    const socket = await open(kernel);
    const head = Buffer.from('HEAD-and-unused-room');
    const body = Buffer.from('body');
    // 70 datagrams: one full batch (64) then 6; whole and two-part sends alternate, as the data
    // path's frames and the PPP engines' control frames do. The kernel takes 40 of the first batch.
    kernel.sendScript = [40];
    for (let i = 0; i < 70; i++) {
      if (i % 2 === 0) socket.sendParts(head, 4, Buffer.from(`${body}${i}`), 1701, `198.51.100.${i % 5}`, i);
      else socket.send(Buffer.from(`whole${i}`), 1701, `198.51.100.${i % 5}`, i);
    }
    body.fill(0x21); // the socket copied both parts
    await Promise.resolve();
    assert.deepEqual(kernel.sendCalls, [64, 24, 6], 'the 24 the kernel left are sent again, then the rest');
    assert.equal(kernel.sent.length, 70);
    kernel.sent.forEach((sent, i) => {
      assert.deepEqual(sent, { to: `198.51.100.${i % 5}`, port: 1701, mark: i, data: i % 2 === 0 ? `HEADbody${i}` : `whole${i}` });
    });
    // A frame larger than an arena slot leaves whole too (joined outside the arena).
    socket.sendParts(head, 4, Buffer.alloc(5000, 0x61), 1701, '198.51.100.9');
    await Promise.resolve();
    assert.equal(kernel.sent.at(-1)!.data, `HEAD${'a'.repeat(5000)}`);
    await socket.close();
  });

  test('close sends what is queued first', async () => {
    const kernel = new ScriptedKernel();
    const socket = await open(kernel);
    socket.send(Buffer.from('StopCCN'), 1701, '198.51.100.1', 7);
    await socket.close();
    assert.deepEqual(kernel.sent, [{ to: '198.51.100.1', port: 1701, mark: 7, data: 'StopCCN' }]);
    socket.send(Buffer.from('late'), 1701, '198.51.100.1');
    await Promise.resolve();
    assert.equal(kernel.sent.length, 1, 'nothing after close');
  });
});

describe('marked socket: segmentation (UDP GSO)', () => {
  const segmented = (socket: DatagramSocket) => (socket as unknown as { segmented: { messages: number; datagrams: number; refused: number } }).segmented;
  const frame = (tag: string, length: number) => Buffer.from(tag.padEnd(length, '.'));

  test('runs to one client with one mark and size leave as one UDP_SEGMENT message each; the rest as before', async () => {
    const kernel = new ScriptedKernel();
    const socket = await open(kernel, true);
    const expected: Sent[] = [];
    const send = (data: Buffer, to: string, mark: number, port = 1701) => {
      socket.sendParts(data.subarray(0, 3), 3, data.subarray(3), port, to, mark);
      expected.push({ to, port, mark, data: data.toString() });
    };
    for (let i = 0; i < 10; i++) send(frame(`a${i}`, 100), '198.51.100.1', 5);
    send(frame('a-last', 60), '198.51.100.1', 5); // a shorter last segment ends the run
    send(frame('a-after-short', 60), '198.51.100.1', 5); // ... so this one starts a new one
    send(frame('a-after-short2', 60), '198.51.100.1', 5);
    for (let i = 0; i < 3; i++) send(frame(`b${i}`, 100), '198.51.100.2', 5);
    send(frame('b-other-mark', 100), '198.51.100.2', 6);
    send(frame('b-other-port', 100), '198.51.100.2', 6, 4500);
    send(frame('b-longer', 120), '198.51.100.2', 6, 4500); // longer than the run's size: a run of its own
    await Promise.resolve();
    assert.deepEqual(kernel.sendCalls, [6], 'one sendmmsg of 6 messages for 19 datagrams');
    assert.deepEqual(kernel.segmentedSends, [
      { datagrams: 11, segment: 100 },
      { datagrams: 2, segment: 60 },
      { datagrams: 3, segment: 100 },
    ]);
    assert.deepEqual(kernel.sent, expected, 'every datagram, in order, to its destination with its mark');
    assert.deepEqual(segmented(socket), { messages: 3, datagrams: 16, refused: 0 });
    await socket.close();
  });

  test('a batch without a run of two is sent as the plain batch; segmentation off never segments', async () => {
    for (const on of [true, false]) {
      const kernel = new ScriptedKernel();
      const socket = await open(kernel, on);
      for (let i = 0; i < 5; i++) socket.send(frame(`x${i}`, 50), 1701, `198.51.100.${i}`);
      for (let i = 0; i < 5; i++) socket.send(frame(`y${i}`, 50), 1701, '198.51.100.9');
      await Promise.resolve();
      assert.deepEqual(kernel.sent.map((d) => d.data.slice(0, 2)), ['x0', 'x1', 'x2', 'x3', 'x4', 'y0', 'y1', 'y2', 'y3', 'y4']);
      assert.deepEqual(kernel.segmentedSends, on ? [{ datagrams: 5, segment: 50 }] : []);
      await socket.close();
    }
  });

  test('a run stops below 64 KiB: 50 datagrams of 1,400 bytes are two messages', async () => {
    const kernel = new ScriptedKernel();
    const socket = await open(kernel, true);
    for (let i = 0; i < 50; i++) socket.send(frame(`s${i}`, 1400), 1701, '198.51.100.1');
    await Promise.resolve();
    assert.deepEqual(kernel.segmentedSends, [
      { datagrams: 46, segment: 1400 },
      { datagrams: 4, segment: 1400 },
    ]);
    assert.equal(kernel.sent.length, 50);
    await socket.close();
  });

  test('a route that refuses segments (IPsec: EIO) gets the run one by one, and no segments again; others still do', async () => {
    const kernel = new ScriptedKernel();
    const socket = await open(kernel, true);
    const errors: UdpError[] = [];
    socket.onError((e) => errors.push(e));
    kernel.sendScript = [-Errno.EIO];
    for (let i = 0; i < 4; i++) socket.send(frame(`p${i}`, 80), 1701, '198.51.100.1', 7);
    await Promise.resolve();
    assert.deepEqual(kernel.sendCalls, [1, 4], 'the refused message, then its 4 datagrams as a plain batch');
    assert.deepEqual(kernel.sent.map((d) => `${d.data.slice(0, 2)}#${d.mark}`), ['p0#7', 'p1#7', 'p2#7', 'p3#7']);
    assert.equal(errors.length, 0, 'a refusal is not an error');
    assert.deepEqual(segmented(socket), { messages: 0, datagrams: 0, refused: 1 });

    for (let i = 0; i < 4; i++) socket.send(frame(`q${i}`, 80), 1701, '198.51.100.1', 7);
    for (let i = 0; i < 3; i++) socket.send(frame(`r${i}`, 80), 1701, '198.51.100.1', 8); // same address, another SA
    await Promise.resolve();
    assert.deepEqual(kernel.sendCalls.slice(2), [5], 'q0..q3 one by one, r0..r2 as one message');
    assert.deepEqual(kernel.segmentedSends, [{ datagrams: 3, segment: 80 }]);
    assert.equal(kernel.sent.length, 11);
    await socket.close();
  });

  test('a route refusing a size (MTU: EMSGSIZE) is not asked again at that size, but is at a smaller one', async () => {
    const kernel = new ScriptedKernel();
    const socket = await open(kernel, true);
    kernel.sendScript = [-Errno.EMSGSIZE];
    for (let i = 0; i < 3; i++) socket.send(frame(`big${i}`, 1400), 1701, '198.51.100.1');
    await Promise.resolve();
    for (let i = 0; i < 3; i++) socket.send(frame(`big${i}`, 1400), 1701, '198.51.100.1');
    for (let i = 0; i < 3; i++) socket.send(frame(`small${i}`, 1000), 1701, '198.51.100.1');
    await Promise.resolve();
    assert.deepEqual(kernel.sendCalls, [1, 3, 4], 'refused, one by one; then 3 single messages and one run');
    assert.deepEqual(kernel.segmentedSends, [{ datagrams: 3, segment: 1000 }]);
    assert.equal(kernel.sent.length, 9);
    assert.deepEqual(segmented(socket), { messages: 1, datagrams: 3, refused: 1 });
    await socket.close();
  });

  test('a full send buffer drops the datagrams of every run not sent; another error drops that run only, reported', async () => {
    const kernel = new ScriptedKernel();
    const socket = await open(kernel, true);
    const errors: UdpError[] = [];
    socket.onError((e) => errors.push(e));
    kernel.sendScript = [1, -Errno.EAGAIN];
    for (let i = 0; i < 3; i++) socket.send(frame(`a${i}`, 40), 1701, '198.51.100.1');
    for (let i = 0; i < 5; i++) socket.send(frame(`b${i}`, 40), 1701, '198.51.100.2');
    await Promise.resolve();
    assert.equal(kernel.sent.length, 3);
    assert.equal((socket as unknown as { dropped: { sendBufferFull: number } }).dropped.sendBufferFull, 5);

    kernel.sendScript = [-101 /* ENETUNREACH */];
    for (let i = 0; i < 3; i++) socket.send(frame(`c${i}`, 40), 1701, '198.51.100.3');
    socket.send(frame('d', 40), 1701, '198.51.100.4');
    await Promise.resolve();
    assert.deepEqual(kernel.sent.slice(3).map((d) => d.data.slice(0, 1)), ['d']);
    assert.equal(errors.length, 1);
    assert.equal(segmented(socket).refused, 0, 'not a refusal of segments');
    await socket.close();
  });
});

describe('marked socket: receiving', () => {
  test('each datagram comes with its source and mark; an oversize one is counted and dropped', async () => {
    const kernel = new ScriptedKernel();
    const socket = await open(kernel);
    const got: { data: string; remote: RemoteInfo }[] = [];
    socket.onMessage((data, remote) => got.push({ data: data.toString(), remote }));
    kernel.incoming.push(
      { from: '198.51.100.100', port: 1701, mark: 1, data: Buffer.from('first') },
      { from: '198.51.100.100', port: 1701, mark: 2, data: Buffer.from('second') },
      { from: '198.51.100.100', port: 1701, mark: 2, data: Buffer.alloc(5000) },
      { from: '203.0.113.9', port: 50123, mark: 0, data: Buffer.from('plain') },
    );
    await kernel.readable();
    assert.deepEqual(got, [
      { data: 'first', remote: { address: '198.51.100.100', port: 1701, mark: 1 } },
      { data: 'second', remote: { address: '198.51.100.100', port: 1701, mark: 2 } },
      { data: 'plain', remote: { address: '203.0.113.9', port: 50123, mark: 0 } },
    ]);
    assert.equal((socket as unknown as { dropped: { truncated: number } }).dropped.truncated, 1);
    await socket.close();
  });

  test('more than one batch waiting: read in several recvmmsg calls per wake-up', async () => {
    const kernel = new ScriptedKernel();
    const socket = await open(kernel);
    let count = 0;
    socket.onMessage(() => count++);
    for (let i = 0; i < 150; i++) kernel.incoming.push({ from: '198.51.100.1', port: 1701, mark: i, data: Buffer.from('x') });
    await kernel.readable();
    assert.equal(count, 150);
    await socket.close();
  });

  test('the batch end comes after the last datagram of each recvmmsg, while their views are still intact, and before the next recvmmsg (GRO, issue 21)', async () => {
    const kernel = new ScriptedKernel();
    const socket = await open(kernel);
    const events: string[] = [];
    let held: Buffer[] = [];
    socket.onMessage((data) => {
      events.push(`m${data.toString()}`);
      held.push(data);
    });
    assert.ok(socket.onBatchEnd, 'the marked socket reports batch ends');
    socket.onBatchEnd!(() => {
      // Views of this batch's datagrams still say what was received (the slots are not reused yet).
      events.push(`end:${held.map((d) => d.toString()).join(',')}`);
      held = [];
    });
    const recvmmsg = kernel.recvmmsg.bind(kernel);
    kernel.recvmmsg = (fd: number, vector: Uint8Array, count: number) => {
      const n = recvmmsg(fd, vector, count);
      if (n > 0) events.push(`recv${n}`);
      return n;
    };
    for (let i = 0; i < 66; i++) kernel.incoming.push({ from: '198.51.100.1', port: 1701, mark: 0, data: Buffer.from(String(i).padStart(2, '0')) });
    await kernel.readable();
    const first = Array.from({ length: 64 }, (_, i) => String(i).padStart(2, '0'));
    assert.deepEqual(events, ['recv64', ...first.map((d) => `m${d}`), `end:${first.join(',')}`, 'recv2', 'm64', 'm65', 'end:64,65']);
    await socket.close();
  });

  test('a message handler that throws still ends the batch (held packets are written), then the error surfaces', async () => {
    const kernel = new ScriptedKernel();
    const socket = await open(kernel);
    let ends = 0;
    socket.onMessage((data) => {
      if (data.toString() === 'bad') throw new Error('handler bug');
    });
    socket.onBatchEnd!(() => ends++);
    kernel.incoming.push({ from: '198.51.100.1', port: 1701, mark: 0, data: Buffer.from('ok') }, { from: '198.51.100.1', port: 1701, mark: 0, data: Buffer.from('bad') });
    // The read task, run directly (from its setImmediate the error would be an uncaught exception).
    assert.throws(() => (socket as unknown as { onReadable(): void }).onReadable(), /handler bug/);
    assert.equal(ends, 1);
    await socket.close();
  });
});
