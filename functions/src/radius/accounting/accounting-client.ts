/**
 * Sends Accounting-Requests: client.ts's exchange (servers in order, `retries` identical
 * retransmissions with one Identifier each waiting `timeoutMs`: RFC 5080 §2.2.1), with answers
 * checked by response-check.ts instead (a Message-Authenticator is required, in FreeRADIUS's form
 * too). Each delivery attempt builds a new request: a later attempt carries a larger
 * Acct-Delay-Time and so gets a new Identifier (RFC 2866 §5.2).
 */
import type { AccountingServerEndpoint, AccountingTransport, DeliveryOptions, DeliveryResult } from '../../domain/radius-accounting/sender';
import type { AccountingRecord } from '../../domain/types';
import { RadiusClient, type ExchangeAttempt } from '../client';
import { encodeAccountingRequest } from '../request';
import { accountingRequestAttributes } from './request-attributes';
import { checkAccountingResponse } from './response-check';

export interface AccountingClientOptions {
  /** Wait for an answer to each transmission. @default 2000 */
  readonly timeoutMs?: number;
  /** Identical retransmissions after the first, per server. @default 2 */
  readonly retries?: number;
}

/** Why a server did not take the record, as the outbox's lastError says it. */
function whyNot(attempt: ExchangeAttempt): string {
  switch (attempt.outcome) {
    case 'timeout':
      return attempt.refusals.length > 0 ? `refused (${[...new Set(attempt.refusals)].join(', ')})` : 'timeout';
    case 'unreachable':
      return 'unresolvable';
    case 'forbidden':
      return 'forbidden (an address no RADIUS server may have)';
    case 'busy':
      return 'busy (256 requests outstanding)';
    default:
      return attempt.outcome;
  }
}

export class RadiusAccountingClient implements AccountingTransport {
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly client = new RadiusClient();

  constructor(options: AccountingClientOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 2_000;
    this.retries = options.retries ?? 2;
  }

  async deliver(servers: readonly AccountingServerEndpoint[], record: AccountingRecord, options: DeliveryOptions): Promise<DeliveryResult> {
    if (servers.length === 0) return { delivered: false, reason: 'no accounting server' };
    const attributes = accountingRequestAttributes(record, options);
    const endpoints = servers.map((s) => ({ host: s.host, port: s.port, secret: s.secret, timeoutMs: this.timeoutMs, retries: this.retries }));
    const result = await this.client.exchange(
      endpoints,
      (server, identifier) => encodeAccountingRequest({ identifier, secret: server.secret, attributes, messageAuthenticator: true }),
      checkAccountingResponse,
    );
    if (result.ok) {
      const server = endpoints[result.serverIndex]!;
      return { delivered: true, server: `${server.host}:${server.port}` };
    }
    if (result.reason === 'encode-error') return { delivered: false, reason: `not encodable (${result.error?.code ?? 'unknown'})` };
    return { delivered: false, reason: result.attempts.map((a) => `${a.host}:${a.port} ${whyNot(a)}`).join('; ') };
  }

  /** Ends outstanding deliveries (as timeouts) and closes the sockets. */
  close(): Promise<void> {
    return this.client.close();
  }
}
