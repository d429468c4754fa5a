/** A UDP port free on this host right now (bound to port 0 and released), e.g. for an agent's command-nudge socket. */
import { createSocket } from 'node:dgram';

export function freeUdpPort(address = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, address, () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}
