/**
 * The one definition of the broker's DynamoDB table: key schema, indexes and TTL attribute.
 * Used by the CDK stack (infra/) and by the local stack's table creation, so the two can never
 * drift. Plain data only: no SDK or CDK imports here. See docs/data-model.md for item types.
 */

export interface KeyAttribute {
  readonly name: string;
  readonly type: 'S' | 'N';
}

export interface IndexDefinition {
  readonly indexName: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey: KeyAttribute;
  /** Every index projects all attributes: list queries render full items without a second read. */
  readonly projection: 'ALL';
  readonly purpose: string;
}

export interface TableDefinition {
  readonly partitionKey: KeyAttribute;
  readonly sortKey: KeyAttribute;
  readonly globalSecondaryIndexes: readonly IndexDefinition[];
  readonly timeToLiveAttribute: string;
}

export const TABLE_DEFINITION: TableDefinition = {
  partitionKey: { name: 'PK', type: 'S' },
  sortKey: { name: 'SK', type: 'S' },
  globalSecondaryIndexes: [
    {
      indexName: 'SessionsByTenant',
      partitionKey: { name: 'GSI1PK', type: 'S' },
      sortKey: { name: 'GSI1SK', type: 'S' },
      projection: 'ALL',
      purpose: 'sessions of a tenant, newest first by start time',
    },
    {
      indexName: 'SessionsByAgent',
      partitionKey: { name: 'GSI2PK', type: 'S' },
      sortKey: { name: 'GSI2SK', type: 'S' },
      projection: 'ALL',
      purpose: 'sessions served by an agent (reaper, reconciliation, operator filter)',
    },
    {
      indexName: 'SessionsByUser',
      partitionKey: { name: 'GSI3PK', type: 'S' },
      sortKey: { name: 'GSI3SK', type: 'S' },
      projection: 'ALL',
      purpose: 'sessions of one user of one tenant (per-user quota, operator filter)',
    },
    {
      indexName: 'SessionsByState',
      partitionKey: { name: 'GSI4PK', type: 'S' },
      sortKey: { name: 'GSI4SK', type: 'S' },
      projection: 'ALL',
      purpose: 'sessions in a state (active/stopped) across the fleet',
    },
    {
      indexName: 'ByKind',
      partitionKey: { name: 'GSI5PK', type: 'S' },
      sortKey: { name: 'GSI5SK', type: 'S' },
      projection: 'ALL',
      purpose: 'list every item of a kind (tenants, agents) without a scan',
    },
  ],
  timeToLiveAttribute: 'expiresAt',
};

/** Default table name for the local stack; the CDK stack passes its own name to the functions. */
export const DEFAULT_TABLE_NAME = 'tunnel-broker';
