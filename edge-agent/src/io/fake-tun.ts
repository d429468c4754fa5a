/**
 * An in-memory TUN for tests: the `device` side is what the agent uses, the `peer` side plays the
 * kernel. Like the real device it hands handlers a view of one reused buffer, and it poisons that
 * buffer after each handler returns, so a consumer that keeps the view instead of copying fails
 * its tests instead of corrupting packets in production.
 */
import type { TunOffload } from '../datapath/gso';
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

  const peer: FakeTunPeer = {
    written,
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
