/**
 * The data path's second baseline: what the kernel alone does with the same packets. The bench's
 * injector sends the same UDP datagrams as in the from-TUN case, to 10.207.x.y instead of the
 * clients' addresses; the host routes them over a veth into a router namespace, which forwards them
 * (ip_forward, one routing decision per packet or GSO super-packet, as the agent makes one session
 * lookup per read) over a second veth into a client namespace, where they are counted by that
 * veth's rx_packets and dropped (not local there). The router segments super-packets on the way
 * out, so rx_packets counts packets (without that it counts super-packets: veth passes them whole). Two namespaces, three hops of kernel forwarding, no user space in the path:
 * the ratio to it shows how far the agent is from the machine. Created and removed by the bench.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { createNetns, type Netns } from '../../scripts/lib/netns';

const run = promisify(execFile);
/** Destinations the host routes into the router namespace (nothing else uses 10.206/10.207 here). */
export const KERNEL_NET = 207;
const LINK_NET = '10.206.0';

export interface KernelForward {
  /** Packets that reached the client namespace so far. */
  received(): Promise<number>;
  close(): Promise<void>;
}

export async function startKernelForward(): Promise<KernelForward> {
  const namespaces: Netns[] = [];
  let routed = false;
  const close = async () => {
    if (routed) await run('ip', ['route', 'del', `10.${KERNEL_NET}.0.0/16`]).catch(() => undefined);
    routed = false;
    for (const ns of namespaces.splice(0)) await ns.delete();
  };
  try {
    const router = await createNetns('kfwd', { prefix: 'tbk' });
    namespaces.push(router);
    const sink = await createNetns('ksink', { prefix: 'tbk' });
    namespaces.push(sink);
    const tag = randomBytes(3).toString('hex');
    const routerSide = `kr${tag}`;
    const sinkSide = `ks${tag}`;
    await run('ip', ['link', 'add', routerSide, 'netns', router.name, 'type', 'veth', 'peer', 'name', sinkSide, 'netns', sink.name]);
    const inRouter = (...args: string[]) => run('ip', ['netns', 'exec', router.name, ...args]);
    const inSink = (...args: string[]) => run('ip', ['netns', 'exec', sink.name, ...args]);
    await inRouter('ip', 'addr', 'add', `${LINK_NET}.1/30`, 'dev', routerSide);
    // The injector's UDP GSO super-datagrams cross the first veth whole (veth passes GSO skbs: one
    // routing decision per super-packet, as a NIC's GRO hands them to a router); at most one
    // segment per skb here makes the router segment them on the way out, as the agent turns each
    // into per-packet frames, and the sink's rx_packets then counts packets, not super-packets.
    await inRouter('ip', 'link', 'set', routerSide, 'gso_max_segs', '1');
    await inRouter('ip', 'link', 'set', routerSide, 'up');
    await inSink('ip', 'addr', 'add', `${LINK_NET}.2/30`, 'dev', sinkSide);
    await inSink('ip', 'link', 'set', sinkSide, 'up');
    await inRouter('sysctl', '-qw', 'net.ipv4.ip_forward=1');
    await inRouter('ip', 'route', 'add', `10.${KERNEL_NET}.0.0/16`, 'via', `${LINK_NET}.2`);
    await run('ip', ['route', 'add', `10.${KERNEL_NET}.0.0/16`, 'via', router.nsAddress]);
    routed = true;
    return {
      received: async () => {
        const { stdout } = await run('ip', ['-n', sink.name, '-j', '-s', 'link', 'show', 'dev', sinkSide]);
        const [link] = JSON.parse(stdout) as { stats64: { rx: { packets: number } } }[];
        return link!.stats64.rx.packets;
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
