/**
 * Thin access to the one table: every SDK call goes through `send`, which turns unexpected SDK
 * failures into store errors, and listings go through `queryPage`, which fills pages despite
 * filter expressions and emits opaque cursors.
 */
import {
  QueryCommand,
  type DynamoDBClient,
  type QueryCommandInput,
  type TransactWriteItem,
} from '@aws-sdk/client-dynamodb';
import type { Page, PageRequest } from '../../domain/types';
import { decodeCursor, encodeCursor, fromItem, keyOf, type Item } from './item-codec';
import { cancellationCodes, isConditionFailed, translateSdkError } from './sdk-errors';
import type { IndexInfo, Key } from './keys';
import { ReadBatcher } from './read-batcher';
import { MAX_TRANSACT_ITEMS, TransactBatcher } from './transact-batcher';

/** Upper bound of items a single page may ask for. */
export const MAX_PAGE_LIMIT = 1000;
/** Queries per page before returning a (possibly short) page with a cursor. */
const MAX_ROUNDS = 20;


/** Waits `ms` before a retry; injected (tests pass one that records or skips the wait). */
export type Sleep = (ms: number) => Promise<void>;

/** The store's one timer: every backoff of the DynamoDB store waits through it. */
export const timerSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export interface TableOptions {
  /** How every backoff of the store waits (transaction conflicts, unprocessed batch items). @default timerSleep */
  readonly sleep?: Sleep;
  /**
   * Merge point reads and transactions issued in the same event-loop turn into BatchGetItem and
   * larger TransactWriteItems (read-batcher.ts, transact-batcher.ts). @default true
   */
  readonly coalesce?: boolean;
}

export class Table {
  private readonly reads: ReadBatcher;
  private readonly transactions: TransactBatcher;
  /** How the store's retries wait (TableOptions.sleep). */
  readonly sleep: Sleep;

  constructor(
    readonly client: DynamoDBClient,
    readonly tableName: string,
    options: TableOptions = {},
  ) {
    const send = this.send.bind(this);
    const coalesce = options.coalesce ?? true;
    this.sleep = options.sleep ?? timerSleep;
    this.reads = new ReadBatcher(tableName, send, coalesce, this.sleep);
    this.transactions = new TransactBatcher(send, coalesce ? MAX_TRANSACT_ITEMS : 1);
  }

  /**
   * Sends a command. Condition failures and transaction cancellations are rethrown untouched
   * for the caller to classify; every other error becomes a StoreError.
   */
  async send<O>(operation: string, run: (client: DynamoDBClient) => Promise<O>): Promise<O> {
    try {
      return await run(this.client);
    } catch (error) {
      if (isConditionFailed(error) || cancellationCodes(error)) throw error;
      throw translateSdkError(error, operation);
    }
  }

  getRaw(key: Key, consistent = true): Promise<Item | undefined> {
    return this.reads.get(key, consistent);
  }

  /**
   * One TransactWriteItems, all or nothing. A cancellation is rethrown with this call's own
   * reasons, in `items` order, even when the request went out merged with others.
   */
  transact(items: readonly TransactWriteItem[]): Promise<void> {
    return this.transactions.transact(items);
  }

  async get<T>(key: Key, consistent = true): Promise<T | undefined> {
    const item = await this.getRaw(key, consistent);
    return item ? fromItem<T>(item) : undefined;
  }

  /** Runs a query to the end (for small partitions: leases of a pool, commands of an agent). */
  async queryAll<T>(input: Omit<QueryCommandInput, 'TableName'>): Promise<T[]> {
    const out: T[] = [];
    let start: Item | undefined;
    do {
      const res = (await this.send('Query', (c) => c.send(new QueryCommand({ ...input, TableName: this.tableName, ExclusiveStartKey: start })))) as { Items?: Item[]; LastEvaluatedKey?: Item };
      for (const item of res.Items ?? []) out.push(fromItem<T>(item));
      start = res.LastEvaluatedKey;
    } while (start);
    return out;
  }

  /**
   * One page of a query. DynamoDB applies `Limit` before the filter, so a filtered query is
   * repeated until the page is full; when more matches arrive than fit, the cursor is built
   * from the last item kept, so nothing is skipped or repeated.
   */
  async queryPage<T>(
    input: Omit<QueryCommandInput, 'TableName' | 'Limit' | 'ExclusiveStartKey'>,
    page: PageRequest,
    index?: IndexInfo,
  ): Promise<Page<T>> {
    const keyAttributes = ['PK', 'SK', ...(index ? [index.pk, index.sk] : [])];
    const limit = Math.min(MAX_PAGE_LIMIT, Math.max(1, Math.floor(page.limit)));
    let start = page.cursor ? decodeCursor(page.cursor, keyAttributes) : undefined;
    const kept: Item[] = [];
    const filtered = input.FilterExpression !== undefined;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const remaining = limit - kept.length;
      const res = (await this.send('Query', (c) => c.send(new QueryCommand({
          ...input,
          ...(index ? { IndexName: index.name } : {}),
          TableName: this.tableName,
          Limit: filtered ? Math.min(MAX_PAGE_LIMIT, Math.max(remaining, 100)) : remaining,
          ExclusiveStartKey: start,
        })))) as { Items?: Item[]; LastEvaluatedKey?: Item };
      const items = res.Items ?? [];
      if (items.length > remaining) {
        kept.push(...items.slice(0, remaining));
        return this.page<T>(kept, keyOf(kept[kept.length - 1]!, keyAttributes));
      }
      kept.push(...items);
      start = res.LastEvaluatedKey;
      if (!start) return this.page<T>(kept, undefined);
      if (kept.length === limit) return this.page<T>(kept, keyOf(kept[kept.length - 1]!, keyAttributes));
    }
    return this.page<T>(kept, start);
  }

  private page<T>(items: Item[], last: Item | undefined): Page<T> {
    const decoded = items.map((i) => fromItem<T>(i));
    return last ? { items: decoded, cursor: encodeCursor(last) } : { items: decoded };
  }
}
