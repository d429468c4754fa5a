/**
 * Throttling: DynamoDB answers ThrottlingException a few times (injected below the SDK's retry
 * middleware, so the real retry strategy sees it); the store call still succeeds after backoff, and
 * persistent throttling surfaces as StoreUnavailableError (HTTP 503), never as an SDK exception.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { StoreUnavailableError } from '../../../functions/src/domain/store-errors';
import { createTestStore, type TestStore } from '../../support/test-store';
import { tenant } from '../../support/store-fixtures';

describe('store under throttling', () => {
  let t: TestStore;
  let throttleNext = 0;
  let attempts = 0;
  before(async () => {
    t = await createTestStore();
    await t.store.createTenant(tenant({ tenantId: 'throttled' }));
    t.client.middlewareStack.add(
      (next) => async (args) => {
        attempts++;
        if (throttleNext > 0) {
          throttleNext--;
          throw Object.assign(new Error('Rate of requests exceeds the allowed throughput.'), {
            name: 'ThrottlingException',
            $fault: 'client',
            $metadata: { httpStatusCode: 400 },
          });
        }
        return next(args);
      },
      { step: 'finalizeRequest', priority: 'low', name: 'injectThrottling' },
    );
  });
  after(async () => {
    await t?.close();
  });

  test('a few throttled attempts are retried with backoff and the read succeeds', async () => {
    attempts = 0;
    throttleNext = 2;
    const started = Date.now();
    const found = await t.store.getTenant('throttled');
    assert.equal(found?.tenantId, 'throttled');
    assert.equal(attempts, 3, 'two throttled attempts, then the real one');
    assert.ok(Date.now() - started >= 1, 'the retries waited');
  });

  test('persistent throttling becomes StoreUnavailableError after the SDK gives up', async () => {
    attempts = 0;
    throttleNext = 100;
    await assert.rejects(t.store.getTenant('throttled'), StoreUnavailableError);
    assert.equal(attempts, 5, 'maxAttempts of the client');
    throttleNext = 0;
  });
});
