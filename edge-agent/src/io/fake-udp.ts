/**
 * An in-memory UDP network: sockets bound on it exchange datagrams by address:port, delivered
 * asynchronously (a microtask) like a real socket, so a handler that replies cannot recurse.
 */
import { UdpError } from './errors';
import type { DatagramSocket, RemoteInfo } from './udp';

interface Endpoint {
  deliver(data: Buffer, from: RemoteInfo): void;
}

export class FakeUdpNetwork {
  private readonly endpoints = new Map<string, Endpoint>();
  private nextPort = 40000;
  /** Return true to drop a datagram (loss, partitions); sees every send. */
  dropIf: (data: Uint8Array, from: RemoteInfo, to: RemoteInfo) => boolean = () => false;
  /** Datagrams sent to an address:port where nothing is bound (counted, then dropped). */
  undeliverable = 0;

  /** Bind a socket; port 0 picks a free one. Throws UdpError when the address:port is taken. */
  bind(address: string, port = 0): DatagramSocket {
    let chosen = port;
    if (chosen === 0) while (this.endpoints.has(`${address}:${(chosen = this.nextPort++)}`));
    const key = `${address}:${chosen}`;
    if (this.endpoints.has(key)) throw new UdpError(`cannot bind UDP ${key}: address in use`, address, chosen);
    let handler: (data: Buffer, remote: RemoteInfo) => void = () => {};
    let closed = false;
    const self: RemoteInfo = { address, port: chosen };
    this.endpoints.set(key, { deliver: (data, from) => !closed && handler(data, from) });
    const network = this;
    return {
      address,
      port: chosen,
      send(data, toPort, toAddress) {
        if (closed) return;
        const to = { address: toAddress, port: toPort };
        if (network.dropIf(data, self, to)) return;
        const copy = Buffer.from(data);
        queueMicrotask(() => {
          const target = network.endpoints.get(`${toAddress}:${toPort}`);
          if (target) target.deliver(copy, self);
          else network.undeliverable++;
        });
      },
      onMessage(h) {
        handler = h;
      },
      onError() {
        // In-memory sends do not fail.
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
