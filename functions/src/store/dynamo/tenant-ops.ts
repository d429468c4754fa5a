/** Tenant items: `TENANT#<id>` / `META`, listed through ByKind. */
import { DeleteItemCommand } from '@aws-sdk/client-dynamodb';
import type { Store } from '../../domain/store';
import type { Tenant } from '../../domain/types';
import { toAttributes, toItem } from './item-codec';
import { createItem, EXISTS, kindKeys, listByKind, setExpression, updateItem } from './item-writes';
import { keys } from './keys';
import { isConditionFailed, translateSdkError } from './sdk-errors';
import type { Table } from './table';

export type TenantOps = Pick<Store, 'createTenant' | 'getTenant' | 'listTenants' | 'updateTenant' | 'deleteTenant'>;

export function tenantOps(t: Table): TenantOps {
  return {
    async createTenant(tenant) {
      const key = keys.tenant(tenant.tenantId);
      await createItem(t, toItem(key, 'tenant', tenant, kindKeys('tenant', tenant.tenantId)), { entity: 'tenant', id: tenant.tenantId });
    },
    getTenant: (tenantId) => t.get<Tenant>(keys.tenant(tenantId)),
    listTenants: (page) => listByKind<Tenant>(t, 'tenant', page),

    async updateTenant(tenantId, changes) {
      const kept = Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== null));
      const removed = Object.entries(changes).filter(([, v]) => v === null).map(([k]) => k);
      const { set, names, values } = setExpression(kept);
      removed.forEach((name, i) => (names[`#r${i}`] = name));
      const remove = removed.length > 0 ? ` REMOVE ${removed.map((_, i) => `#r${i}`).join(', ')}` : '';
      return updateItem<Tenant>(t, keys.tenant(tenantId), { entity: 'tenant', id: tenantId }, { update: `SET ${set}${remove}`, names, values });
    },

    async deleteTenant(tenantId) {
      try {
        await t.send('DeleteItem', (c) =>
          c.send(new DeleteItemCommand({ TableName: t.tableName, Key: toAttributes(keys.tenant(tenantId)), ConditionExpression: EXISTS })),
        );
        return true;
      } catch (error) {
        if (isConditionFailed(error)) return false;
        throw translateSdkError(error, 'DeleteItem');
      }
    },
  };
}
