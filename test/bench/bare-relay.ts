/**
 * The data-path baseline: a Node process doing only the socket and TUN I/O of the agent, with the
 * same adapters (openUdp, openTun) and no L2TP/PPP work. UDP in -> strip the fixed 10-byte L2TP +
 * PPP header -> TUN write; TUN read -> prepend one fixed header -> UDP send to one client address.
 * It binds the agent's port number on another loopback address, so the simulator (which accepts
 * data from its server's port) parses its packets exactly like the agent's.
 */
import { createLinkConfig } from '../../edge-agent/src/io/link-config';
import { openTun, type TunDevice } from '../../edge-agent/src/io/tun';
import { openUdp, type DatagramSocket } from '../../edge-agent/src/io/udp';
import { serveRpc } from './child-rpc';
import { FRAME_OVERHEAD } from './packets';

let tun: TunDevice | undefined;
let socket: DatagramSocket | undefined;
const link = createLinkConfig();
let settings: Parameters<typeof link.configure>[0] | undefined;

interface StartArgs {
  readonly tunName: string;
  readonly cidr: string;
  readonly gateway: string;
  readonly listen: { address: string; port: number };
  readonly client: { address: string; port: number };
  readonly headerHex: string;
}

async function start(a: StartArgs) {
  tun = await openTun({ name: a.tunName });
  settings = { name: tun.name, mtu: 1500, addresses: [`${a.gateway}/32`], routes: [a.cidr] };
  await link.configure(settings);
  socket = await openUdp({ address: a.listen.address, port: a.listen.port, receiveBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
  const header = Buffer.from(a.headerHex, 'hex');
  const t = tun;
  const s = socket;
  s.onMessage((data) => {
    t.write(data.subarray(FRAME_OVERHEAD));
  });
  t.onPacket((packet) => {
    const out = Buffer.allocUnsafe(FRAME_OVERHEAD + packet.length);
    header.copy(out, 0);
    packet.copy(out, FRAME_OVERHEAD);
    // The L2TP data header here has no length field, so a fixed header stays valid for any size.
    s.send(out, a.client.port, a.client.address);
  });
  return { tun: tun.name };
}

async function stop() {
  if (settings) await link.teardown(settings).catch(() => undefined);
  await socket?.close();
  await tun?.close();
  settings = undefined;
  socket = undefined;
  tun = undefined;
}

serveRpc({ start: (a) => start(a as unknown as StartArgs), stop }, stop);
