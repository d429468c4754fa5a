/**
 * The broker's Store on one DynamoDB table (key layout: docs/data-model.md), put together from one
 * module per entity (tenant-ops.ts, user-ops.ts, auth-ops.ts, pool-ops.ts, session-ops.ts,
 * session-list.ts, agent-ops.ts, fleet-ops.ts, idempotency-ops.ts, audit-ops.ts, accounting-ops.ts). The SDK client is injected;
 * invariants are condition expressions; failed conditions become the domain's store errors
 * (domain/store-errors.ts) or outcome values, never SDK exceptions.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Store } from '../../domain/store';
import { systemClock, type Clock } from '../../domain/types';
import { accountingOps } from './accounting-ops';
import { agentOps } from './agent-ops';
import { auditOps } from './audit-ops';
import { authOps } from './auth-ops';
import { createDynamoClient } from './client';
import { fleetOps } from './fleet-ops';
import { idempotencyOps } from './idempotency-ops';
import { keys } from './keys';
import { poolOps } from './pool-ops';
import { sessionListOps } from './session-list';
import { sessionOps } from './session-ops';
import { Table, type Sleep } from './table';
import { tenantOps } from './tenant-ops';
import { userOps } from './user-ops';

export interface DynamoStoreOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** Used only to treat expired TTL items (deleted lazily by DynamoDB) as absent. */
  readonly clock?: Clock;
  /** Merge reads and transactions of one event-loop turn into fewer requests (table.ts). @default true */
  readonly coalesce?: boolean;
  /** How the store's retries wait (transaction conflicts, unprocessed batch items). @default a setTimeout */
  readonly sleep?: Sleep;
}

export interface DynamoStore extends Store {
  readonly tableName: string;
}

export function createDynamoStore(options: DynamoStoreOptions): DynamoStore {
  const table = new Table(options.client, options.tableName, {
    ...(options.coalesce === undefined ? {} : { coalesce: options.coalesce }),
    ...(options.sleep ? { sleep: options.sleep } : {}),
  });
  const clock = options.clock ?? systemClock;
  return {
    tableName: table.tableName,
    async ping() {
      // A GetItem (not DescribeTable) so the functions need no extra IAM permission.
      await table.getRaw(keys.ping(), false);
    },
    ...tenantOps(table),
    ...userOps(table),
    ...authOps(table, clock),
    ...poolOps(table),
    ...sessionOps(table),
    ...sessionListOps(table),
    ...agentOps(table),
    ...fleetOps(table),
    ...idempotencyOps(table, clock),
    ...auditOps(table),
    ...accountingOps(table),
  };
}

/** The store of a table at an endpoint (DynamoDB Local) or in a region (AWS), as entry points' config describes it. */
export function connectDynamoStore(table: { readonly tableName: string; readonly endpoint?: string; readonly region?: string }): DynamoStore {
  const client = createDynamoClient({ ...(table.endpoint ? { endpoint: table.endpoint } : {}), ...(table.region ? { region: table.region } : {}) });
  return createDynamoStore({ client, tableName: table.tableName });
}
