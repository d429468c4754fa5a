import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createAuthGrants, GRANT_LIFETIME_MS } from '../../../../functions/src/domain/auth-grant';

const key = (keyId: string, fill: number) => ({ keyId, keyBase64: Buffer.alloc(32, fill).toString('base64') });
const claims = { agentId: 'a1', tenantId: 'acme', username: 'alice', method: 'mschapv2' as const, agentSessionRef: 'ref-1' };

describe('auth grants', () => {
  test('a grant verifies until it expires and carries its claims', () => {
    const grants = createAuthGrants([key('k1', 1)]);
    const grant = grants.issue({ ...claims, staticIp: '10.8.0.9' }, 1_000);
    assert.deepEqual(grants.verify(grant, 1_000), { ...claims, staticIp: '10.8.0.9', expiresAt: 1_000 + GRANT_LIFETIME_MS });
    assert.equal(grants.verify(grant, 1_000 + GRANT_LIFETIME_MS - 1)?.username, 'alice');
    assert.equal(grants.verify(grant, 1_000 + GRANT_LIFETIME_MS), undefined);
  });

  test('another broker instance with the same keys verifies it; rotation keeps older grants valid', () => {
    const grant = createAuthGrants([key('k1', 1)]).issue(claims, 0);
    assert.equal(createAuthGrants([key('k1', 1)]).verify(grant, 0)?.agentId, 'a1');
    assert.equal(createAuthGrants([key('k2', 2), key('k1', 1)]).verify(grant, 0)?.agentId, 'a1', 'k1 still configured');
    assert.equal(createAuthGrants([key('k2', 2)]).verify(grant, 0), undefined, 'k1 retired');
    assert.equal(createAuthGrants([key('k1', 3)]).verify(grant, 0), undefined, 'same id, other key');
  });

  test('tampering, truncation and garbage are refused without throwing', () => {
    const grants = createAuthGrants([key('k1', 1)]);
    const grant = grants.issue(claims, 0);
    const [kid, payload, mac] = grant.split('.') as [string, string, string];
    const forged = Buffer.from(JSON.stringify({ ...claims, username: 'mallory', expiresAt: 10 ** 15 })).toString('base64url');
    for (const bad of [
      `${kid}.${forged}.${mac}`,
      `${kid}.${payload}.${mac.slice(0, -2)}`,
      `${kid}.${payload}`,
      `${grant}.extra`,
      '',
      '...',
      'k1.%%%.%%%',
      `${kid}.${payload}.${Buffer.alloc(32).toString('base64url')}`,
    ]) {
      assert.equal(grants.verify(bad, 0), undefined, bad);
    }
  });
});
