/**
 * RADIUS accounting: the tenant's settings (an attribute of the tenant item) and the outbox
 * (`ACCTREC#<sessionId>` / `<padded time>#<status>`: a session's records in order; listed oldest
 * event first through ByKind). The outbox records
 * themselves are written by session-ops.ts, in the transactions of the session changes.
 */
import { DeleteItemCommand, QueryCommand, UpdateItemCommand, type TransactWriteItem } from '@aws-sdk/client-dynamodb';
import type { Store } from '../../domain/store';
import type { AccountingRecord, Tenant } from '../../domain/types';
import { fromItem, toAttributes, toItem, type Item } from './item-codec';
import { EXISTS, updateItem } from './item-writes';
import { gsiKeys, INDEXES, keys, padTime } from './keys';
import { isConditionFailed, translateSdkError } from './sdk-errors';
import type { Table } from './table';

export type AccountingOps = Pick<
  Store,
  'setTenantAccounting' | 'listDueAccountingRecords' | 'claimAccountingRecord' | 'deferAccountingRecord' | 'deleteAccountingRecord' | 'oldestAccountingRecord'
>;

/** Due at `now`: its time has come and no sender holds it. */
const DUE = 'nextAttemptAt <= :now AND (attribute_not_exists(claimedUntil) OR claimedUntil <= :now)';

/** The outbox item of a record, with its ByKind keys (oldest event first). */
export function accountingRecordItem(record: AccountingRecord): Item {
  return toItem(keys.accountingRecord(record.recordId), 'accounting-record', record, {
    [INDEXES.byKind.pk]: gsiKeys.kind('accounting-record'),
    [INDEXES.byKind.sk]: `${padTime(record.eventAt)}#${encodeURIComponent(record.recordId)}`,
  });
}

/** The transaction item that writes a record beside its session change (a record id is written once per event). */
export function putAccountingRecord(tableName: string, record: AccountingRecord): TransactWriteItem {
  return { Put: { TableName: tableName, Item: accountingRecordItem(record) } };
}

export function accountingOps(t: Table): AccountingOps {
  return {
    async setTenantAccounting(tenantId, accounting, updatedAt) {
      const what = { entity: 'tenant', id: tenantId };
      const key = keys.tenant(tenantId);
      if (accounting === null) {
        return updateItem<Tenant>(t, key, what, { update: 'SET updatedAt = :u REMOVE accounting', values: { ':u': updatedAt } });
      }
      return updateItem<Tenant>(t, key, what, { update: 'SET accounting = :a, updatedAt = :u', values: { ':a': accounting, ':u': updatedAt } });
    },

    async listDueAccountingRecords(now, limit) {
      const page = await t.queryPage<AccountingRecord>(
        {
          KeyConditionExpression: '#pk = :pk',
          FilterExpression: DUE,
          ExpressionAttributeNames: { '#pk': INDEXES.byKind.pk },
          ExpressionAttributeValues: toAttributes({ ':pk': gsiKeys.kind('accounting-record'), ':now': now }),
        },
        { limit },
        INDEXES.byKind,
      );
      return [...page.items];
    },

    async claimAccountingRecord(recordId, now, until) {
      try {
        const out = await t.send('UpdateItem', (c) =>
          c.send(
            new UpdateItemCommand({
              TableName: t.tableName,
              Key: toAttributes(keys.accountingRecord(recordId)),
              UpdateExpression: 'SET claimedUntil = :until',
              ConditionExpression: `${EXISTS} AND ${DUE}`,
              ExpressionAttributeValues: toAttributes({ ':now': now, ':until': until }),
              ReturnValues: 'ALL_NEW',
            }),
          ),
        );
        return out.Attributes ? fromItem<AccountingRecord>(out.Attributes) : undefined;
      } catch (error) {
        if (isConditionFailed(error)) return undefined;
        throw translateSdkError(error, 'UpdateItem');
      }
    },

    async deferAccountingRecord(recordId, retry) {
      try {
        await t.send('UpdateItem', (c) =>
          c.send(
            new UpdateItemCommand({
              TableName: t.tableName,
              Key: toAttributes(keys.accountingRecord(recordId)),
              UpdateExpression: 'SET attempts = :a, nextAttemptAt = :n, lastError = :e REMOVE claimedUntil',
              // Never brings back a record another sender has delivered (and deleted) meanwhile.
              ConditionExpression: EXISTS,
              ExpressionAttributeValues: toAttributes({ ':a': retry.attempts, ':n': retry.nextAttemptAt, ':e': retry.lastError }),
            }),
          ),
        );
      } catch (error) {
        if (isConditionFailed(error)) return;
        throw translateSdkError(error, 'UpdateItem');
      }
    },

    async deleteAccountingRecord(recordId) {
      await t.send('DeleteItem', (c) => c.send(new DeleteItemCommand({ TableName: t.tableName, Key: toAttributes(keys.accountingRecord(recordId)) })));
    },

    async oldestAccountingRecord(sessionId) {
      const out = await t.send('Query', (c) =>
        c.send(
          new QueryCommand({
            TableName: t.tableName,
            KeyConditionExpression: 'PK = :pk',
            ExpressionAttributeValues: toAttributes({ ':pk': keys.accountingSessionPk(sessionId) }),
            ConsistentRead: true,
            Limit: 1,
          }),
        ),
      );
      const first = out.Items?.[0];
      return first ? fromItem<AccountingRecord>(first) : undefined;
    },
  };
}
