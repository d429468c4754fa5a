/** The CLI's HTTP client (cli/src/api-client.ts): error bodies to ApiError, network faults to UnreachableError, paging. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createApiClient, withQuery, type FetchLike } from '../../../cli/src/api-client';
import { ApiError, UnreachableError } from '../../../cli/src/errors';

const TOKEN = 'tbk_0011223344556677_topsecret';

function recording(answer: (url: string) => Response): { fetch: FetchLike; calls: { url: string; init: RequestInit }[] } {
  const calls: { url: string; init: RequestInit }[] = [];
  return { calls, fetch: async (url, init) => (calls.push({ url, init }), answer(url)) };
}

describe('CLI API client', () => {
  test('sends the token as a bearer header and JSON bodies', async () => {
    const r = recording(() => Response.json({ ok: true }, { status: 201 }));
    const client = createApiClient({ brokerUrl: 'http://b', token: TOKEN, fetch: r.fetch });
    const answer = await client.request('POST', '/v1/tenants', { body: { tenantId: 'a' } });
    assert.deepEqual(answer, { status: 201, body: { ok: true } });
    const headers = r.calls[0]!.init.headers as Record<string, string>;
    assert.equal(headers.authorization, `Bearer ${TOKEN}`);
    assert.equal(headers['content-type'], 'application/json');
    assert.equal(r.calls[0]!.init.body, '{"tenantId":"a"}');
  });

  test('an error body becomes ApiError with code, message, field, hint and request id; the token is not in it', async () => {
    const body = { error: { code: 'validation-failed', message: 'bad cidr', field: 'cidr', hint: 'fix the field' } };
    const r = recording(() => Response.json(body, { status: 400, headers: { 'x-request-id': 'req-1' } }));
    const client = createApiClient({ brokerUrl: 'http://b', token: TOKEN, fetch: r.fetch });
    await assert.rejects(client.request('GET', '/v1/x'), (e: unknown) => {
      assert.ok(e instanceof ApiError);
      assert.deepEqual([e.status, e.code, e.apiMessage, e.field, e.hint, e.requestId, e.exitCode], [400, 'validation-failed', 'bad cidr', 'cidr', 'fix the field', 'req-1', 1]);
      assert.equal(e.message, '400 validation-failed: bad cidr (field cidr)');
      assert.ok(!JSON.stringify({ ...e, m: e.message }).includes(TOKEN));
      return true;
    });
  });

  test('a body that is not the broker\'s error says to check BROKER_URL', async () => {
    const client = createApiClient({ brokerUrl: 'http://b', token: TOKEN, fetch: async () => new Response('<html>Bad gateway</html>', { status: 502 }) });
    await assert.rejects(client.request('GET', '/v1/x'), (e: unknown) => e instanceof ApiError && e.code === 'http-error' && /BROKER_URL/.test(e.hint ?? ''));
  });

  test('a network fault or a timeout is UnreachableError (exit 3) naming the URL, not the token', async () => {
    const refused = createApiClient({ brokerUrl: 'http://b', token: TOKEN, fetch: async () => { throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } }); } });
    await assert.rejects(refused.request('GET', '/v1/x'), (e: unknown) => e instanceof UnreachableError && e.exitCode === 3 && e.message === 'cannot reach the broker at http://b: ECONNREFUSED');
    const slow = createApiClient({ brokerUrl: 'http://b', token: TOKEN, timeoutMs: 20, fetch: (_u, init) => new Promise((_r, reject) => init.signal!.addEventListener('abort', () => reject(init.signal!.reason))) });
    const keepAlive = setTimeout(() => {}, 5_000); // AbortSignal.timeout's timer does not hold the event loop open
    await assert.rejects(slow.request('GET', '/v1/x'), (e: unknown) => e instanceof UnreachableError && /no answer in time/.test(e.message));
    clearTimeout(keepAlive);
  });

  test('listAll follows cursors until none is left', async () => {
    const r = recording((url) => Response.json(new URL(url).searchParams.get('cursor') === 'c2' ? { items: [3] } : { items: [1, 2], cursor: 'c2' }));
    const client = createApiClient({ brokerUrl: 'http://b', token: TOKEN, fetch: r.fetch });
    assert.deepEqual(await client.listAll('/v1/tenants', { tenantId: 'a b' }), [1, 2, 3]);
    assert.equal(r.calls[0]!.url, 'http://b/v1/tenants?tenantId=a+b&limit=100');
    assert.equal(r.calls[1]!.url, 'http://b/v1/tenants?tenantId=a+b&limit=100&cursor=c2');
    assert.equal(withQuery('/p', { a: undefined }), '/p');
  });
});
