/**
 * Sends Accounting-Requests over UDP: the accounting side of client.ts's exchange (servers in
 * order, `retries` identical retransmissions with one Identifier each waiting `timeoutMs`: RFC
 * 5080 §2.2.1), with answers checked by response-check.ts instead (a Message-Authenticator is
 * required, in FreeRADIUS's form too). Each delivery attempt builds a new request: a later attempt
 * carries a larger Acct-Delay-Time and so gets a new Identifier (RFC 2866 §5.2).
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { resolveRadiusHost } from '../destination';
import type { AccountingServerEndpoint, AccountingTransport, DeliveryOptions, DeliveryResult } from '../../domain/radius-accounting/sender';
import type { AccountingRecord } from '../../domain/types';
import { RadiusCodecError } from '../errors';
import { IdentifierPool } from '../identifiers';
import { encodeAccountingRequest, type EncodedRequest } from '../request';
import { accountingRequestAttributes } from './request-attributes';
import { checkAccountingResponse } from './response-check';

export interface AccountingClientOptions {
  /** Wait for an answer to each transmission. @default 2000 */
  readonly timeoutMs?: number;
  /** Identical retransmissions after the first, per server. @default 2 */
  readonly retries?: number;
}

interface Pending {
  readonly request: EncodedRequest;
  readonly secret: Uint8Array;
  readonly refusals: string[];
  resolve(answered: boolean): void;
}

export class RadiusAccountingClient implements AccountingTransport {
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly sockets = new Map<4 | 6, Promise<Socket>>();
  private readonly pools = new Map<string, IdentifierPool>();
  private readonly pending = new Map<string, Pending>();
  private closed = false;

  constructor(options: AccountingClientOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 2_000;
    this.retries = options.retries ?? 2;
  }

  async deliver(servers: readonly AccountingServerEndpoint[], record: AccountingRecord, options: DeliveryOptions): Promise<DeliveryResult> {
    const attributes = accountingRequestAttributes(record, options);
    const failures: string[] = [];
    for (const server of servers) {
      const outcome = await this.tryServer(server, (identifier) =>
        encodeAccountingRequest({ identifier, secret: server.secret, attributes, messageAuthenticator: true }),
      );
      if (outcome === 'answered') return { delivered: true, server: `${server.host}:${server.port}` };
      failures.push(`${server.host}:${server.port} ${outcome}`);
    }
    return { delivered: false, reason: failures.join('; ') || 'no accounting server' };
  }

  /** 'answered', or why not: timeout, refused (answers that failed the checks), unresolvable, forbidden (destination.ts), busy, or an encode error. */
  private async tryServer(server: AccountingServerEndpoint, build: (identifier: number) => EncodedRequest | RadiusCodecError): Promise<string> {
    const destination = await resolveRadiusHost(server.host);
    if (!destination.ok) return destination.outcome === 'forbidden' ? `forbidden (${destination.detail})` : 'unresolvable';
    const address = destination.address;
    const poolKey = `${address}|${server.port}`;
    let pool = this.pools.get(poolKey);
    if (!pool) this.pools.set(poolKey, (pool = new IdentifierPool(Math.floor(Math.random() * 256))));
    const identifier = pool.allocate();
    if (identifier === undefined) return 'busy (256 requests outstanding)';
    const key = `${poolKey}|${identifier}`;
    try {
      const request = build(identifier);
      if (request instanceof RadiusCodecError) return `not encodable (${request.code})`;
      const socket = await this.socket(isIP(address) === 6 ? 6 : 4);
      const refusals: string[] = [];
      const answered = await new Promise<boolean>((resolve) => {
        let timer: NodeJS.Timeout | undefined;
        let transmissions = 0;
        const finish = (ok: boolean) => {
          clearTimeout(timer);
          this.pending.delete(key);
          resolve(ok);
        };
        this.pending.set(key, { request, secret: server.secret, refusals, resolve: finish });
        const transmit = () => {
          if (transmissions > this.retries || this.closed) return finish(false);
          transmissions++;
          socket.send(request.bytes, server.port, address, () => undefined);
          timer = setTimeout(transmit, this.timeoutMs);
        };
        transmit();
      });
      if (answered) return 'answered';
      return refusals.length > 0 ? `refused (${[...new Set(refusals)].join(', ')})` : 'timeout';
    } finally {
      pool.release(identifier);
    }
  }

  private socket(family: 4 | 6): Promise<Socket> {
    let s = this.sockets.get(family);
    if (!s) {
      s = new Promise<Socket>((resolve, reject) => {
        const socket = createSocket(family === 6 ? 'udp6' : 'udp4');
        socket.on('message', (msg, rinfo) => this.onMessage(msg, rinfo.address, rinfo.port));
        socket.once('error', reject);
        socket.bind(0, () => {
          socket.off('error', reject);
          socket.on('error', () => undefined); // an ICMP error on one send must not end the client
          resolve(socket);
        });
      });
      this.sockets.set(family, s);
    }
    return s;
  }

  private onMessage(msg: Buffer, address: string, port: number): void {
    if (msg.length < 2) return;
    const pending = this.pending.get(`${address}|${port}|${msg[1]}`);
    if (!pending) return; // answers nothing outstanding: dropped (RFC 2865 §3)
    const checked = checkAccountingResponse(pending.request, msg, pending.secret);
    if (checked instanceof RadiusCodecError) {
      pending.refusals.push(checked.code);
      return;
    }
    pending.resolve(true);
  }

  /** Ends outstanding deliveries (as timeouts) and closes the sockets. */
  async close(): Promise<void> {
    this.closed = true;
    for (const p of [...this.pending.values()]) p.resolve(false);
    for (const s of this.sockets.values()) {
      const socket = await s.catch(() => undefined);
      await new Promise<void>((r) => (socket ? socket.close(() => r()) : r()));
    }
    this.sockets.clear();
  }
}
