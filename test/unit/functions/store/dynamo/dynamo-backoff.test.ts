/**
 * The DynamoDB store's retries wait through the injected sleep (issue 17: the store's backoff
 * called setTimeout directly). Only the waits are under test here, so the client is a scripted
 * fake that answers with the SDK's own exception types; everything else runs on DynamoDB Local
 * (test/integration/store).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TransactionCanceledException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { StoreUnavailableError } from '../../../../../functions/src/domain/store-errors';
import { createDynamoStore } from '../../../../../functions/src/store/dynamo';
import { leaseFor, session } from '../../../../support/store-fixtures';

/** A client whose `send` answers each command with the next scripted reply (an error is thrown). */
function scriptedClient(replies: readonly unknown[]) {
  const sent: string[] = [];
  let next = 0;
  const client = {
    send: async (command: object) => {
      sent.push(command.constructor.name);
      const reply = replies[Math.min(next++, replies.length - 1)];
      if (reply instanceof Error) throw reply;
      return reply;
    },
  } as unknown as DynamoDBClient;
  return { client, sent };
}

const conflict = () =>
  new TransactionCanceledException({
    message: 'Transaction cancelled',
    $metadata: { httpStatusCode: 400 },
    CancellationReasons: [{ Code: 'None' }, { Code: 'TransactionConflict' }],
  });

function recordingSleep() {
  const waits: number[] = [];
  return { waits, sleep: async (ms: number) => void waits.push(ms) };
}

describe('the DynamoDB store waits through the injected sleep', () => {
  test('a start that meets a TransactionConflict backs off through it, then succeeds', async () => {
    const { client, sent } = scriptedClient([conflict(), conflict(), {}]);
    const { waits, sleep } = recordingSleep();
    const store = createDynamoStore({ client, tableName: 'tb-test', coalesce: false, sleep });
    const s = session();
    assert.deepEqual(await store.startSession(s, leaseFor(s)), { outcome: 'created' });
    assert.deepEqual(sent, ['TransactWriteItemsCommand', 'TransactWriteItemsCommand', 'TransactWriteItemsCommand']);
    assert.equal(waits.length, 2);
    // Full jitter under a cap that doubles: attempt 0 waits at most 10 ms, attempt 1 at most 20 ms.
    assert.ok(waits[0]! >= 0 && waits[0]! <= 10 && waits[1]! >= 0 && waits[1]! <= 20, String(waits));
  });

  test('a start that keeps conflicting gives up as unavailable after its attempts, every wait injected', async () => {
    const { client } = scriptedClient([conflict()]);
    const { waits, sleep } = recordingSleep();
    const store = createDynamoStore({ client, tableName: 'tb-test', coalesce: false, sleep });
    const s = session();
    await assert.rejects(store.startSession(s, leaseFor(s)), StoreUnavailableError);
    assert.equal(waits.length, 24, 'one wait between each of the 25 attempts');
    assert.ok(waits.every((ms) => ms <= 1_000), 'capped at 1 s');
  });

  test('acknowledged commands left unprocessed are sent again after a doubling wait', async () => {
    const unprocessed = (n: number) => ({
      UnprocessedItems: { 'tb-test': Array.from({ length: n }, () => ({ DeleteRequest: { Key: {} } })) },
    });
    const { client, sent } = scriptedClient([unprocessed(2), unprocessed(1), {}]);
    const { waits, sleep } = recordingSleep();
    const store = createDynamoStore({ client, tableName: 'tb-test', coalesce: false, sleep });
    await store.ackAgentCommands('a1', ['c1', 'c2', 'c3']);
    assert.equal(sent.length, 3);
    assert.deepEqual(waits, [40, 80]);
  });
});
