import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestStore } from '../../support/test-store';

test('createTestStore gives a working store on a fresh table', async () => {
  const t = await createTestStore();
  try {
    await t.store.ping();
    await t.store.createTenant({ tenantId: 'acme', name: 'Acme', authMethods: ['mschapv2'], createdAt: 1 });
    assert.deepEqual(await t.store.getTenant('acme'), { tenantId: 'acme', name: 'Acme', authMethods: ['mschapv2'], createdAt: 1 });
  } finally {
    await t.close();
  }
});
