/**
 * Issue 18: every error is of the documented family (docs/api.md "Errors"), with a hint. A body
 * that is not JSON was `415 http-error`; a wrong method was `404 route-not-found`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ERROR_HINTS } from '../../../functions/src/error-codes';
import { ADMIN_TOKEN, createHarness, type ApiResponse, type Harness } from '../../support/api-harness';

let h: Harness;
before(async () => {
  h = await createHarness();
});
after(async () => {
  await h?.close();
});

function assertFamily(res: ApiResponse, status: number, code: string): void {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.body.error.code, code);
  assert.equal(res.body.error.hint, ERROR_HINTS[code as keyof typeof ERROR_HINTS]);
}

test('a body without Content-Type: application/json is 415 unsupported-media-type, and nothing is created', async () => {
  const body = JSON.stringify({ tenantId: 'plain', name: 'Plain' });
  const wrongType = await h.call('POST', '/v1/tenants', { token: ADMIN_TOKEN, rawBody: body, headers: { 'content-type': 'text/plain' } });
  assertFamily(wrongType, 415, 'unsupported-media-type');
  assert.match(wrongType.body.error.message, /application\/json/);
  const noType = await h.call('POST', '/v1/tenants', { token: ADMIN_TOKEN, rawBody: body });
  assertFamily(noType, 415, 'unsupported-media-type');
  assert.equal((await h.admin('GET', '/v1/tenants/plain')).status, 404);
});

test('a wrong method on a known path is 405 with Allow; an unknown path is 404 route-not-found', async () => {
  const put = await h.admin('PUT', '/v1/sessions');
  assertFamily(put, 405, 'http-method-not-allowed');
  assert.equal(put.headers.get('allow'), 'GET');
  const onParam = await h.admin('PUT', '/v1/agents/some-agent');
  assertFamily(onParam, 405, 'http-method-not-allowed');
  assert.match(onParam.headers.get('allow') ?? '', /DELETE/);
  assertFamily(await h.admin('GET', '/v1/nothing-here'), 404, 'route-not-found');
});

test('the usual refusals carry their hint too', async () => {
  assertFamily(await h.call('GET', '/v1/agents'), 401, 'unauthorized');
  assertFamily(await h.admin('GET', '/v1/tenants/nobody'), 404, 'not-found');
  assertFamily(await h.admin('POST', '/v1/tenants', { tenantId: 'Bad Id!', name: 'x' }), 400, 'validation-failed');
  assertFamily(await h.call('POST', '/v1/tenants', { token: ADMIN_TOKEN, rawBody: '{not json', headers: { 'content-type': 'application/json' } }), 400, 'bad-request');
});
