/**
 * The writes and listings several entities share: a conditional create (optionally under a parent
 * that must exist), an update of an item that must exist, and the ByKind listing. Failed
 * conditions come back as the domain's store errors.
 */
import { PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { AlreadyExistsError, NotFoundError } from '../../domain/store-errors';
import type { Page, PageRequest } from '../../domain/types';
import { fromItem, toAttributes, type Item } from './item-codec';
import { gsiKeys, INDEXES, type Key } from './keys';
import { cancellationCodes, isConditionFailed, translateSdkError } from './sdk-errors';
import type { Table } from './table';

export const NOT_EXISTS = 'attribute_not_exists(PK)';
export const EXISTS = 'attribute_exists(PK)';

/** What a failed create or update names in its error (e.g. `user`, `acme/alice`). */
export interface Named {
  readonly entity: string;
  readonly id: string;
}

/**
 * Conditional put of a new item: AlreadyExistsError when its key is taken. With `parent`, the
 * parent item must exist too (a ConditionCheck in the same transaction): NotFoundError otherwise.
 */
export async function createItem(t: Table, item: Item, what: Named, parent?: Named & { readonly key: Key }): Promise<void> {
  const put = { TableName: t.tableName, Item: item, ConditionExpression: NOT_EXISTS };
  if (!parent) {
    try {
      await t.send('PutItem', (c) => c.send(new PutItemCommand(put)));
    } catch (error) {
      if (isConditionFailed(error)) throw new AlreadyExistsError(what.entity, what.id, { cause: error });
      throw translateSdkError(error, 'PutItem');
    }
    return;
  }
  try {
    await t.transact([{ ConditionCheck: { TableName: t.tableName, Key: toAttributes(parent.key), ConditionExpression: EXISTS } }, { Put: put }]);
  } catch (error) {
    const codes = cancellationCodes(error);
    if (codes?.[0] === 'ConditionalCheckFailed') throw new NotFoundError(parent.entity, parent.id, { cause: error });
    if (codes?.[1] === 'ConditionalCheckFailed') throw new AlreadyExistsError(what.entity, what.id, { cause: error });
    throw translateSdkError(error, 'TransactWriteItems');
  }
}

export interface UpdateSpec {
  readonly update: string;
  /** Further condition, ANDed with the item's existence. */
  readonly condition?: string;
  readonly names?: Record<string, string>;
  readonly values?: Record<string, unknown>;
}

/** UpdateItem on an existing item: NotFoundError when it is absent (or `condition` fails). Returns the new item. */
export async function updateItem<T>(t: Table, key: Key, what: Named, spec: UpdateSpec): Promise<T> {
  try {
    const out = await t.send('UpdateItem', (c) =>
      c.send(
        new UpdateItemCommand({
          TableName: t.tableName,
          Key: toAttributes(key),
          UpdateExpression: spec.update,
          ConditionExpression: spec.condition ? `${EXISTS} AND (${spec.condition})` : EXISTS,
          ...(spec.names ? { ExpressionAttributeNames: spec.names } : {}),
          ...(spec.values ? { ExpressionAttributeValues: toAttributes(spec.values) } : {}),
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    return fromItem<T>(out.Attributes ?? {});
  } catch (error) {
    if (isConditionFailed(error)) throw new NotFoundError(what.entity, what.id, { cause: error });
    throw translateSdkError(error, 'UpdateItem');
  }
}

/** `SET a = :a, ...` for the defined fields of `changes` (empty `set` when none is). */
export function setExpression(changes: Record<string, unknown>): { set: string; names: Record<string, string>; values: Record<string, unknown> } {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const parts: string[] = [];
  Object.entries(changes).forEach(([name, value], i) => {
    if (value === undefined) return;
    names[`#u${i}`] = name;
    values[`:u${i}`] = value;
    parts.push(`#u${i} = :u${i}`);
  });
  return { set: parts.join(', '), names, values };
}

/** The ByKind index keys of an item: every item of a kind, listed without a scan. */
export function kindKeys(kind: 'tenant' | 'agent' | 'api-key' | 'audit-event', sortKey: string): Record<string, string> {
  return { [INDEXES.byKind.pk]: gsiKeys.kind(kind), [INDEXES.byKind.sk]: sortKey };
}

/** One page of every item of a kind, by its ByKind sort key (those starting with `prefix` only). */
export function listByKind<T>(
  t: Table,
  kind: 'tenant' | 'agent' | 'api-key' | 'audit-event',
  page: PageRequest,
  options: { readonly prefix?: string; readonly newestFirst?: boolean; readonly between?: readonly [string, string] } = {},
): Promise<Page<T>> {
  const names: Record<string, string> = { '#pk': INDEXES.byKind.pk };
  const values: Record<string, unknown> = { ':pk': gsiKeys.kind(kind) };
  let condition = '#pk = :pk';
  if (options.prefix !== undefined) {
    names['#sk'] = INDEXES.byKind.sk;
    values[':prefix'] = options.prefix;
    condition += ' AND begins_with(#sk, :prefix)';
  } else if (options.between !== undefined) {
    names['#sk'] = INDEXES.byKind.sk;
    values[':lo'] = options.between[0];
    values[':hi'] = options.between[1];
    condition += ' AND #sk BETWEEN :lo AND :hi';
  }
  return t.queryPage<T>(
    {
      KeyConditionExpression: condition,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: toAttributes(values),
      ...(options.newestFirst ? { ScanIndexForward: false } : {}),
    },
    page,
    INDEXES.byKind,
  );
}
