import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  ResourceNotFoundException,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  type AttributeDefinition,
  type DynamoDBClient,
  type GlobalSecondaryIndex,
} from '@aws-sdk/client-dynamodb';
import { TABLE_DEFINITION, type IndexDefinition, type TableDefinition } from '../table-definition';

/** Every key attribute the table and its indexes use, declared once. */
function attributeDefinitions(def: TableDefinition, indexes: readonly IndexDefinition[]): AttributeDefinition[] {
  const seen = new Map<string, 'S' | 'N'>();
  for (const key of [def.partitionKey, def.sortKey, ...indexes.flatMap((i) => [i.partitionKey, i.sortKey])]) {
    seen.set(key.name, key.type);
  }
  return [...seen].map(([AttributeName, AttributeType]) => ({ AttributeName, AttributeType }));
}

function toGsi(index: IndexDefinition): GlobalSecondaryIndex {
  return {
    IndexName: index.indexName,
    KeySchema: [
      { AttributeName: index.partitionKey.name, KeyType: 'HASH' },
      { AttributeName: index.sortKey.name, KeyType: 'RANGE' },
    ],
    Projection: { ProjectionType: index.projection },
  };
}

/**
 * Creates the table from TABLE_DEFINITION when missing, or adds indexes that a newer definition
 * introduced (one per UpdateTable call, as DynamoDB requires), and enables TTL. Idempotent.
 * Returns what it did, for the start-up banner.
 */
export async function ensureTable(
  client: DynamoDBClient,
  tableName: string,
  def: TableDefinition = TABLE_DEFINITION,
): Promise<'created' | 'updated' | 'unchanged'> {
  let existing;
  try {
    existing = (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
  let outcome: 'created' | 'updated' | 'unchanged' = 'unchanged';
  if (!existing) {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: attributeDefinitions(def, def.globalSecondaryIndexes),
        KeySchema: [
          { AttributeName: def.partitionKey.name, KeyType: 'HASH' },
          { AttributeName: def.sortKey.name, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: def.globalSecondaryIndexes.map(toGsi),
      }),
    );
    outcome = 'created';
  } else {
    const present = new Set((existing.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName));
    for (const index of def.globalSecondaryIndexes.filter((i) => !present.has(i.indexName))) {
      await client.send(
        new UpdateTableCommand({
          TableName: tableName,
          AttributeDefinitions: attributeDefinitions(def, [index]),
          GlobalSecondaryIndexUpdates: [{ Create: toGsi(index) }],
        }),
      );
      outcome = 'updated';
    }
  }
  const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
  if (ttl.TimeToLiveDescription?.TimeToLiveStatus !== 'ENABLED') {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: def.timeToLiveAttribute, Enabled: true },
      }),
    );
  }
  return outcome;
}
