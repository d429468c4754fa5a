/** User items: `TENANT#<tenant>` / `USER#<name>`, under a tenant that must exist. */
import { DeleteItemCommand } from '@aws-sdk/client-dynamodb';
import type { Store } from '../../domain/store';
import { NotFoundError } from '../../domain/store-errors';
import type { User } from '../../domain/types';
import { toAttributes, toItem } from './item-codec';
import { createItem, EXISTS, setExpression, updateItem } from './item-writes';
import { keys } from './keys';
import { isConditionFailed, translateSdkError } from './sdk-errors';
import type { Table } from './table';

export type UserOps = Pick<Store, 'createUser' | 'getUser' | 'listUsers' | 'deleteUser' | 'updateUser' | 'replaceUserCredentials' | 'clearAuthFailures'>;

const named = (tenantId: string, username: string) => ({ entity: 'user', id: `${tenantId}/${username}` });

export function userOps(t: Table): UserOps {
  return {
    async createUser(user) {
      const key = keys.user(user.tenantId, user.username);
      await createItem(t, toItem(key, 'user', user), named(user.tenantId, user.username), {
        key: keys.tenant(user.tenantId),
        entity: 'tenant',
        id: user.tenantId,
      });
    },

    getUser: (tenantId, username) => t.get<User>(keys.user(tenantId, username)),

    listUsers: (tenantId, page) =>
      t.queryPage<User>(
        {
          KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
          ExpressionAttributeValues: toAttributes({ ':pk': keys.tenant(tenantId).PK, ':prefix': keys.userPrefix }),
          ConsistentRead: true,
        },
        page,
      ),

    async deleteUser(tenantId, username) {
      try {
        await t.send('DeleteItem', (c) =>
          c.send(new DeleteItemCommand({ TableName: t.tableName, Key: toAttributes(keys.user(tenantId, username)), ConditionExpression: EXISTS })),
        );
        return true;
      } catch (error) {
        if (isConditionFailed(error)) return false;
        throw translateSdkError(error, 'DeleteItem');
      }
    },

    async updateUser(tenantId, username, changes) {
      const { staticIp, ...rest } = changes;
      const { set, names, values } = setExpression({ ...rest, ...(staticIp !== null ? { staticIp } : {}) });
      const remove = staticIp === null ? ' REMOVE staticIp' : '';
      return updateItem<User>(t, keys.user(tenantId, username), named(tenantId, username), { update: `SET ${set}${remove}`, names, values });
    },

    async replaceUserCredentials(tenantId, username, credentials, expected) {
      try {
        await updateItem<User>(t, keys.user(tenantId, username), named(tenantId, username), {
          update: 'SET credentials = :new',
          condition: 'credentials = :old',
          values: { ':new': credentials, ':old': expected },
        });
        return true;
      } catch (error) {
        if (error instanceof NotFoundError) return false;
        throw error;
      }
    },

    async clearAuthFailures(tenantId, username) {
      await updateItem<User>(t, keys.user(tenantId, username), named(tenantId, username), {
        update: 'SET failedAttempts = :zero REMOVE lockedUntil, failureSources, lockCount',
        values: { ':zero': 0 },
      });
    },
  };
}
