/**
 * A fresh DynamoStore on its own uniquely named table, for integration tests.
 *
 * Uses the DynamoDB Local that `npm test` started (env DYNAMODB_ENDPOINT); when that is unset
 * (a single file run with `node --import tsx --test <file>`), starts a private DynamoDB Local,
 * shared by every store of this process and stopped when the last one is closed.
 */
import { randomBytes } from 'node:crypto';
import { DeleteTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDynamoClient, createDynamoStore, ensureTable, type DynamoStore } from '../../functions/src/store/dynamo';
import type { Clock } from '../../functions/src/domain/types';
import { startDynamoDbLocal, type DynamoDbLocal } from '../../scripts/lib/dynamodb-local';

export interface TestStore {
  readonly store: DynamoStore;
  readonly client: DynamoDBClient;
  readonly tableName: string;
  readonly endpoint: string;
  /** Deletes the table, destroys the client, and stops a private DynamoDB Local when unused. */
  close(): Promise<void>;
}

let privateLocal: Promise<DynamoDbLocal> | undefined;
let users = 0;

async function endpoint(): Promise<{ endpoint: string; release: () => Promise<void> }> {
  const shared = process.env.DYNAMODB_ENDPOINT;
  if (shared) return { endpoint: shared, release: async () => {} };
  privateLocal ??= startDynamoDbLocal();
  users++;
  const local = await privateLocal;
  return {
    endpoint: local.endpoint,
    release: async () => {
      if (--users > 0) return;
      privateLocal = undefined;
      await local.stop();
    },
  };
}

/** Unique, valid DynamoDB table name. */
export function uniqueTableName(prefix = 'test'): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

export async function createTestStore(options: { clock?: Clock; tableName?: string } = {}): Promise<TestStore> {
  const { endpoint: url, release } = await endpoint();
  const client = createDynamoClient({ endpoint: url });
  const tableName = options.tableName ?? uniqueTableName();
  try {
    await ensureTable(client, tableName);
  } catch (error) {
    client.destroy();
    await release();
    throw error;
  }
  const store = createDynamoStore({ client, tableName, ...(options.clock ? { clock: options.clock } : {}) });
  let closed = false;
  return {
    store,
    client,
    tableName,
    endpoint: url,
    async close() {
      if (closed) return;
      closed = true;
      try {
        await client.send(new DeleteTableCommand({ TableName: tableName }));
      } catch {
        // The table vanishes with the emulator anyway; a failed cleanup must not fail the test.
      }
      client.destroy();
      await release();
    },
  };
}
