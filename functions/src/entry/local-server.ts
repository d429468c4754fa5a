import { serve } from '@hono/node-server';
import type { Hono } from 'hono';

export interface LocalServerOptions {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly app: Hono<any, any, any>;
  readonly host: string;
  readonly port: number;
}

/** Serves the same `app.fetch` Lambda runs on a local Node HTTP server; resolves once listening. */
export async function startLocalServer(options: LocalServerOptions): Promise<() => Promise<void>> {
  return new Promise((resolveStarted, reject) => {
    const server = serve({ fetch: options.app.fetch, hostname: options.host, port: options.port }, () => {
      resolveStarted(
        () =>
          new Promise<void>((done, fail) => {
            server.close((error) => (error ? fail(error) : done()));
            // close() only drops idle connections: a client polling faster than keepAliveTimeout would keep its
            // connection, still be served, and hold close() open indefinitely.
            if ('closeAllConnections' in server) server.closeAllConnections();
          }),
      );
    });
    server.once('error', reject);
  });
}
