/** Tenant items: `TENANT#<id>` / `META`, listed through ByKind. */
import type { Store } from '../../domain/store';
import type { Tenant } from '../../domain/types';
import { toItem } from './item-codec';
import { createItem, kindKeys, listByKind } from './item-writes';
import { keys } from './keys';
import type { Table } from './table';

export type TenantOps = Pick<Store, 'createTenant' | 'getTenant' | 'listTenants'>;

export function tenantOps(t: Table): TenantOps {
  return {
    async createTenant(tenant) {
      const key = keys.tenant(tenant.tenantId);
      await createItem(t, toItem(key, 'tenant', tenant, kindKeys('tenant', tenant.tenantId)), { entity: 'tenant', id: tenant.tenantId });
    },
    getTenant: (tenantId) => t.get<Tenant>(keys.tenant(tenantId)),
    listTenants: (page) => listByKind<Tenant>(t, 'tenant', page),
  };
}
