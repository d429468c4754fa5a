import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HTTPException } from 'hono/http-exception';
import { describeError } from '../../../../functions/src/http/error-handler';
import { ERROR_HINTS } from '../../../../functions/src/error-codes';
import { ConflictError, ForbiddenError, NotFoundError, QuotaExceededError, ValidationError } from '../../../../functions/src/errors';
import { PoolExhaustedError } from '../../../../functions/src/domain/ip-allocation';
import { AlreadyExistsError, StoreUnavailableError } from '../../../../functions/src/domain/store-errors';

test('each error kind maps to one status and a stable code', () => {
  const cases: [unknown, number, string, string?][] = [
    [new ValidationError('name', 'bad'), 400, 'validation-failed', 'name'],
    [new ForbiddenError('no'), 403, 'forbidden'],
    [new NotFoundError('tenant', 'x'), 404, 'not-found'],
    [new ConflictError('tenant-exists', 'dup', 'tenantId'), 409, 'tenant-exists', 'tenantId'],
    [new QuotaExceededError('full'), 409, 'quota-exceeded'],
    [new PoolExhaustedError('acme', ['main']), 503, 'pool-exhausted'],
    [new AlreadyExistsError('pool', 'p'), 409, 'already-exists'],
    [new StoreUnavailableError('down'), 503, 'service-unavailable'],
    [new HTTPException(400, { message: 'Malformed JSON' }), 400, 'bad-request'],
    [new HTTPException(415, { message: 'Unsupported Media Type' }), 415, 'unsupported-media-type'],
    [new HTTPException(504, { message: 'late' }), 504, 'timeout'],
    [new HTTPException(418), 400, 'bad-request'],
  ];
  for (const [error, status, code, field] of cases) {
    const described = describeError(error);
    assert.equal(described.status, status, code);
    assert.equal(described.body.error.code, code);
    assert.equal(described.body.error.field, field);
    assert.equal(described.body.error.hint, ERROR_HINTS[described.body.error.code], `${code} carries its hint`);
  }
});

test('unexpected errors are 500 without leaking their message', () => {
  const described = describeError(new Error('secret table name in stack'));
  assert.equal(described.status, 500);
  assert.deepEqual(described.body, { error: { code: 'internal', message: 'internal error', hint: ERROR_HINTS.internal } });
});
