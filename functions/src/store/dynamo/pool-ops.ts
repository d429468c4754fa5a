/**
 * Pools (`TENANT#<tenant>` / `POOL#<id>`), the fleet's pool registry (`FLEET` / `POOLS`) and the
 * leases of a pool (`LEASE#<tenant>#<pool>` / `<ip>`; written by session-ops.ts).
 */
import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import type { Store } from '../../domain/store';
import { AlreadyExistsError, NotFoundError, PoolRegistryChangedError } from '../../domain/store-errors';
import type { Lease, Pool, PoolRegistry } from '../../domain/types';
import { toAttributes, toItem } from './item-codec';
import { createItem, EXISTS, NOT_EXISTS } from './item-writes';
import { keys } from './keys';
import { cancellationCodes, translateSdkError } from './sdk-errors';
import type { Table } from './table';

export type PoolOps = Pick<Store, 'createPool' | 'updatePool' | 'deletePool' | 'getPoolRegistry' | 'getPool' | 'listPools' | 'listLeases'>;

/** The registry Put of a transaction: replaced by `next` only if still at `read.revision` (absent for 0). */
function registryPut(TableName: string, read: PoolRegistry, next: PoolRegistry): TransactWriteItem {
  return {
    // The registry is the fleet-wide overlap check's lock: unchanged since it was read, or absent if it was.
    Put: {
      TableName,
      Item: toItem(keys.poolRegistry(), 'pool-registry', next),
      ...(read.revision === 0
        ? { ConditionExpression: NOT_EXISTS }
        : { ConditionExpression: '#rev = :rev', ExpressionAttributeNames: { '#rev': 'revision' }, ExpressionAttributeValues: toAttributes({ ':rev': read.revision }) }),
    },
  };
}

export function poolOps(t: Table): PoolOps {
  return {
    async createPool(pool, registry) {
      const key = keys.pool(pool.tenantId, pool.poolId);
      const parent = { key: keys.tenant(pool.tenantId), entity: 'tenant', id: pool.tenantId };
      const id = `${pool.tenantId}/${pool.poolId}`;
      if (!registry) {
        await createItem(t, toItem(key, 'pool', pool), { entity: 'pool', id }, parent);
        return;
      }
      const next: PoolRegistry = {
        revision: registry.revision + 1,
        pools: [...registry.pools, { tenantId: pool.tenantId, poolId: pool.poolId, cidr: pool.cidr }],
      };
      const TableName = t.tableName;
      try {
        await t.transact([
          { ConditionCheck: { TableName, Key: toAttributes(parent.key), ConditionExpression: EXISTS } },
          { Put: { TableName, Item: toItem(key, 'pool', pool), ConditionExpression: NOT_EXISTS } },
          registryPut(TableName, registry, next),
        ]);
      } catch (error) {
        const codes = cancellationCodes(error);
        if (codes?.[0] === 'ConditionalCheckFailed') throw new NotFoundError(parent.entity, parent.id, { cause: error });
        if (codes?.[1] === 'ConditionalCheckFailed') throw new AlreadyExistsError('pool', id, { cause: error });
        if (codes?.[2] === 'ConditionalCheckFailed') throw new PoolRegistryChangedError({ cause: error });
        throw translateSdkError(error, 'TransactWriteItems');
      }
    },

    async updatePool(pool, registry) {
      const key = keys.pool(pool.tenantId, pool.poolId);
      const id = `${pool.tenantId}/${pool.poolId}`;
      const put = { TableName: t.tableName, Item: toItem(key, 'pool', pool), ConditionExpression: EXISTS };
      const items: TransactWriteItem[] = [{ Put: put }];
      if (registry) {
        const claims = registry.pools.filter((p) => !(p.tenantId === pool.tenantId && p.poolId === pool.poolId));
        items.push(registryPut(t.tableName, registry, { revision: registry.revision + 1, pools: [...claims, { tenantId: pool.tenantId, poolId: pool.poolId, cidr: pool.cidr }] }));
      }
      try {
        await t.transact(items);
      } catch (error) {
        const codes = cancellationCodes(error);
        if (codes?.[0] === 'ConditionalCheckFailed') throw new NotFoundError('pool', id, { cause: error });
        if (codes?.[1] === 'ConditionalCheckFailed') throw new PoolRegistryChangedError({ cause: error });
        throw translateSdkError(error, 'TransactWriteItems');
      }
    },

    async deletePool(tenantId, poolId, registry) {
      const items: TransactWriteItem[] = [{ Delete: { TableName: t.tableName, Key: toAttributes(keys.pool(tenantId, poolId)), ConditionExpression: EXISTS } }];
      if (registry) {
        const claims = registry.pools.filter((p) => !(p.tenantId === tenantId && p.poolId === poolId));
        items.push(registryPut(t.tableName, registry, { revision: registry.revision + 1, pools: claims }));
      }
      try {
        await t.transact(items);
        return true;
      } catch (error) {
        const codes = cancellationCodes(error);
        if (codes?.[0] === 'ConditionalCheckFailed') return false;
        if (codes?.[1] === 'ConditionalCheckFailed') throw new PoolRegistryChangedError({ cause: error });
        throw translateSdkError(error, 'TransactWriteItems');
      }
    },

    getPoolRegistry: () => t.get<PoolRegistry>(keys.poolRegistry()),

    getPool: (tenantId, poolId) => t.get<Pool>(keys.pool(tenantId, poolId)),

    listPools: (tenantId) =>
      t.queryAll<Pool>({
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
        ExpressionAttributeValues: toAttributes({ ':pk': keys.tenant(tenantId).PK, ':prefix': keys.poolPrefix }),
        ConsistentRead: true,
      }),

    listLeases: (tenantId, poolId) =>
      t.queryAll<Lease>({
        KeyConditionExpression: 'PK = :pk',
        ExpressionAttributeValues: toAttributes({ ':pk': keys.leasePk(tenantId, poolId) }),
        ConsistentRead: true,
      }),
  };
}
