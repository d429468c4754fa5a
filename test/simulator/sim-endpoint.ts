/**
 * One UDP socket of the simulator, shared by any number of tunnels: incoming datagrams are demultiplexed on the
 * Tunnel ID of the L2TP header (RFC 2661 §3.1), which is our own Assigned Tunnel ID for both control and data
 * messages. Tunnel ids are unique per socket, so many "clients behind one NAT" can share a source port.
 */
import { FLAG_L } from '../../edge-agent/src/l2tp';
import { openUdp, type DatagramSocket } from '../../edge-agent/src/io';

/** What a tunnel needs from its socket. */
export interface TunnelReceiver {
  receive(datagram: Buffer): void;
}

export class SimEndpoint {
  private readonly tunnels = new Map<number, TunnelReceiver>();
  private nextTunnelId = 1;
  /** Datagrams nobody claimed (unknown tunnel id, runt). */
  dropped = 0;

  private constructor(
    private readonly socket: DatagramSocket,
    private readonly server: { readonly address: string; readonly port: number },
  ) {
    // The batched socket hands out views of buffers it reuses; the engines may keep what they get.
    const copies = socket.marks;
    socket.onMessage((datagram, remote) => {
      if (remote.port !== server.port) {
        this.dropped++;
        return;
      }
      const tunnel = this.tunnels.get(peekTunnelId(datagram));
      if (tunnel) tunnel.receive(copies ? Buffer.from(datagram) : datagram);
      else this.dropped++;
    });
    socket.onError(() => {
      // UDP send errors (e.g. ICMP port unreachable surfacing as ECONNREFUSED) are loss; the engines retransmit.
    });
  }

  static async open(localAddress: string, localPort: number, server: { address: string; port: number }, batched = false): Promise<SimEndpoint> {
    const socket = await openUdp({ address: localAddress, port: localPort, receiveBufferSize: 4 << 20, sendBufferSize: 4 << 20, marks: batched ? 'auto' : 'off' });
    return new SimEndpoint(socket, server);
  }

  get localPort(): number {
    return this.socket.port;
  }

  /** Reserve a fresh tunnel id for `tunnel` on this socket. */
  attach(makeTunnel: (localTunnelId: number) => TunnelReceiver): void {
    for (let tries = 0; tries < 0xffff; tries++) {
      const id = this.nextTunnelId;
      this.nextTunnelId = id === 0xffff ? 1 : id + 1;
      if (!this.tunnels.has(id)) {
        this.tunnels.set(id, makeTunnel(id));
        return;
      }
    }
    throw new Error('all 65535 tunnel ids of this socket are in use');
  }

  detach(localTunnelId: number): void {
    this.tunnels.delete(localTunnelId);
  }

  send(bytes: Uint8Array): void {
    this.socket.send(bytes, this.server.port, this.server.address);
  }

  close(): Promise<void> {
    this.tunnels.clear();
    return this.socket.close();
  }
}

/** Tunnel ID of an L2TP header; 0 for a runt (no tunnel has id 0). */
function peekTunnelId(b: Buffer): number {
  if (b.length < 6) return 0;
  const at = ((b[0] as number) & FLAG_L) !== 0 ? 4 : 2;
  if (b.length < at + 2) return 0;
  return ((b[at] as number) << 8) | (b[at + 1] as number);
}
