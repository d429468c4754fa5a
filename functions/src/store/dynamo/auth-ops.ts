/**
 * The writes of a failed authentication (domain/auth-service.ts): all at once, and the same
 * requests whether or not the user exists, so neither the answer's timing nor the store load tells.
 */
import { PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { randomBytes } from 'node:crypto';
import type { AuthFailureWrite } from '../../domain/store';
import { toAttributes, toItem } from './item-codec';
import { keys, ttlSeconds } from './keys';
import { isConditionFailed, translateSdkError } from './sdk-errors';
import type { Table } from './table';

const EXISTS = 'attribute_exists(PK)';

export async function recordAuthFailure(t: Table, failure: AuthFailureWrite): Promise<void> {
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
}
