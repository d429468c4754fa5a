import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

export interface DynamoClientOptions {
  /** Set for DynamoDB Local (e.g. http://127.0.0.1:8000); undefined in AWS. */
  readonly endpoint?: string;
  readonly region?: string;
  readonly maxAttempts?: number;
}

/**
 * Builds the SDK client. Against DynamoDB Local any static credentials work, so the local stack
 * and tests need no AWS account. In AWS, the default provider chain supplies credentials.
 */
export function createDynamoClient(options: DynamoClientOptions = {}): DynamoDBClient {
  const local = options.endpoint !== undefined;
  return new DynamoDBClient({
    region: options.region ?? 'us-east-1',
    maxAttempts: options.maxAttempts ?? 5,
    ...(local
      ? { endpoint: options.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
      : {}),
  });
}
