import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LEASE_HINT_TTL_MS, LeaseHints, parsePool, randomCandidate } from '../../../../../functions/src/domain/ip-allocation';
import { parseIpv4 } from '../../../../../contract/src/ipv4';
import type { Pool } from '../../../../../functions/src/domain/types';

const pool: Pool = { tenantId: 't', poolId: 'p', cidr: '10.1.0.0/24', exclude: [], dns: [], gateway: '10.1.0.1', createdAt: 0 };

test('an address seen leased is remembered until released or for the TTL', () => {
  let now = 1_000;
  const hints = new LeaseHints(() => now);
  const a = parseIpv4('10.1.0.7')!;
  assert.equal(hints.has(pool, a), false);
  hints.taken(pool, a);
  assert.equal(hints.has(pool, a), true);
  assert.equal(hints.has({ tenantId: 't', poolId: 'other' }, a), false, 'per pool');
  hints.released(pool, a);
  assert.equal(hints.has(pool, a), false);
  hints.taken(pool, a);
  now += LEASE_HINT_TTL_MS + 1;
  assert.equal(hints.has(pool, a), false, 'expired: freed elsewhere maybe, so drawn again');
});

test('randomCandidate skips addresses to avoid, and gives up when it keeps drawing them', () => {
  // A random source that walks through .2, .3, .4 ... : with .2 and .3 avoided, .4 is drawn.
  let i = 2;
  const walk = () => i++ / 256;
  const avoided = new Set([parseIpv4('10.1.0.2')!, parseIpv4('10.1.0.3')!]);
  assert.equal(randomCandidate(parsePool(pool)!, walk, (a) => avoided.has(a)), parseIpv4('10.1.0.4'));
  assert.equal(randomCandidate(parsePool(pool)!, () => 2 / 256, (a) => avoided.has(a)), undefined);
});
