/**
 * Quick TUN read/write rate experiment (not a test; figures quoted in edge-agent/src/io/tun.ts).
 * Run as root:
 *   ip netns add tbperf && ip netns exec tbperf node --import tsx test/integration/datapath/tun-throughput.ts; ip netns del tbperf
 * ICMP echo requests (84 bytes) are written into the TUN as if from a client; the kernel answers
 * out of the TUN. Prints JSON packets/s for: writes, draining a full queue through onPacket
 * (with a raw synchronous read(2) loop as the same-run ceiling), and a pipelined echo loop.
 */
import { execFileSync } from 'node:child_process';
import koffi from 'koffi';
import { parseIpv4 } from '../../../edge-agent/src/datapath/address';
import { encodeIcmpEcho } from '../../../edge-agent/src/datapath/icmp';
import { createLinkConfig } from '../../../edge-agent/src/io/link-config';
import { openTun } from '../../../edge-agent/src/io/tun';

const rate = (count: number, start: bigint) => Math.round((count / Number(process.hrtime.bigint() - start)) * 1e9);
const tun = await openTun({ name: 'tbperf0' });
await createLinkConfig().configure({ name: tun.name, mtu: 1400, addresses: ['10.99.0.1/32'], routes: ['10.99.1.0/24'] });
execFileSync('ip', ['link', 'set', 'dev', tun.name, 'txqueuelen', '20000']);
const request = encodeIcmpEcho({ source: parseIpv4('10.99.1.2')!, destination: parseIpv4('10.99.0.1')!, identifier: 1, sequence: 1, payload: Buffer.alloc(56) });
const K = 15_000;

// Ceiling: a raw read(2) loop on a second fd is not possible (one fd per queue), so measure the
// raw loop on the same fd before the adapter starts reading.
const libc = koffi.load('libc.so.6');
const rawRead = libc.func('long read(int fd, _Out_ void *buf, unsigned long n)');
const fd = (tun as unknown as { fd: number }).fd;
const results: Record<string, number[]> = { write: [], rawReadCeiling: [], onPacketDrain: [], echoLoop: [] };
const scratch = Buffer.alloc(65536);
for (let round = 0; round < 3; round++) {
  let t = process.hrtime.bigint();
  let ok = 0;
  for (let i = 0; i < K; i++) if (tun.write(request)) ok++;
  results.write!.push(rate(ok, t));
  t = process.hrtime.bigint();
  let got = 0;
  while (rawRead(fd, scratch, scratch.length) > 0) got++;
  results.rawReadCeiling!.push(rate(got, t));
}

let got = 0;
let target = 0;
let done: () => void = () => {};
let echo = false;
tun.onPacket(() => {
  got++;
  if (echo) tun.write(request);
  else if (got === target) done();
});
for (let round = 0; round < 3; round++) {
  for (let i = 0; i < K; i++) tun.write(request);
  got = 0;
  target = K;
  const t = process.hrtime.bigint();
  await new Promise<void>((resolve) => (done = resolve));
  results.onPacketDrain!.push(rate(got, t));
}
// Pipelined echo: 64 requests in flight, each reply triggers the next request.
echo = true;
for (let round = 0; round < 3; round++) {
  got = 0;
  const t = process.hrtime.bigint();
  for (let i = 0; i < 64; i++) tun.write(request);
  await new Promise((r) => setTimeout(r, 1000));
  results.echoLoop!.push(rate(got, t));
}
console.log(JSON.stringify(results));
await tun.close();
