/**
 * Serves the metrics as Prometheus text on GET /metrics (METRICS_LISTEN, loopback by default).
 * Anything else is 404, a method other than GET or HEAD is 405. Nothing here changes the agent.
 */
import { createServer, type Server } from 'node:http';

export interface MetricsEndpoint {
  render(): Promise<string>;
  readonly contentType: string;
}

export interface MetricsServer {
  readonly address: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Listens on `address:port` (port 0 = any free port); rejects when the port cannot be bound. */
export async function serveMetrics(endpoint: MetricsEndpoint, listen: { address: string; port: number }, onError: (error: Error) => void = () => undefined): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: metrics are at /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    endpoint.render().then(
      (text) => res.writeHead(200, { 'content-type': endpoint.contentType }).end(req.method === 'HEAD' ? undefined : text),
      (error: unknown) => {
        onError(error instanceof Error ? error : new Error(String(error)));
        res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics collection failed\n');
      },
    );
  });
  // A scrape is one short request: do not let an idle connection hold the agent's shutdown.
  server.keepAliveTimeout = 5_000;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.address, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', onError);
  const bound = server.address();
  const port = typeof bound === 'object' && bound ? bound.port : listen.port;
  return {
    address: listen.address,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
