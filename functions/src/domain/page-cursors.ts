/**
 * Page cursors as the API hands them out: the store's opaque cursor, signed and bound to the
 * listing it came from (issue 14 #7). A forged, altered or truncated cursor, or one taken from
 * another listing or another caller, is refused with 400 before it reaches the store (it used to
 * reach DynamoDB as an ExclusiveStartKey and fail as a 500).
 *
 * A cursor is `<keyId>.<store cursor>.<mac>`, the MAC an HMAC-SHA256 over the key id, the store
 * cursor and the listing's scope, with a key derived (HKDF) from the data key of that id: every
 * broker instance checks what any other issued, and a cursor outlives a key rotation while its key
 * is still configured. Cursors are signed, not encrypted: what they hold is the key of the last
 * item of the page, which the caller has just been shown (the store builds them only from items
 * the listing may return: session-list.ts).
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { DataKey } from './types';
import { ValidationError } from '../errors';

export interface PageCursors {
  /** The API cursor for a store cursor of the listing `scope`. */
  seal(storeCursor: string, scope: string): string;
  /** The store cursor an API cursor of `scope` holds; ValidationError (field `cursor`) otherwise. */
  open(cursor: string, scope: string): string;
}

export function createPageCursors(dataKeys: readonly DataKey[]): PageCursors {
  const macKeys = new Map(
    dataKeys.map((k) => [k.keyId, Buffer.from(hkdfSync('sha256', Buffer.from(k.keyBase64, 'base64'), Buffer.alloc(0), 'tunnel-broker page cursor v1', 32))]),
  );
  const signingKeyId = dataKeys[0]?.keyId;
  const mac = (key: Buffer, keyId: string, storeCursor: string, scope: string) =>
    createHmac('sha256', key).update(JSON.stringify([keyId, storeCursor, scope])).digest();
  const invalid = () => new ValidationError('cursor', 'cursor is not one this listing handed out (altered, truncated, or from another listing or caller)');

  return {
    seal(storeCursor, scope) {
      const key = signingKeyId === undefined ? undefined : macKeys.get(signingKeyId);
      if (key === undefined || signingKeyId === undefined) throw new Error('no data key to sign page cursors with');
      return `${signingKeyId}.${storeCursor}.${mac(key, signingKeyId, storeCursor, scope).toString('base64url')}`;
    },
    open(cursor, scope) {
      const [keyId, storeCursor, tag, extra] = cursor.split('.');
      if (keyId === undefined || storeCursor === undefined || tag === undefined || extra !== undefined || storeCursor === '') throw invalid();
      const key = macKeys.get(keyId);
      if (key === undefined) throw invalid();
      const expected = mac(key, keyId, storeCursor, scope);
      const presented = Buffer.from(tag, 'base64url');
      if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) throw invalid();
      return storeCursor;
    },
  };
}
