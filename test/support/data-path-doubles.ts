/**
 * Stand-ins for what DataPath talks to besides the TUN, for tests and experiments that drive the
 * real DataPath: a datagram socket whose batch ends the caller plays (as recvmmsg would), and a
 * session with the fields the data path reads.
 */
import { parseIpv4 } from '../../edge-agent/src/datapath/address';
import type { DatagramSocket } from '../../edge-agent/src/io/datagram';
import type { DataSession } from '../../edge-agent/src/runtime/data-path';

/** A socket that sends nothing; with `batches` it reports batch ends, which `endBatch` plays. */
export function batchedSocket(batches = true): DatagramSocket & { endBatch(): void } {
  let end: () => void = () => {};
  const socket: DatagramSocket & { endBatch(): void } = {
    address: '192.0.2.1',
    port: 1701,
    marks: true,
    send() {},
    sendParts() {},
    onMessage() {},
    onError() {},
    close: () => Promise.resolve(),
    endBatch: () => end(),
  };
  if (batches) socket.onBatchEnd = (handler) => (end = handler);
  return socket;
}

/** A forwarding session for the client `address` (dotted quad), counted in `counterSlot`. */
export function dataSession(address: string, counterSlot: number, over: Partial<DataSession> = {}): DataSession {
  return {
    localTunnelId: 7,
    localSessionId: 100,
    peerTunnelId: 70,
    peerSessionId: 700,
    peer: { address: '198.51.100.7', port: 1701, mark: 0 },
    address: parseIpv4(address)!,
    counterSlot,
    forwarding: true,
    acfc: false,
    pfc: false,
    dataNs: -1,
    mss: 1460,
    onPppFrame() {},
    ...over,
  };
}
