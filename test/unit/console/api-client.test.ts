import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError, apiPath, createApiClient, describeError, isUnauthorized, type FetchLike } from '../../../console/src/api-client';

function fakeFetch(status: number, body: string, seen: { url: string; headers: Record<string, string>; method: string }[] = []): FetchLike {
  return async (url, init) => {
    seen.push({ url, headers: init.headers, method: init.method });
    return { status, ok: status >= 200 && status < 300, headers: { get: (n: string) => (n === 'x-request-id' ? 'req-1' : null) }, text: async () => body };
  };
}

test('requests carry the key as a bearer header and the query without empty values', async () => {
  const seen: { url: string; headers: Record<string, string>; method: string }[] = [];
  const api = createApiClient({ token: 'tbk_abc', fetch: fakeFetch(200, '{"items":[]}', seen) });
  assert.deepEqual(await api.get('/v1/sessions', { tenantId: 'acme', state: '', username: undefined }), { items: [] });
  await api.delete('/v1/sessions/s1');
  assert.deepEqual(seen.map((s) => [s.method, s.url, s.headers.authorization]), [
    ['GET', '/v1/sessions?tenantId=acme', 'Bearer tbk_abc'],
    ['DELETE', '/v1/sessions/s1', 'Bearer tbk_abc'],
  ]);
});

test('apiPath escapes each segment: a typed value cannot change the path', () => {
  assert.equal(apiPath('/v1/tenants/{tenantId}/users/{username}/auth-events', { tenantId: '../agents', username: 'a?b#c' }), '/v1/tenants/..%2Fagents/users/a%3Fb%23c/auth-events');
  assert.throws(() => apiPath('/v1/tenants/{tenantId}', {}), /no value for tenantId/);
});

test("HTTP errors keep the API's code, message, field and request id; each status reads as advice", async () => {
  const cases: [number, string, RegExp][] = [
    [401, '{"error":{"code":"unauthorized","message":"unknown API key"}}', /^The key was not accepted \(401 unauthorized: unknown API key \[request req-1\]\)\. Sign in again/],
    [403, '{"error":{"code":"forbidden","message":"needs fleet"}}', /^This key may not do that \(403 forbidden: needs fleet/],
    [404, '{"error":{"code":"not-found","message":"tenant globex not found"}}', /^Not found \(404 not-found: tenant globex not found.*this key's tenant cannot see it/],
    [400, '{"error":{"code":"validation-failed","message":"bad","field":"username"}}', /\(400 validation-failed: bad \(field username\)/],
    [502, '<html>bad gateway</html>', /\(502 http-502: the broker answered 502 without an error body/],
  ];
  for (const [status, body, expected] of cases) {
    const error = await createApiClient({ token: 't', fetch: fakeFetch(status, body) }).get('/v1/x').catch((e: unknown) => e);
    assert.ok(error instanceof ApiError);
    assert.match(describeError(error), expected);
    assert.equal(isUnauthorized(error), status === 401);
  }
});

test('a network failure is its own kind, with advice', async () => {
  const api = createApiClient({ token: 't', fetch: async () => { throw new TypeError('Failed to fetch'); } });
  const error = await api.get('/v1/x').catch((e: unknown) => e);
  assert.ok(error instanceof ApiError && error.failure.kind === 'network');
  assert.match(describeError(error), /^Cannot reach the broker \(Failed to fetch\)/);
  assert.match(describeError(new Error('boom')), /^Unexpected error: boom/);
});
