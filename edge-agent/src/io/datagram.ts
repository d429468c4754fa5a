/**
 * The UDP socket interface the agent is written against, shared by its implementations (udp.ts:
 * node:dgram; native-udp.ts: the marked socket; fake-udp.ts: in memory). Types only, so the
 * implementations need not import each other.
 */
import type { UdpError } from './errors';

export interface RemoteInfo {
  readonly address: string;
  readonly port: number;
  /**
   * The datagram's packet mark: with charon's `set_mark_in = %same`, the mark of the IPsec SA that
   * decrypted it. 0 for none, and always 0 on a socket without `marks`.
   */
  readonly mark?: number;
}

export interface DatagramSocket {
  /** The bound local address and port (port resolved when 0 was asked). */
  readonly address: string;
  readonly port: number;
  /** Received datagrams carry their mark and sends can set one (the marked socket). */
  readonly marks: boolean;
  /** UDP GSO sends (the marked socket with `segmentation`): messages, the datagrams they carried, runs refused. */
  readonly segmented?: SegmentedSends;
  /**
   * Send one datagram, with packet mark `mark` when not 0 (ignored without `marks`); errors go to
   * the error handler (UDP has no delivery guarantee anyway). The data is copied before return.
   */
  send(data: Uint8Array, port: number, address: string, mark?: number): void;
  /**
   * Send `head[0..headLength)` followed by `body` as one datagram, like `send` of the two joined:
   * the data path's frame headers and the IP packet read from the TUN, without building the frame
   * first (the batched socket copies both straight into its send arena). Both are copied before return.
   */
  sendParts(head: Uint8Array, headLength: number, body: Uint8Array, port: number, address: string, mark?: number): void;
  /**
   * Set the handler for received datagrams (replaces any previous one). `data` may be a view of a
   * reused buffer, valid only until the handler returns: copy what you keep.
   */
  onMessage(handler: (data: Buffer, remote: RemoteInfo) => void): void;
  /**
   * Only on a socket that receives in batches (the marked socket's recvmmsg): `handler` runs after
   * the message handler has seen the last datagram of each batch, before their buffers are reused,
   * so views of that batch's datagrams stay valid until it returns (the data path joins a batch's
   * packets for the TUN, datapath/gro.ts). Replaces any previous handler.
   */
  onBatchEnd?(handler: () => void): void;
  onError(handler: (error: UdpError) => void): void;
  close(): Promise<void>;
}

export interface SegmentedSends {
  readonly messages: number;
  readonly datagrams: number;
  readonly refused: number;
}

export interface OpenUdpOptions {
  readonly address: string;
  readonly port: number;
  /** SO_RCVBUF / SO_SNDBUF in bytes; larger buffers absorb bursts from many sessions. */
  readonly receiveBufferSize?: number;
  readonly sendBufferSize?: number;
  /**
   * `auto`: the marked socket when this host can do marks, else node:dgram (see `marksUnavailable`
   * on the result). `off` (default): node:dgram.
   */
  readonly marks?: 'auto' | 'off';
  /**
   * The marked socket sends runs of equal-sized datagrams to one client as one UDP GSO message
   * (UDP_SEGMENT, Linux >= 4.18), falling back to single datagrams where the route refuses it
   * (IPsec). Default off; node:dgram ignores it.
   */
  readonly segmentation?: boolean;
}
