/**
 * What the in-memory store does to every record it keeps or hands out, so that it behaves like a
 * database: copies in and out (a caller never shares an object with the store), fields that are
 * undefined dropped (DynamoDB drops them too), and listings paged with opaque cursors.
 */
import { InvalidCursorError } from '../../domain/store-errors';
import type { Page, PageRequest } from '../../domain/types';

/** Same bound as the DynamoDB store's (store/dynamo/table.ts). */
const MAX_PAGE_LIMIT = 1000;

/** A deep copy without undefined fields: what a round trip through a table gives back. */
export function copy<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => copy(v)) as T;
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = copy(v);
  return out as T;
}

/** Zero-padded number: string order equals numeric order (like store/dynamo/keys.ts padTime). */
export const pad = (n: number): string => Math.max(0, Math.floor(n)).toString().padStart(15, '0');

interface Cursor {
  readonly l: string;
  readonly k: string;
}

/**
 * One page of `items`, ordered by `sortKey` (unique per item) ascending or descending. The cursor
 * names the listing and the last key handed out; one from another listing, or garbled, is an
 * InvalidCursorError like the DynamoDB store's.
 */
export function pageOf<T>(
  listing: string,
  items: readonly T[],
  sortKey: (item: T) => string,
  order: 'ascending' | 'descending',
  page: PageRequest,
): Page<T> {
  const limit = Math.min(MAX_PAGE_LIMIT, Math.max(1, Math.floor(page.limit)));
  const keyed = items.map((item) => ({ item, key: sortKey(item) }));
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0) * (order === 'ascending' ? 1 : -1));
  let from = 0;
  if (page.cursor !== undefined) {
    const after = decodeCursor(page.cursor, listing);
    const next = keyed.findIndex(({ key }) => (order === 'ascending' ? key > after : key < after));
    from = next < 0 ? keyed.length : next;
  }
  const slice = keyed.slice(from, from + limit);
  const more = from + limit < keyed.length;
  const last = slice[slice.length - 1];
  return {
    items: slice.map(({ item }) => copy(item)),
    ...(more && last ? { cursor: Buffer.from(JSON.stringify({ l: listing, k: last.key } satisfies Cursor)).toString('base64url') } : {}),
  };
}

function decodeCursor(cursor: string, listing: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch (cause) {
    throw new InvalidCursorError({ cause });
  }
  const c = parsed as Partial<Cursor> | null;
  if (typeof c !== 'object' || c === null || c.l !== listing || typeof c.k !== 'string') throw new InvalidCursorError();
  return c.k;
}
