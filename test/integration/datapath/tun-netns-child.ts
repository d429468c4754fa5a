/**
 * Runs inside a network namespace made by tun.test.ts (`ip netns exec`), as root. Opens a TUN with
 * the real adapter, configures it, plays a client pinging the gateway, and prints one JSON line
 * with what it saw for the parent to assert. Not a test file by itself.
 */
import { parseIpv4 } from '../../../edge-agent/src/datapath/address';
import { decodeIcmpEcho, encodeIcmpEcho, ICMP_ECHO_REPLY } from '../../../edge-agent/src/datapath/icmp';
import { TunError } from '../../../edge-agent/src/io/errors';
import { createLinkConfig } from '../../../edge-agent/src/io/link-config';
import { openTun } from '../../../edge-agent/src/io/tun';

const CLIENT = parseIpv4('10.99.1.2')!;
const GATEWAY = parseIpv4('10.99.0.1')!;

async function errorCode(name: string): Promise<string> {
  try {
    const t = await openTun({ name });
    await t.close();
    return 'opened';
  } catch (e) {
    return e instanceof TunError ? `${e.code}: ${e.message}` : `unexpected: ${String(e)}`;
  }
}

const tun = await openTun({ name: 'tbtest%d' });
const links = createLinkConfig();
const settings = { name: tun.name, mtu: 1400, addresses: ['10.99.0.1/32'], routes: ['10.99.1.0/24'] };
await links.configure(settings);

const replies: Buffer[] = [];
let wake: () => void = () => {};
tun.onPacket((packet) => {
  const echo = decodeIcmpEcho(packet);
  // Keep echo replies only (the kernel may also emit IPv6 router solicitations on the link).
  if (echo && echo.type === ICMP_ECHO_REPLY) {
    replies.push(Buffer.from(packet)); // the view is reused after we return: copy
    wake();
  }
});
const waitFor = (count: number, ms: number) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    wake = () => replies.length >= count && (clearTimeout(timer), resolve());
    wake();
  });

const request = encodeIcmpEcho({ source: CLIENT, destination: GATEWAY, identifier: 0xbeef, sequence: 1, payload: Buffer.from('tunnel-broker ping') });
const wrote = tun.write(request);
await waitFor(1, 3000);
const first = replies[0]?.toString('hex');

// A burst: exercises draining many packets per wake-up.
const burst = Array.from({ length: 200 }, (_, i) => encodeIcmpEcho({ source: CLIENT, destination: GATEWAY, identifier: 0xbeef, sequence: 100 + i, payload: Buffer.alloc(32, i) }));
const burstWritten = tun.writeMany(burst);
await waitFor(1 + 200, 5000);
const sequences = replies.slice(1).map((r) => decodeIcmpEcho(r)!.sequence);

const busy = await errorCode(tun.name); // our own fd still holds it
const notTun = await errorCode('lo'); // exists, but is not a TUN device
await tun.close();
await links.teardown(settings); // device gone with the fd: teardown must tolerate it
const request1 = request.toString('hex');
console.log(JSON.stringify({ name: tun.name, wrote, request: request1, first, burstWritten, sequences, busy, notTun }));
