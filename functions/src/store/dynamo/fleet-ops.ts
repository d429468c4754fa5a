/**
 * Fleet-wide records: API keys (`APIKEY#<id>`), the IPsec settings (`FLEET` / `IPSEC`) and the
 * KMS-wrapped data keys (`FLEET` / `DATAKEY#<id>`).
 */
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { Store } from '../../domain/store';
import { AlreadyExistsError, NotFoundError } from '../../domain/store-errors';
import type { ApiKey, IpsecSettings, WrappedDataKey } from '../../domain/types';
import { toAttributes, toItem } from './item-codec';
import { createItem, kindKeys, listByKind, updateItem } from './item-writes';
import { keys } from './keys';
import { translateSdkError } from './sdk-errors';
import type { Table } from './table';

export type FleetOps = Pick<
  Store,
  'createApiKey' | 'getApiKey' | 'listApiKeys' | 'revokeApiKey' | 'getIpsecSettings' | 'putIpsecSettings' | 'listWrappedDataKeys' | 'putWrappedDataKey'
>;

export function fleetOps(t: Table): FleetOps {
  return {
    async createApiKey(key) {
      const k = keys.apiKey(key.keyId);
      await createItem(t, toItem(k, 'api-key', key, kindKeys('api-key', keys.apiKeySort(key.tenantId, key.keyId))), { entity: 'api key', id: key.keyId });
    },

    getApiKey: (keyId) => t.get<ApiKey>(keys.apiKey(keyId)),

    listApiKeys: (filter, page) =>
      listByKind<ApiKey>(t, 'api-key', page, filter.tenantId !== undefined ? { prefix: keys.apiKeySort(filter.tenantId, '') } : {}),

    async revokeApiKey(keyId) {
      try {
        await updateItem<ApiKey>(t, keys.apiKey(keyId), { entity: 'api key', id: keyId }, { update: 'SET revoked = :t', values: { ':t': true } });
        return true;
      } catch (error) {
        if (error instanceof NotFoundError) return false;
        throw error;
      }
    },

    getIpsecSettings: () => t.get<IpsecSettings>(keys.ipsec()),

    async putIpsecSettings(settings) {
      try {
        await t.send('PutItem', (c) => c.send(new PutItemCommand({ TableName: t.tableName, Item: toItem(keys.ipsec(), 'ipsec-settings', settings) })));
      } catch (error) {
        throw translateSdkError(error, 'PutItem');
      }
    },

    async listWrappedDataKeys() {
      const found = await t.queryAll<WrappedDataKey>({
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
        ExpressionAttributeValues: toAttributes({ ':pk': keys.dataKey('').PK, ':prefix': keys.dataKeyPrefix }),
        ConsistentRead: true,
      });
      return found.sort((a, b) => a.createdAt - b.createdAt || a.keyId.localeCompare(b.keyId));
    },

    async putWrappedDataKey(key) {
      try {
        await createItem(t, toItem(keys.dataKey(key.keyId), 'data-key', key), { entity: 'data key', id: key.keyId });
        return true;
      } catch (error) {
        if (error instanceof AlreadyExistsError) return false;
        throw error;
      }
    },
  };
}
