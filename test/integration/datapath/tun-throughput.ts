/**
 * Quick TUN read/write rate experiment (not a test). Run as root:
 *   ip netns add tbperf && ip netns exec tbperf node --import tsx test/integration/datapath/tun-throughput.ts; ip netns del tbperf
 * Writes ICMP echo requests into the TUN as if from a client; the kernel answers out of the TUN.
 * Prints JSON: write-only packets/s, and a pipelined echo loop's packets/s each way.
 */
import { parseIpv4 } from '../../../edge-agent/src/datapath/address';
import { encodeIcmpEcho } from '../../../edge-agent/src/datapath/icmp';
import { createLinkConfig } from '../../../edge-agent/src/io/link-config';
import { openTun } from '../../../edge-agent/src/io/tun';

const tun = await openTun({ name: 'tbperf0' });
await createLinkConfig().configure({ name: tun.name, mtu: 1400, addresses: ['10.99.0.1/32'], routes: ['10.99.1.0/24'] });
const request = encodeIcmpEcho({ source: parseIpv4('10.99.1.2')!, destination: parseIpv4('10.99.0.1')!, identifier: 1, sequence: 1, payload: Buffer.alloc(56) });

// 1. write-only burst (the kernel still generates replies, which overflow the TUN queue)
const N = 300_000;
let t = process.hrtime.bigint();
let ok = 0;
for (let i = 0; i < N; i++) if (tun.write(request)) ok++;
const writeOnly = (ok / Number(process.hrtime.bigint() - t)) * 1e9;
await new Promise((r) => setTimeout(r, 200));

// 2. pipelined echo: keep `window` requests in flight, count replies for 2 s
let replies = 0;
let sent = 0;
const window = 64;
tun.onPacket(() => {
  replies++;
  if (tun.write(request)) sent++;
});
t = process.hrtime.bigint();
for (let i = 0; i < window; i++) if (tun.write(request)) sent++;
// refill periodically in case the kernel dropped some
const refill = setInterval(() => {
  for (let i = 0; i < window - (sent - replies); i++) if (tun.write(request)) sent++;
}, 10);
await new Promise((r) => setTimeout(r, 2000));
clearInterval(refill);
const echo = (replies / Number(process.hrtime.bigint() - t)) * 1e9;
console.log(JSON.stringify({ writeOnlyPacketsPerSecond: Math.round(writeOnly), echoRepliesReadPerSecond: Math.round(echo), echoRequestsWrittenPerSecond: Math.round(echo) }));
await tun.close();
