/**
 * Domain record <-> DynamoDB item. Items carry their keys, an `itemType` and, for TTL'd records, the
 * TTL in epoch seconds (`expiresAt`) beside the domain's millisecond value (`expiresAtMs`).
 * Decoding strips everything that is not part of the domain record.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { TABLE_DEFINITION } from '../table-definition';
import { InvalidCursorError } from '../../domain/store-errors';
import { TTL_ATTRIBUTE, ttlSeconds, type ItemKind, type Key } from './keys';

export type Item = Record<string, AttributeValue>;

const INTERNAL = new Set<string>([
  TABLE_DEFINITION.partitionKey.name,
  TABLE_DEFINITION.sortKey.name,
  ...TABLE_DEFINITION.globalSecondaryIndexes.flatMap((i) => [i.partitionKey.name, i.sortKey.name]),
  'itemType',
  'stateChangedAt',
  TTL_ATTRIBUTE,
]);

const MS_SUFFIX = 'Ms';

/** Marshals a value (undefined fields dropped) into attribute values. */
export function toAttributes(value: object): Item {
  return marshall(value, { removeUndefinedValues: true, convertClassInstanceToMap: false });
}

/**
 * Builds a full item. When the record has an `expiresAt` (ms), it is stored as `expiresAtMs`
 * and the TTL attribute gets epoch seconds, because DynamoDB TTL ignores millisecond values.
 */
export function toItem(key: Key, kind: ItemKind, record: object, extra: Record<string, unknown> = {}): Item {
  const data: Record<string, unknown> = { ...record };
  const expiresAt = data[TTL_ATTRIBUTE];
  if (typeof expiresAt === 'number') {
    data[TTL_ATTRIBUTE + MS_SUFFIX] = expiresAt;
    data[TTL_ATTRIBUTE] = ttlSeconds(expiresAt);
  }
  return toAttributes({ ...data, ...extra, ...key, itemType: kind });
}

/** Unmarshals an item and removes keys and bookkeeping attributes. */
export function fromItem<T>(item: Item): T {
  const raw = unmarshall(item) as Record<string, unknown>;
  const ms = raw[TTL_ATTRIBUTE + MS_SUFFIX];
  for (const name of Object.keys(raw)) if (INTERNAL.has(name)) delete raw[name];
  if (typeof ms === 'number') {
    delete raw[TTL_ATTRIBUTE + MS_SUFFIX];
    raw[TTL_ATTRIBUTE] = ms;
  }
  return raw as T;
}

/** Opaque cursor: base64url of the JSON LastEvaluatedKey. */
export function encodeCursor(key: Item): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/**
 * Decodes a cursor and checks it names exactly the key attributes of the listing it is used
 * with, so a cursor from another listing is a clear InvalidCursorError, not an SDK validation error.
 */
export function decodeCursor(cursor: string, keyAttributes: readonly string[]): Item {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch (cause) {
    throw new InvalidCursorError({ cause });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new InvalidCursorError();
  const entries = Object.entries(parsed as Record<string, unknown>);
  const names = entries.map(([n]) => n).sort();
  const expected = [...keyAttributes].sort();
  if (names.length !== expected.length || names.some((n, i) => n !== expected[i])) throw new InvalidCursorError();
  for (const [, v] of entries) {
    const value = v as Record<string, unknown> | null;
    if (typeof value !== 'object' || value === null || typeof value.S !== 'string' || Object.keys(value).length !== 1) {
      throw new InvalidCursorError();
    }
  }
  return parsed as Item;
}

/** The key attributes of `item` for a listing (table keys plus the index keys). */
export function keyOf(item: Item, keyAttributes: readonly string[]): Item {
  const key: Item = {};
  for (const name of keyAttributes) {
    const value = item[name];
    if (value) key[name] = value;
  }
  return key;
}
