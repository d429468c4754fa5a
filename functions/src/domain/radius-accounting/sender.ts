/**
 * Drains the accounting outbox: every due record is claimed (so two senders never send it at
 * once), sent to its tenant's accounting servers in order, and deleted only once one of them
 * acknowledged it with a valid Accounting-Response; otherwise it stays, with its attempt counted
 * and its next attempt backed off. So a record is never lost while a server is down, and a
 * session's start or stop never waits for one: they only wrote the record (outbox-rules.ts).
 *
 * A session's records go out in order (Start, Interim-Updates, Stop): once one of them fails in a
 * pass, the later ones wait for the next pass. Each attempt is a new request whose
 * Acct-Delay-Time is the record's age (RFC 2866 §5.2).
 */
import type { SecretBox } from '../ppp-auth';
import type { Store } from '../store';
import type { AccountingRecord, Clock, Tenant } from '../types';
import { openAccountingServers, type AccountingServerEndpoint } from './settings';

export type { AccountingServerEndpoint } from './settings';

export type DeliveryResult = { readonly delivered: true; readonly server: string } | { readonly delivered: false; readonly reason: string };

/** How one attempt presents a record. */
export interface DeliveryOptions {
  /** Acct-Delay-Time: the record's age now (RFC 2866 §5.2). */
  readonly delaySeconds: number;
  /** User-Name, in the form the tenant's RADIUS authentication sends it (accountingUserName). */
  readonly userName: string;
}

/** Sends one record to the servers in order until one acknowledges it (radius/accounting/accounting-client.ts). */
export interface AccountingTransport {
  deliver(servers: readonly AccountingServerEndpoint[], record: AccountingRecord, options: DeliveryOptions): Promise<DeliveryResult>;
}

export interface DrainOptions {
  /** Records read per pass. @default 100 */
  readonly batchSize?: number;
  /** Sessions whose records are sent at the same time. @default 8 */
  readonly concurrency?: number;
  /**
   * How long a claim holds: longer than one delivery can take (servers x (retries + 1) x timeout),
   * so a live sender never loses its claim; a sender that died frees its records after it.
   * @default 120000
   */
  readonly claimMs?: number;
  /** First retry after this long, doubling per failed attempt up to `maxBackoffMs`. @default 5000 */
  readonly baseBackoffMs?: number;
  /** @default 300000 */
  readonly maxBackoffMs?: number;
}

export interface DrainSummary {
  readonly delivered: number;
  readonly deferred: number;
  /** Records of tenants that have turned accounting off, or were deleted. */
  readonly dropped: number;
}

export interface DrainLog {
  info(data: object, message: string): void;
  warn(data: object, message: string): void;
}

export interface DrainContext {
  readonly store: Store;
  readonly clock: Clock;
  readonly secretBox: SecretBox;
  readonly log?: DrainLog;
}

/** The wait before the next attempt after `attempts` failed ones (exponential, capped). */
export function retryDelayMs(attempts: number, options: Pick<DrainOptions, 'baseBackoffMs' | 'maxBackoffMs'> = {}): number {
  const base = options.baseBackoffMs ?? 5_000;
  const max = options.maxBackoffMs ?? 300_000;
  return Math.min(max, base * 2 ** Math.max(0, attempts - 1));
}

/** Acct-Delay-Time of a record sent at `now` (RFC 2866 §5.2): whole seconds since its event. */
export function delaySeconds(record: Pick<AccountingRecord, 'eventAt'>, now: number): number {
  return Math.max(0, Math.floor((now - record.eventAt) / 1000));
}

/**
 * The User-Name of a tenant's accounting requests: the name as its users log in (`user@tenant`), or
 * the user part alone when the tenant's RADIUS authentication sends it so (auth source
 * `userName: without-realm`), so the accounting server sees the name it authenticated.
 */
export function accountingUserName(tenant: Pick<Tenant, 'authSource'>, record: Pick<AccountingRecord, 'username' | 'tenantId'>): string {
  const source = tenant.authSource;
  return source?.kind === 'radius' && source.userName === 'without-realm' ? record.username : `${record.username}@${record.tenantId}`;
}

/** One pass over the due records. */
export async function drainAccountingOutbox(ctx: DrainContext, transport: AccountingTransport, options: DrainOptions = {}): Promise<DrainSummary> {
  const due = await ctx.store.listDueAccountingRecords(ctx.clock.now(), options.batchSize ?? 100);
  const bySession = new Map<string, AccountingRecord[]>();
  for (const r of due) bySession.set(r.sessionId, [...(bySession.get(r.sessionId) ?? []), r]);
  const counts = { delivered: 0, deferred: 0, dropped: 0 };
  const queue = [...bySession.values()];
  const worker = async () => {
    for (let records = queue.shift(); records; records = queue.shift()) {
      for (const r of records) {
        const outcome = await sendOne(ctx, transport, r, options);
        if (outcome !== 'skipped') counts[outcome]++;
        if (outcome !== 'delivered' && outcome !== 'dropped') break; // the session's later records wait
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 8) }, worker));
  return counts;
}

async function sendOne(
  ctx: DrainContext,
  transport: AccountingTransport,
  listed: AccountingRecord,
  options: DrainOptions,
): Promise<'delivered' | 'deferred' | 'dropped' | 'skipped'> {
  // In order: an earlier record of the session still waiting (backed off, or not listed in this
  // pass) holds the later ones back, so a Stop never overtakes its Start.
  const oldest = await ctx.store.oldestAccountingRecord(listed.sessionId);
  if (oldest?.recordId !== listed.recordId) return 'skipped';
  const now = ctx.clock.now();
  const record = await ctx.store.claimAccountingRecord(listed.recordId, now, now + (options.claimMs ?? 120_000));
  if (!record) return 'skipped'; // another sender has it, or it was delivered meanwhile
  const tenant = await ctx.store.getTenant(record.tenantId);
  if (!tenant?.accounting) {
    await ctx.store.deleteAccountingRecord(record.recordId);
    ctx.log?.warn({ recordId: record.recordId, tenantId: record.tenantId }, 'accounting record dropped: its tenant no longer has accounting');
    return 'dropped';
  }
  let result: DeliveryResult;
  try {
    const servers = openAccountingServers(ctx, record.tenantId, tenant.accounting);
    result = await transport.deliver(servers, record, { delaySeconds: delaySeconds(record, ctx.clock.now()), userName: accountingUserName(tenant, record) });
  } catch (error) {
    result = { delivered: false, reason: error instanceof Error ? error.name : 'error' };
  }
  if (result.delivered) {
    await ctx.store.deleteAccountingRecord(record.recordId);
    return 'delivered';
  }
  const attempts = record.attempts + 1;
  await ctx.store.deferAccountingRecord(record.recordId, {
    attempts,
    nextAttemptAt: ctx.clock.now() + retryDelayMs(attempts, options),
    lastError: result.reason,
  });
  ctx.log?.warn({ recordId: record.recordId, tenantId: record.tenantId, attempts, reason: result.reason }, 'accounting record not acknowledged; will retry');
  return 'deferred';
}
