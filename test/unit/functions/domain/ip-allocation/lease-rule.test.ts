/**
 * The lease rule's checks (functions/src/domain/ip-allocation/lease-rule.ts). That the DynamoDB
 * expressions say the same is shown by the store contract suite, which runs the DynamoDB store
 * (the expressions) and the in-memory store (these checks) through the same grace boundaries.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatIpv4, parseIpv4 } from '../../../../../contract/src/ipv4';
import { holdsAddress, LEASE_EXPRESSIONS, leasable, leaseAfterStop, parsePool } from '../../../../../functions/src/domain/ip-allocation';
import type { Lease } from '../../../../../functions/src/domain/types';

test('leasable: inside the block, not network, broadcast, gateway or excluded; a /31 uses both ends', () => {
  const pool = parsePool({ cidr: '10.8.0.0/29', gateway: '10.8.0.1', exclude: [{ first: '10.8.0.4', last: '10.8.0.5' }] })!;
  const leasableOnes = Array.from({ length: 10 }, (_, i) => parseIpv4('10.8.0.0')! + i).filter((a) => leasable(pool, a)).map(formatIpv4);
  assert.deepEqual(leasableOnes, ['10.8.0.2', '10.8.0.3', '10.8.0.6']);
  const p2p = parsePool({ cidr: '10.9.0.0/31', gateway: '10.9.0.0', exclude: [] })!;
  assert.equal(leasable(p2p, parseIpv4('10.9.0.1')!), true);
});

test('a lease holds its address until its grace has passed, and forever without one', () => {
  assert.equal(holdsAddress({}, 1e15), true);
  assert.equal(holdsAddress({ releaseAfter: 5_000 }, 4_999), true);
  assert.equal(holdsAddress({ releaseAfter: 5_000 }, 5_000), true);
  assert.equal(holdsAddress({ releaseAfter: 5_000 }, 5_001), false);
});

test('a stop deletes its own lease, keeps it with a grace, and leaves another holder\'s alone', () => {
  const lease: Lease = { tenantId: 't', poolId: 'p', ip: '10.8.0.2', sessionId: 's1', leasedAt: 1 };
  assert.equal(leaseAfterStop(lease, 's1', undefined), undefined);
  assert.deepEqual(leaseAfterStop(lease, 's1', 9), { ...lease, releaseAfter: 9 });
  assert.equal(leaseAfterStop(lease, 's0', undefined), lease);
  assert.equal(leaseAfterStop(lease, 's0', 9), lease);
});

test('the DynamoDB expressions name the fields the checks read', () => {
  assert.deepEqual(LEASE_EXPRESSIONS.free(7), { expression: 'attribute_not_exists(sessionId) OR releaseAfter < :now', values: { ':now': 7 } });
  assert.deepEqual(LEASE_EXPRESSIONS.heldBy('s1'), { expression: 'sessionId = :sid', values: { ':sid': 's1' } });
  assert.deepEqual(LEASE_EXPRESSIONS.keepUntil(9), { expression: 'SET releaseAfter = :after', values: { ':after': 9 } });
});
