import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRoute, routeHash } from '../../../console/src/routes';

test('parseRoute reads the page and only the parameters that page understands', () => {
  assert.deepEqual(parseRoute('#/sessions?tenantId=acme&state=active&q=bob&evil=1'), { page: 'sessions', params: { tenantId: 'acme', state: 'active', q: 'bob' } });
  assert.deepEqual(parseRoute('#/fleet?tenantId=acme'), { page: 'fleet', params: {} });
  assert.deepEqual(parseRoute('#/usage?tenantId=a%26b&from='), { page: 'usage', params: { tenantId: 'a&b' } });
});

test('no page or an unknown page is no route (the shell opens the landing page)', () => {
  for (const hash of ['', '#', '#/', '#/nope', '#/__proto__', '#/constructor']) assert.equal(parseRoute(hash), undefined, hash);
});

test('routeHash is the inverse of parseRoute, empty values left out', () => {
  const hash = routeHash('auth-events', { tenantId: 'acme', username: 'bob smith', q: 'ignored' });
  assert.equal(hash, '#/auth-events?tenantId=acme&username=bob+smith');
  assert.deepEqual(parseRoute(hash), { page: 'auth-events', params: { tenantId: 'acme', username: 'bob smith' } });
  assert.equal(routeHash('sessions', { tenantId: '', state: undefined }), '#/sessions');
});
