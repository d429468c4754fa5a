/** A lean keep-alive JSON client for the load generator (node:http; one socket per concurrent caller). */
import { Agent, request } from 'node:http';

export interface JsonClient {
  post<T = unknown>(path: string, body: unknown): Promise<{ status: number; body: T }>;
  delete<T = unknown>(path: string): Promise<{ status: number; body: T }>;
  close(): void;
}

export function jsonClient(baseUrl: string, token: string, maxSockets: number): JsonClient {
  const url = new URL(baseUrl);
  const agent = new Agent({ keepAlive: true, maxSockets });
  const send = <T>(method: string, path: string, body?: unknown) => {
      const payload = body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(body));
      return new Promise<{ status: number; body: T }>((resolve, reject) => {
        const req = request(
          {
            agent,
            host: url.hostname,
            port: url.port,
            method,
            path,
            headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), 'content-length': payload.length },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              try {
                resolve({ status: res.statusCode ?? 0, body: (text ? JSON.parse(text) : undefined) as T });
              } catch (error) {
                reject(error);
              }
            });
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end(payload);
      });
  };
  return {
    post: <T>(path: string, body: unknown) => send<T>('POST', path, body),
    delete: <T>(path: string) => send<T>('DELETE', path),
    close: () => agent.destroy(),
  };
}
