/**
 * The Store contract on the DynamoDB store, against DynamoDB Local; and what only DynamoDB has: the
 * TTL attribute DynamoDB sweeps by is epoch seconds beside the record's milliseconds.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { storeContract } from '../../support/store-contract';
import { createTestStore, type TestStore } from '../../support/test-store';
import { tenant, user } from '../../support/store-fixtures';

storeContract('DynamoDB Local', async ({ clock }) => {
  const t = await createTestStore({ clock });
  return { store: t.store, close: () => t.close() };
});

let t: TestStore;
const now = 50_000;
before(async () => {
  t = await createTestStore({ clock: { now: () => now } });
});
after(() => t.close());

test('an auth event keeps its expiry in ms and the TTL attribute in epoch seconds', async () => {
  await t.store.createTenant(tenant({ tenantId: 'ttl' }));
  await t.store.createUser(user({ tenantId: 'ttl', username: 'carol' }));
  const expiresAt = now + 86_400_000 + 1;
  await t.store.recordAuthFailure({
    event: { tenantId: 'ttl', username: 'carol', at: now, kind: 'failure', method: 'pap', reason: 'x', expiresAt },
    user: {},
    throttles: [],
  });
  assert.equal((await t.store.listAuthEvents('ttl', 'carol', { limit: 1 })).items[0]?.expiresAt, expiresAt);
  const raw = await t.client.send(
    new QueryCommand({ TableName: t.tableName, KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': { S: 'USEREVT#ttl#carol' } }, Limit: 1 }),
  );
  assert.equal(raw.Items?.[0]?.expiresAt?.N, String(Math.ceil(expiresAt / 1000)));
});
