/**
 * Authentication failures: the writes of one (domain/auth-service.ts), all at once and the same
 * requests whether or not the user exists, so neither the answer's timing nor the store load tells;
 * the throttle records (`THROTTLE#<key>`) and the user's event log (`USEREVT#<tenant>#<user>`).
 */
import { DeleteItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { randomBytes } from 'node:crypto';
import type { Store } from '../../domain/store';
import type { AuthEvent, AuthThrottle, Clock } from '../../domain/types';
import { toAttributes, toItem } from './item-codec';
import { EXISTS } from './item-writes';
import { keys, ttlSeconds } from './keys';
import { isConditionFailed, translateSdkError } from './sdk-errors';
import type { Table } from './table';

export type AuthOps = Pick<Store, 'recordAuthFailure' | 'recordAuthEvent' | 'getAuthThrottle' | 'deleteAuthThrottle' | 'listAuthEvents'>;

export function authOps(t: Table, clock: Clock): AuthOps {
  return {
    async recordAuthFailure(failure) {
      const { event, user } = failure;
      const adds = ['failedAttempts :one', ...(user.lockUntil !== undefined ? ['lockCount :one'] : [])];
      const sets = [
        'lastFailureAt = :at',
        'lastFailureReason = :reason',
        ...(user.addSource !== undefined ? ['failureSources = list_append(if_not_exists(failureSources, :none), :source)'] : []),
        ...(user.lockUntil !== undefined ? ['lockedUntil = :lock'] : []),
      ];
      const values: Record<string, unknown> = {
        ':one': 1,
        ':at': event.at,
        ':reason': event.reason,
        ...(user.addSource !== undefined ? { ':none': [], ':source': [user.addSource] } : {}),
        ...(user.lockUntil !== undefined ? { ':lock': user.lockUntil } : {}),
      };
      // The user item only if it exists: the condition fails for a user that does not, at the same cost.
      const counted = t
        .send('UpdateItem', (c) => c.send(new UpdateItemCommand({
          TableName: t.tableName,
          Key: toAttributes(keys.user(event.tenantId, event.username)),
          UpdateExpression: `ADD ${adds.join(', ')} SET ${sets.join(', ')}`,
          ConditionExpression: EXISTS,
          ExpressionAttributeValues: toAttributes(values),
        })))
        .catch((error: unknown) => {
          if (!isConditionFailed(error)) throw translateSdkError(error, 'UpdateItem');
        });
      const eventKey = keys.authEvent(event.tenantId, event.username, event.at, randomBytes(6).toString('hex'));
      const logged = t.send('PutItem', (c) => c.send(new PutItemCommand({ TableName: t.tableName, Item: toItem(eventKey, 'auth-event', event) })));
      const throttled = failure.throttles.map((th) =>
        t.send('UpdateItem', (c) => c.send(new UpdateItemCommand({
          TableName: t.tableName,
          Key: toAttributes(keys.authThrottle(th.key)),
          UpdateExpression: th.reset
            ? 'SET failures = :one, #key = :key, lastFailureAt = :at, expiresAtMs = :exp, #ttl = :ttl, itemType = :type'
            : 'ADD failures :one SET #key = :key, lastFailureAt = :at, expiresAtMs = :exp, #ttl = :ttl, itemType = :type',
          ExpressionAttributeNames: { '#key': 'key', '#ttl': 'expiresAt' },
          ExpressionAttributeValues: toAttributes({ ':one': 1, ':key': th.key, ':at': event.at, ':exp': th.expiresAt, ':ttl': ttlSeconds(th.expiresAt), ':type': 'auth-throttle' }),
        }))),
      );
      await Promise.all([counted, logged, ...throttled]);
    },

    async recordAuthEvent(event) {
      const eventKey = keys.authEvent(event.tenantId, event.username, event.at, randomBytes(6).toString('hex'));
      await t.send('PutItem', (c) => c.send(new PutItemCommand({ TableName: t.tableName, Item: toItem(eventKey, 'auth-event', event) })));
    },

    getAuthThrottle: (key) => t.get<AuthThrottle>(keys.authThrottle(key)),
    async deleteAuthThrottle(key) {
      await t.send('DeleteItem', (c) => c.send(new DeleteItemCommand({ TableName: t.tableName, Key: toAttributes(keys.authThrottle(key)) })));
    },
    /** Newest first; events past their TTL but not yet deleted by DynamoDB are left out. */
    listAuthEvents: (tenantId, username, page) =>
      t.queryPage<AuthEvent>(
        {
          KeyConditionExpression: 'PK = :pk',
          FilterExpression: '#ttl > :now',
          ExpressionAttributeNames: { '#ttl': 'expiresAtMs' },
          ExpressionAttributeValues: toAttributes({ ':pk': keys.authEventPk(tenantId, username), ':now': clock.now() }),
          ScanIndexForward: false,
        },
        page,
      ),
  };
}
