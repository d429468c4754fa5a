export { connectDynamoStore, createDynamoStore, type DynamoStore, type DynamoStoreOptions } from './dynamo-store';
export { createDynamoClient, type DynamoClientOptions } from './client';
export { ensureTable } from './ensure-table';
