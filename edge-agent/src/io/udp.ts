/**
 * The agent's UDP socket (L2TP over UDP port 1701, RFC 2661 §8.1) behind a small interface, so
 * the L2TP/PPP stack runs end to end against `FakeUdpNetwork` in tests. Two implementations: the
 * marked socket (native-udp.ts: each datagram's packet mark in and out, to tell apart clients
 * behind one NAT by their IPsec SA) and node:dgram (no marks), used where marks are unavailable.
 */
import { createSocket, type Socket, type SocketOptions } from 'node:dgram';
import { lookup as dnsLookup } from 'node:dns';
import { isIP, isIPv6 } from 'node:net';
import { UdpError } from './errors';
import type { DatagramSocket, OpenUdpOptions, RemoteInfo } from './datagram';
import { MarksUnavailable, openMarkedUdp } from './native-udp';

export type { DatagramSocket, OpenUdpOptions, RemoteInfo, SegmentedSends } from './datagram';

/** A bound socket, and why it has no marks when `marks: 'auto'` was asked and could not be had. */
export type OpenedUdp = DatagramSocket & { readonly marksUnavailable?: string };

/**
 * dgram resolves the destination of every send; for an IP literal (all our peers: they come from
 * received datagrams) dns.lookup answers on the next tick, which costs a tick and an async scope
 * per packet (~1,300 keepalive packets a second at 10,000 sessions). Answer literals at once.
 */
const literalLookup = ((hostname: string, family: unknown, callback: (error: Error | null, address: string, family: number) => void) => {
  const version = isIP(hostname);
  if (version !== 0) callback(null, hostname, version);
  else (dnsLookup as (h: string, f: unknown, c: typeof callback) => void)(hostname, family, callback);
}) as unknown as NonNullable<SocketOptions['lookup']>;

/** Bind a real UDP socket; rejects with UdpError (e.g. EADDRINUSE, EACCES). */
export async function openUdp(options: OpenUdpOptions): Promise<OpenedUdp> {
  if (options.marks !== 'auto') return openDgram(options);
  const marked = await openMarkedUdp(options);
  if (!(marked instanceof MarksUnavailable)) return marked;
  const socket = await openDgram(options);
  return Object.assign(socket, { marksUnavailable: marked.reason });
}

function openDgram(options: OpenUdpOptions): Promise<NodeDatagramSocket> {
  const socket = createSocket({ type: isIPv6(options.address) ? 'udp6' : 'udp4', lookup: literalLookup });
  return new Promise((resolve, reject) => {
    const onBindError = (cause: Error) => {
      socket.close();
      reject(new UdpError(`cannot bind UDP ${options.address}:${options.port}: ${cause.message}`, options.address, options.port, { cause }));
    };
    socket.once('error', onBindError);
    socket.bind(options.port, options.address, () => {
      socket.off('error', onBindError);
      try {
        if (options.receiveBufferSize) socket.setRecvBufferSize(options.receiveBufferSize);
        if (options.sendBufferSize) socket.setSendBufferSize(options.sendBufferSize);
      } catch (cause) {
        socket.close();
        reject(new UdpError(`cannot size UDP buffers: ${String(cause)}`, options.address, options.port, { cause }));
        return;
      }
      resolve(new NodeDatagramSocket(socket));
    });
  });
}

class NodeDatagramSocket implements DatagramSocket {
  readonly address: string;
  readonly port: number;
  readonly marks = false;
  private errorHandler: (error: UdpError) => void = () => {};
  private closed = false;

  constructor(private readonly socket: Socket) {
    const bound = socket.address();
    this.address = bound.address;
    this.port = bound.port;
    socket.on('error', (cause) => this.errorHandler(new UdpError(`UDP ${this.address}:${this.port}: ${cause.message}`, this.address, this.port, { cause })));
  }

  send(data: Uint8Array, port: number, address: string): void {
    if (!this.closed) this.socket.send(data, port, address);
  }

  sendParts(head: Uint8Array, headLength: number, body: Uint8Array, port: number, address: string): void {
    if (this.closed) return;
    // dgram sends later, from the buffer it is given: join into a buffer of our own.
    const out = Buffer.allocUnsafe(headLength + body.length);
    out.set(headLength === head.length ? head : head.subarray(0, headLength), 0);
    out.set(body, headLength);
    this.socket.send(out, port, address);
  }

  onMessage(handler: (data: Buffer, remote: RemoteInfo) => void): void {
    this.socket.removeAllListeners('message');
    this.socket.on('message', handler);
  }

  onError(handler: (error: UdpError) => void): void {
    this.errorHandler = handler;
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((done) => this.socket.close(() => done()));
  }
}
