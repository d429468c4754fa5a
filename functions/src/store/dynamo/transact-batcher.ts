/**
 * Transactions that are asked for in the same turn of the event loop go out together as one
 * TransactWriteItems, when they touch different items and fit DynamoDB's 100-item limit.
 *
 * A reconnect storm is thousands of small independent transactions (a start: session, agent ref,
 * lease; a stop: session, lease). On DynamoDB Local one 3-item transaction per request gives
 * 137-186 starts/s at 32 concurrent; 16-33 starts per request give 310-400/s (measured, same
 * machine). All or nothing is kept per caller: a merged transaction that DynamoDB cancels wrote
 * nothing, each caller whose own items carry a cancellation reason gets a cancellation with just
 * its reasons (in its own item order, as if it had been sent alone), and the callers whose items
 * were all fine are sent again. A lone transaction goes out unchanged.
 */
import { TransactionCanceledException, TransactWriteItemsCommand, type CancellationReason, type DynamoDBClient, type TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { cancellationCodes } from './sdk-errors';

/** DynamoDB's limit of items per TransactWriteItems. */
export const MAX_TRANSACT_ITEMS = 100;

type Send = <O>(operation: string, run: (client: DynamoDBClient) => Promise<O>) => Promise<O>;

interface PendingTransaction {
  readonly items: readonly TransactWriteItem[];
  readonly itemKeys: readonly string[];
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

export class TransactBatcher {
  private queued: PendingTransaction[] = [];
  private scheduled = false;

  /** @param maxItems items per merged request (at most 100); 1 sends every transaction alone. */
  constructor(
    private readonly send: Send,
    private readonly maxItems: number = MAX_TRANSACT_ITEMS,
  ) {}

  transact(items: readonly TransactWriteItem[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queued.push({ items, itemKeys: items.map(itemKeyOf), resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const queued = this.queued;
    this.queued = [];
    for (const group of groupsOf(queued, this.maxItems)) void this.run(group);
  }

  private async run(group: readonly PendingTransaction[]): Promise<void> {
    try {
      await this.send('TransactWriteItems', (c) => c.send(new TransactWriteItemsCommand({ TransactItems: group.flatMap((t) => t.items) })));
      for (const t of group) t.resolve();
    } catch (error) {
      if (group.length === 1) return group[0]!.reject(error);
      const codes = cancellationCodes(error);
      const total = group.reduce((n, t) => n + t.items.length, 0);
      if (!codes || codes.length !== total) {
        // Not a per-item verdict (a validation error, throttling, a broken connection): every
        // caller on its own, so one caller's bad item cannot fail the others.
        for (const t of group) void this.run([t]);
        return;
      }
      const innocent: PendingTransaction[] = [];
      let offset = 0;
      for (const t of group) {
        const own = codes.slice(offset, offset + t.items.length);
        const reasons = ((error as TransactionCanceledException).CancellationReasons ?? []).slice(offset, offset + t.items.length);
        offset += t.items.length;
        if (own.every((c) => c === undefined || c === 'None')) innocent.push(t);
        else t.reject(ownCancellation(error as TransactionCanceledException, reasons));
      }
      // Nothing was written; the callers that were not at fault go again (together, if several).
      if (innocent.length > 0) for (const g of groupsOf(innocent, this.maxItems)) void this.run(g);
    }
  }
}

/** First fit: each transaction joins the first group it fits without touching an item twice. */
function groupsOf(transactions: readonly PendingTransaction[], maxItems: number): PendingTransaction[][] {
  const groups: Array<{ members: PendingTransaction[]; size: number; keys: Set<string> }> = [];
  for (const t of transactions) {
    const fits = groups.find((g) => g.size + t.items.length <= maxItems && t.itemKeys.every((k) => !g.keys.has(k)));
    if (fits) {
      fits.members.push(t);
      fits.size += t.items.length;
      for (const k of t.itemKeys) fits.keys.add(k);
    } else {
      groups.push({ members: [t], size: t.items.length, keys: new Set(t.itemKeys) });
    }
  }
  return groups.map((g) => g.members);
}

function ownCancellation(merged: TransactionCanceledException, reasons: CancellationReason[]): TransactionCanceledException {
  return new TransactionCanceledException({
    message: `Transaction cancelled, reasons [${reasons.map((r) => r.Code ?? 'None').join(', ')}]`,
    $metadata: merged.$metadata,
    CancellationReasons: reasons,
  });
}

/** The item a transaction entry touches, as table + key (two entries on one item cannot share a request). */
function itemKeyOf(entry: TransactWriteItem): string {
  const op = entry.Put ?? entry.Update ?? entry.Delete ?? entry.ConditionCheck;
  const key = entry.Put ? entry.Put.Item : (entry.Update ?? entry.Delete ?? entry.ConditionCheck)?.Key;
  return `${op?.TableName ?? ''}\u0000${key?.PK?.S ?? ''}\u0000${key?.SK?.S ?? ''}`;
}
