/** Idempotency records (`IDEMP#<scope>#<key>`), kept until their TTL. */
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { Store } from '../../domain/store';
import type { Clock, IdempotencyRecord } from '../../domain/types';
import { toAttributes, toItem } from './item-codec';
import { NOT_EXISTS } from './item-writes';
import { keys } from './keys';
import { isConditionFailed, translateSdkError } from './sdk-errors';
import type { Table } from './table';

export type IdempotencyOps = Pick<Store, 'getIdempotencyRecord' | 'putIdempotencyRecord'>;

export function idempotencyOps(t: Table, clock: Clock): IdempotencyOps {
  return {
    /** Records past expiresAt count as absent even before DynamoDB's TTL sweep removes them. */
    async getIdempotencyRecord(scope, key) {
      const record = await t.get<IdempotencyRecord>(keys.idempotency(scope, key));
      return record && record.expiresAt > clock.now() ? record : undefined;
    },

    async putIdempotencyRecord(record) {
      try {
        await t.send('PutItem', (c) =>
          c.send(
            new PutItemCommand({
              TableName: t.tableName,
              Item: toItem(keys.idempotency(record.scope, record.key), 'idempotency', record),
              // An expired record that the TTL sweep has not removed yet may be replaced.
              ConditionExpression: `${NOT_EXISTS} OR expiresAtMs <= :now`,
              ExpressionAttributeValues: toAttributes({ ':now': clock.now() }),
            }),
          ),
        );
        return true;
      } catch (error) {
        if (isConditionFailed(error)) return false;
        throw translateSdkError(error, 'PutItem');
      }
    },
  };
}
