/**
 * An in-memory UDP network: sockets bound on it exchange datagrams by address:port, delivered
 * asynchronously (a microtask) like a real socket, so a handler that replies cannot recurse.
 *
 * Marks model IPsec SAs (docs/ipsec.md, "Several clients behind one NAT"): a socket bound with a
 * mark stands for one client behind its own SA; several may share an address and port, as
 * clients behind one NAT do. What it sends arrives with its mark; a datagram sent with mark m to
 * an address:port goes to the socket bound there with mark m (a marked reply matches only that
 * SA's policy), else to the one bound with mark 0. An unmarked datagram to an address:port where
 * only marked sockets are bound reaches none of them (counted as undeliverable).
 */
import { UdpError } from './errors';
import type { DatagramSocket, RemoteInfo } from './datagram';

interface Endpoint {
  deliver(data: Buffer, from: RemoteInfo): void;
}

export interface FakeBindOptions {
  /** The mark this socket's datagrams arrive with, and the mark that reaches it (0: none). */
  readonly mark?: number;
  /** Whether the socket reports marks and sends with them (the marked socket). @default true */
  readonly marks?: boolean;
}

/** A fake socket; `setMark` moves it to another SA, as a client's rekey under a new IKE_SA does. */
export interface FakeDatagramSocket extends DatagramSocket {
  setMark(mark: number): void;
}

export class FakeUdpNetwork {
  private readonly endpoints = new Map<string, Endpoint>();
  private nextPort = 40000;
  /** Return true to drop a datagram (loss, partitions); sees every send. */
  dropIf: (data: Uint8Array, from: RemoteInfo, to: RemoteInfo) => boolean = () => false;
  /** Datagrams sent to an address:port (and mark) where nothing is bound (counted, then dropped). */
  undeliverable = 0;

  /** Bind a socket; port 0 picks a free one. Throws UdpError when the address:port (and mark) is taken. */
  bind(address: string, port = 0, options: FakeBindOptions = {}): FakeDatagramSocket {
    let mark = options.mark ?? 0;
    let chosen = port;
    if (chosen === 0) while (this.endpoints.has(`${address}:${(chosen = this.nextPort++)}|0`));
    let key = `${address}:${chosen}|${mark}`;
    if (this.endpoints.has(key)) throw new UdpError(`cannot bind UDP ${address}:${chosen}: address in use`, address, chosen);
    let handler: (data: Buffer, remote: RemoteInfo) => void = () => {};
    let closed = false;
    let self: RemoteInfo = { address, port: chosen, mark };
    const marks = options.marks ?? true;
    const endpoint: Endpoint = {
      deliver: (data, from) => {
        if (closed) return;
        handler(data, marks ? from : { address: from.address, port: from.port, mark: 0 });
        // Handlers get a view valid until they return (like the marked socket's reused buffer):
        // scribble over it so a handler that keeps it without a copy fails its tests.
        data.fill(0xee);
      },
    };
    this.endpoints.set(key, endpoint);
    const network = this;
    return {
      address,
      port: chosen,
      marks,
      send(data, toPort, toAddress, sendMark = 0) {
        if (closed) return;
        const to = { address: toAddress, port: toPort, mark: marks ? sendMark : 0 };
        const from = self;
        if (network.dropIf(data, from, to)) return;
        const copy = Buffer.from(data);
        queueMicrotask(() => {
          const target = network.endpoints.get(`${toAddress}:${toPort}|${to.mark}`) ?? network.endpoints.get(`${toAddress}:${toPort}|0`);
          if (target) target.deliver(copy, from);
          else network.undeliverable++;
        });
      },
      sendParts(head, headLength, body, toPort, toAddress, sendMark = 0) {
        this.send(Buffer.concat([head.subarray(0, headLength), body]), toPort, toAddress, sendMark);
      },
      onMessage(h) {
        handler = h;
      },
      onError() {
        // In-memory sends do not fail.
      },
      setMark(next) {
        const nextKey = `${address}:${chosen}|${next}`;
        if (network.endpoints.has(nextKey)) throw new UdpError(`cannot bind UDP ${address}:${chosen} with mark ${next}: address in use`, address, chosen);
        network.endpoints.delete(key);
        key = nextKey;
        mark = next;
        self = { address, port: chosen, mark };
        network.endpoints.set(key, endpoint);
      },
      close() {
        if (!closed) {
          closed = true;
          network.endpoints.delete(key);
        }
        return Promise.resolve();
      },
    };
  }
}
