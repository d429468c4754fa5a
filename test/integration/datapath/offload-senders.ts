/**
 * The kernel-side senders of the TUN offload test: a UDP send with UDP_SEGMENT (one GSO
 * super-packet per sendto) and a TCP connection that writes a payload and closes. Used in process
 * by tun-offload-netns-child.ts (the agent's own stack sends) and, run as a script, from a second
 * namespace behind a veth (traffic the agent's host forwards):
 *
 *   node --import tsx offload-senders.ts udp <address> <port>     the UDP GSO payload
 *   node --import tsx offload-senders.ts tcp <address> <port>     the TCP payload, then FIN
 *
 * A script run prints one line: `ok` or what failed.
 */
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { NET, tcpPayload, udpPayload } from './offload-packets';

const AF_INET = 2;
const SOCK_DGRAM = 2;
const SOL_UDP = 17;
const UDP_SEGMENT = 103; // <linux/udp.h>

interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  setsockopt(fd: number, level: number, name: number, value: Buffer, length: number): number;
  sendto(fd: number, buf: Buffer, length: number, flags: number, address: Buffer, addressLength: number): number;
  close(fd: number): number;
  errno(): number;
}
let libc: Libc | undefined;

async function loadLibc(): Promise<Libc> {
  if (libc) return libc;
  const koffi = (await import('koffi')).default;
  const lib = koffi.load('libc.so.6');
  const fn = <T>(signature: string) => lib.func(signature) as unknown as T;
  return (libc = {
    socket: fn('int socket(int domain, int type, int protocol)'),
    setsockopt: fn('int setsockopt(int fd, int level, int name, const void *value, unsigned int length)'),
    sendto: fn('long sendto(int fd, const void *buf, unsigned long len, int flags, const void *addr, unsigned int addrlen)'),
    close: fn('int close(int fd)'),
    errno: () => koffi.errno(),
  });
}

/** One sendto() of `data` with UDP_SEGMENT = gsoSize (node:dgram cannot set it): the kernel builds one GSO packet. */
export async function sendSegmented(data: Buffer, address: string, port: number, gsoSize: number): Promise<string> {
  const sys = await loadLibc();
  const fd = sys.socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) return `socket: errno ${sys.errno()}`;
  try {
    const value = Buffer.alloc(4);
    value.writeInt32LE(gsoSize);
    if (sys.setsockopt(fd, SOL_UDP, UDP_SEGMENT, value, 4) < 0) return `setsockopt(UDP_SEGMENT): errno ${sys.errno()}`;
    const to = Buffer.alloc(16); // struct sockaddr_in
    to.writeUInt16LE(AF_INET, 0);
    to.writeUInt16BE(port, 2);
    to.set(address.split('.').map(Number), 4);
    const sent = sys.sendto(fd, data, data.length, 0, to, to.length);
    return sent === data.length ? 'ok' : `sendto: ${sent} (errno ${sys.errno()})`;
  } finally {
    sys.close(fd);
  }
}

/**
 * Connect, write `data`, send FIN, close. Resolves `ok` once the kernel has taken all of it: close()
 * leaves sending the rest and the FIN to the kernel (an orphaned socket), which is all the test needs.
 */
export function sendTcp(data: Buffer, address: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const sock = connect({ host: address, port });
    sock.on('error', (e) => resolve(`tcp: ${e.message}`));
    sock.on('connect', () => sock.end(data, () => (sock.destroy(), resolve('ok'))));
  }).then((outcome) => outcome as string);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [mode, address, port] = process.argv.slice(2);
  const outcome =
    mode === 'udp'
      ? await sendSegmented(udpPayload(), address!, Number(port), NET.udpGsoSize)
      : mode === 'tcp'
        ? await sendTcp(tcpPayload(), address!, Number(port))
        : `unknown mode ${mode}`;
  console.log(outcome);
}
