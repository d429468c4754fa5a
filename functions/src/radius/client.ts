/**
 * The UDP client: one socket per address family, an Identifier pool per server (RFC 5080 §2.2.1),
 * and an exchange that walks an ordered server list. Each server gets its first transmission and
 * `retries` identical retransmissions (same Identifier, same bytes: RFC 5080 §2.2.1), each waiting
 * `timeoutMs`; then the next server gets a freshly built request (its own secret, so its own
 * bytes). An answer that fails the checks of request.ts is dropped as RFC 2865 §3 says, and the
 * wait goes on; the refusal is kept so a caller can tell "forged or misconfigured" from "down".
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { resolveRadiusHost } from './destination';
import { RadiusCodecError, type RadiusCodecErrorCode } from './errors';
import { IdentifierPool } from './identifiers';
import type { RadiusPacket } from './packet';
import { checkResponse, type CheckResponseOptions, type EncodedRequest } from './request';

/** One server of a list, as the client uses it (secrets already unsealed). */
export interface RadiusEndpoint {
  readonly host: string;
  readonly port: number;
  readonly secret: Uint8Array;
  /** Wait for an answer to each transmission, in ms. */
  readonly timeoutMs: number;
  /** Retransmissions after the first transmission. */
  readonly retries: number;
}

/** Builds the request for one server with the Identifier the pool gave. */
export type BuildRequest = (server: RadiusEndpoint, identifier: number) => EncodedRequest | RadiusCodecError;

/** What happened at one server. */
export interface ExchangeAttempt {
  readonly host: string;
  readonly port: number;
  /** `unreachable`: the name does not resolve; `forbidden`: it is an address no RADIUS server may have (destination.ts). */
  readonly outcome: 'answered' | 'timeout' | 'busy' | 'unreachable' | 'forbidden' | 'encode-error';
  readonly transmissions: number;
  /** Why answers from this server were dropped (e.g. missing-message-authenticator). */
  readonly refusals: readonly RadiusCodecErrorCode[];
}

export type ExchangeResult =
  | { readonly ok: true; readonly packet: RadiusPacket; readonly serverIndex: number; readonly attempts: readonly ExchangeAttempt[] }
  | {
      readonly ok: false;
      /** `refused`: a server answered but every answer failed the checks; `no-answer`: nobody answered; `encode-error`: the request could not be built. */
      readonly reason: 'no-answer' | 'refused' | 'encode-error';
      readonly attempts: readonly ExchangeAttempt[];
      readonly error?: RadiusCodecError;
    };

/** Decides whether `bytes` answer `request`: checkResponse by default; accounting brings its own. */
export type AnswerCheck = (request: EncodedRequest, bytes: Uint8Array, secret: Uint8Array) => RadiusPacket | RadiusCodecError;

interface Pending {
  readonly request: EncodedRequest;
  readonly secret: Uint8Array;
  readonly check: AnswerCheck;
  readonly refusals: RadiusCodecErrorCode[];
  resolve(packet: RadiusPacket | undefined): void;
}

export interface RadiusClientOptions {
  /** Where the sockets bind (default: any address, a random port). */
  readonly bindAddress4?: string;
  /** 0..255: where each new pool starts (default random). */
  readonly identifierStart?: () => number;
}

/** A RADIUS client over real UDP sockets. Safe for concurrent exchanges. */
export class RadiusClient {
  private readonly sockets = new Map<4 | 6, Promise<Socket>>();
  private readonly pools = new Map<string, IdentifierPool>();
  private readonly pending = new Map<string, Pending>();
  private closed = false;

  constructor(private readonly options: RadiusClientOptions = {}) {}

  /** Sends to `servers` in order until one answers with a packet that passes the checks. */
  async exchange(servers: readonly RadiusEndpoint[], build: BuildRequest, checking: CheckResponseOptions | AnswerCheck = {}): Promise<ExchangeResult> {
    const check: AnswerCheck = typeof checking === 'function' ? checking : (request, bytes, secret) => checkResponse(request, bytes, secret, checking);
    const attempts: ExchangeAttempt[] = [];
    for (let i = 0; i < servers.length; i++) {
      const server = servers[i]!;
      const answer = await this.tryServer(server, build, check);
      attempts.push(answer.attempt);
      if (answer.error) return { ok: false, reason: 'encode-error', attempts, error: answer.error };
      if (answer.packet) return { ok: true, packet: answer.packet, serverIndex: i, attempts };
    }
    const refused = attempts.some((a) => a.refusals.length > 0);
    return { ok: false, reason: refused ? 'refused' : 'no-answer', attempts };
  }

  private async tryServer(
    server: RadiusEndpoint,
    build: BuildRequest,
    check: AnswerCheck,
  ): Promise<{ attempt: ExchangeAttempt; packet?: RadiusPacket; error?: RadiusCodecError }> {
    const base = { host: server.host, port: server.port };
    const destination = await resolveRadiusHost(server.host);
    if (!destination.ok) {
      const outcome = destination.outcome === 'forbidden' ? 'forbidden' : 'unreachable';
      return { attempt: { ...base, outcome, transmissions: 0, refusals: [] } };
    }
    const address = destination.address;
    const family = isIP(address) === 6 ? 6 : 4;
    const poolKey = `${address}|${server.port}`;
    let pool = this.pools.get(poolKey);
    if (!pool) {
      pool = new IdentifierPool(this.options.identifierStart?.() ?? Math.floor(Math.random() * 256));
      this.pools.set(poolKey, pool);
    }
    const identifier = pool.allocate();
    if (identifier === undefined) return { attempt: { ...base, outcome: 'busy', transmissions: 0, refusals: [] } };
    const key = `${poolKey}|${identifier}`;
    try {
      const request = build(server, identifier);
      if (request instanceof RadiusCodecError) {
        return { attempt: { ...base, outcome: 'encode-error', transmissions: 0, refusals: [] }, error: request };
      }
      const socket = await this.socket(family);
      const refusals: RadiusCodecErrorCode[] = [];
      let transmissions = 0;
      const packet = await new Promise<RadiusPacket | undefined>((resolve) => {
        let timer: NodeJS.Timeout | undefined;
        const finish = (p: RadiusPacket | undefined) => {
          clearTimeout(timer);
          this.pending.delete(key);
          resolve(p);
        };
        this.pending.set(key, { request, secret: server.secret, check, refusals, resolve: finish });
        const transmit = () => {
          if (transmissions > server.retries || this.closed) return finish(undefined);
          transmissions++;
          socket.send(request.bytes, server.port, address, () => undefined);
          timer = setTimeout(transmit, server.timeoutMs);
        };
        transmit();
      });
      return { attempt: { ...base, outcome: packet ? 'answered' : 'timeout', transmissions, refusals }, ...(packet ? { packet } : {}) };
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
        socket.bind({ port: 0, ...(family === 4 && this.options.bindAddress4 ? { address: this.options.bindAddress4 } : {}) }, () => {
          socket.off('error', reject);
          socket.on('error', () => undefined); // an ICMP error on one send must not kill the client
          socket.unref(); // an idle client must not keep the process alive (a pending exchange's timer does)
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
    if (!pending) return; // not an answer to anything outstanding: dropped (RFC 2865 §3)
    const checked = pending.check(pending.request, msg, pending.secret);
    if (checked instanceof RadiusCodecError) {
      pending.refusals.push(checked.code);
      return;
    }
    pending.resolve(checked);
  }

  /** Stops outstanding exchanges (they end as timeouts) and closes the sockets. */
  async close(): Promise<void> {
    this.closed = true;
    for (const p of [...this.pending.values()]) p.resolve(undefined);
    for (const s of this.sockets.values()) {
      const socket = await s.catch(() => undefined);
      await new Promise<void>((r) => (socket ? socket.close(() => r()) : r()));
    }
    this.sockets.clear();
  }
}
