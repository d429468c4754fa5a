/**
 * One HTTP exchange with the broker over node:http / node:https with keep-alive sockets. The agent
 * used `fetch` before; its web-stream machinery was the agent's largest CPU cost per session setup
 * in the benchmark profiles (two broker calls per setup), so the transport speaks plain node:http.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { TimerService } from '../clock';

export interface HttpExchange {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly timeoutMs: number;
  /** The response body is refused past this many bytes (declared or received). */
  readonly maxResponseBytes: number;
}

export interface HttpReply {
  readonly status: number;
  readonly text: string;
}

/** Why an exchange produced no reply: the transport maps every kind to "broker unavailable". */
export class HttpSendError extends Error {
  constructor(
    message: string,
    readonly kind: 'timeout' | 'network' | 'too-large',
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'HttpSendError';
  }
}

export type HttpSend = (exchange: HttpExchange) => Promise<HttpReply>;

export interface HttpSender {
  readonly send: HttpSend;
  /** Closes the idle keep-alive sockets. */
  close(): void;
}

/**
 * A sender with its own keep-alive pool of at most `maxSockets` connections per origin; over the
 * Unix socket `socketPath` when given (the URL then only names the host and path).
 */
export function createHttpSender(maxSockets: number, timers: TimerService, socketPath?: string): HttpSender {
  // Idle keep-alive sockets are unref'd by node, so they never hold the process open.
  const httpAgent = new HttpAgent({ keepAlive: true, maxSockets });
  const httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets });

  const send: HttpSend = (exchange) =>
    new Promise<HttpReply>((resolve, reject) => {
      const url = new URL(exchange.url);
      const secure = url.protocol === 'https:';
      const payload = exchange.body === undefined ? undefined : Buffer.from(exchange.body, 'utf8');
      let settled = false;
      const finish = (error: HttpSendError | undefined, reply?: HttpReply) => {
        if (settled) return;
        settled = true;
        timers.clear(timer);
        if (error) {
          req.destroy();
          reject(error);
        } else resolve(reply!);
      };
      const req = (secure ? httpsRequest : httpRequest)(
        url,
        {
          method: exchange.method,
          agent: secure ? httpsAgent : httpAgent,
          ...(socketPath ? { socketPath } : {}),
          headers: { ...exchange.headers, ...(payload ? { 'content-length': String(payload.length) } : {}) },
        },
        (res: IncomingMessage) => {
          const declared = Number(res.headers['content-length'] ?? '0');
          if (declared > exchange.maxResponseBytes) {
            finish(new HttpSendError(`response of ${declared} bytes exceeds the ${exchange.maxResponseBytes}-byte limit`, 'too-large'));
            return;
          }
          const chunks: Buffer[] = [];
          let total = 0;
          res.on('data', (chunk: Buffer) => {
            total += chunk.length;
            if (total > exchange.maxResponseBytes) finish(new HttpSendError(`response exceeds the ${exchange.maxResponseBytes}-byte limit`, 'too-large'));
            else chunks.push(chunk);
          });
          res.on('end', () => finish(undefined, { status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', (error) => finish(new HttpSendError(error.message, 'network', { cause: error })));
        },
      );
      // One deadline for the whole exchange (connect, send, wait, read), like fetch's AbortSignal.timeout.
      const timer = timers.set(exchange.timeoutMs, () => finish(new HttpSendError(`no answer within ${exchange.timeoutMs} ms`, 'timeout')));
      req.on('error', (error: NodeJS.ErrnoException) => {
        finish(new HttpSendError(error.code ? `${error.message} (${error.code})` : error.message, 'network', { cause: error }));
      });
      req.end(payload);
    });

  return {
    send,
    close() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}
