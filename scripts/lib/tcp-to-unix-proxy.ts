/**
 * A TCP listener on the host that forwards each connection to a Unix socket: how the local stack's
 * own processes (and an operator's tools) reach DynamoDB Local in its private network namespace.
 */
import { connect, createServer, type Server } from 'node:net';

export interface TcpToUnixProxy {
  readonly port: number;
  close(): Promise<void>;
}

/** Listens on `host:port` (port 0: a free one); resolves once listening. */
export async function startTcpToUnixProxy(options: { host: string; port: number; socketPath: string }): Promise<TcpToUnixProxy> {
  const open = new Set<import('node:net').Socket>();
  const server: Server = createServer((downstream) => {
    const upstream = connect(options.socketPath);
    open.add(downstream).add(upstream);
    downstream.pipe(upstream).pipe(downstream);
    const drop = () => {
      downstream.destroy();
      upstream.destroy();
      open.delete(downstream);
      open.delete(upstream);
    };
    downstream.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : options.port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
