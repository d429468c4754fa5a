/**
 * Child process of allocation-concurrency.test.ts: runs COUNT concurrent startSessionWithAddress
 * calls against one tenant's pools and prints one JSON line with what happened.
 * Env: DYNAMODB_ENDPOINT, TABLE_NAME, WORKER, COUNT, TENANT, AGENT.
 */
import { createDynamoClient, createDynamoStore } from '../../../functions/src/store/dynamo';
import { parsePools, PoolExhaustedError, startSessionWithAddress } from '../../../functions/src/domain/ip-allocation';
import { systemClock } from '../../../functions/src/domain/types';
import { user } from '../../support/store-fixtures';

const env = process.env;
const client = createDynamoClient({ endpoint: env.DYNAMODB_ENDPOINT!, maxAttempts: 10 });
const store = createDynamoStore({ client, tableName: env.TABLE_NAME! });
const worker = Number(env.WORKER);
const count = Number(env.COUNT);
const tenant = (await store.getTenant(env.TENANT!))!;
const pools = parsePools(await store.listPools(tenant.tenantId));

const outcomes = await Promise.all(
  Array.from({ length: count }, async (_, i) => {
    try {
      const { session, created } = await startSessionWithAddress(store, systemClock, {
        tenant,
        user: user({ tenantId: tenant.tenantId, username: `w${worker}-u${i}` }),
        pools,
        agentId: env.AGENT!,
        agentSessionRef: `w${worker}-ref-${i}`,
        tunnelId: worker + 1,
        l2tpSessionId: i + 1,
        authMethod: 'mschapv2',
      });
      return { kind: 'created' as const, sessionId: session.sessionId, ip: session.assignedIp, created };
    } catch (error) {
      if (error instanceof PoolExhaustedError) return { kind: 'exhausted' as const, message: error.message, tenantId: error.tenantId, poolIds: error.poolIds };
      return { kind: 'error' as const, message: String((error as Error)?.stack ?? error) };
    }
  }),
);
process.stdout.write(JSON.stringify(outcomes) + '\n');
client.destroy();
