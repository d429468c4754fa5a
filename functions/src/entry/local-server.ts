import { createAdaptorServer, serve } from '@hono/node-server';
import { chmodSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Hono } from 'hono';

export interface LocalServerOptions {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly app: Hono<any, any, any>;
  readonly host: string;
  readonly port: number;
}

/** Resolves with a close function that also ends open keep-alive connections. */
function closer(server: Server): () => Promise<void> {
  return () =>
    new Promise<void>((done, fail) => {
      server.close((error) => (error ? fail(error) : done()));
      // close() only drops idle connections: a client polling faster than keepAliveTimeout would keep its
      // connection, still be served, and hold close() open indefinitely.
      server.closeAllConnections();
    });
}

/** Serves the same `app.fetch` Lambda runs on a local Node HTTP server; resolves once listening. */
export async function startLocalServer(options: LocalServerOptions): Promise<() => Promise<void>> {
  return new Promise((resolveStarted, reject) => {
    const server = serve({ fetch: options.app.fetch, hostname: options.host, port: options.port }, () => {
      resolveStarted(closer(server as Server));
    });
    server.once('error', reject);
  });
}

/**
 * The same app on a Unix socket (mode 600): agents on this host reach the broker through the file
 * system (the local stack's agents in network namespaces) while its TCP listener stays on loopback.
 */
export async function startLocalSocketServer(options: { app: LocalServerOptions['app']; path: string }): Promise<() => Promise<void>> {
  rmSync(options.path, { force: true }); // left by a run that was killed
  const server = createAdaptorServer({ fetch: options.app.fetch }) as Server;
  await new Promise<void>((resolveListening, reject) => {
    server.once('error', reject);
    server.listen(options.path, () => resolveListening());
  });
  chmodSync(options.path, 0o600);
  const close = closer(server);
  return async () => {
    await close();
    rmSync(options.path, { force: true });
  };
}
