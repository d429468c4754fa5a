/**
 * The broker's command-nudge sender (domain/command-nudge.ts): one plain `node:dgram` datagram per
 * nudge. Fire and forget, but bounded: a Lambda invocation is frozen once it answers, so the send is
 * awaited for at most `timeoutMs` (a DNS name to resolve, a full socket buffer) and then abandoned.
 * It never rejects: a lost nudge only means the agent's next heartbeat delivers the command.
 */
import { createSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { Logger } from 'pino';
import type { NudgeSender } from '../domain/command-nudge';

export interface UdpNudgeSenderOptions {
  /** Longest a request waits for its nudge to leave. @default 200 */
  readonly timeoutMs?: number;
  readonly logger?: Logger;
}

export function createUdpNudgeSender(options: UdpNudgeSenderOptions = {}): NudgeSender {
  const timeoutMs = options.timeoutMs ?? 200;
  return {
    send(datagram, port, address) {
      return new Promise<void>((resolve) => {
        const socket = createSocket(isIPv6(address) ? 'udp6' : 'udp4');
        let done = false;
        const finish = (error?: Error | null) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          if (error) options.logger?.warn({ err: error.message, address, port }, 'command nudge not sent (the agent\'s heartbeat delivers the command)');
          try {
            socket.close();
          } catch {
            // already closed
          }
          resolve();
        };
        const timer = setTimeout(() => finish(new Error(`no send within ${timeoutMs} ms`)), timeoutMs);
        socket.once('error', finish);
        try {
          socket.send(datagram, port, address, (error) => finish(error));
        } catch (error) {
          finish(error as Error);
        }
      });
    },
  };
}
