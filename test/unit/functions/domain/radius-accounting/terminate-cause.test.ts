import { test } from 'node:test';
import assert from 'node:assert/strict';
import { END_REASONS, type EndReason } from '../../../../../functions/src/domain/types';
import { terminateCause } from '../../../../../functions/src/domain/radius-accounting/terminate-cause';

/** RFC 2866 §5.10, written out here independently of the table under test. */
const EXPECTED: Record<EndReason, [number, string]> = {
  'user-request': [1, 'User Request'],
  'idle-timeout': [4, 'Idle Timeout'],
  'session-timeout': [5, 'Session Timeout'],
  'lcp-timeout': [2, 'Lost Carrier'],
  'admin-disconnect': [6, 'Admin Reset'],
  'auth-failure': [17, 'User Error'],
  'pool-exhausted': [15, 'Service Unavailable'],
  'agent-shutdown': [7, 'Admin Reboot'],
  'agent-lost': [3, 'Lost Service'],
  'agent-revoked': [6, 'Admin Reset'],
  'tunnel-closed': [2, 'Lost Carrier'],
  'quota-exceeded': [15, 'Service Unavailable'],
  error: [9, 'NAS Error'],
  'user-deleted': [6, 'Admin Reset'],
  'user-disabled': [6, 'Admin Reset'],
  'tenant-deleted': [6, 'Admin Reset'],
};

for (const reason of END_REASONS) {
  test(`end reason ${reason} -> Acct-Terminate-Cause ${EXPECTED[reason]?.join(' ')}`, () => {
    assert.ok(EXPECTED[reason], `no expectation written for ${reason}`);
    assert.equal(terminateCause(reason), EXPECTED[reason][0]);
  });
}

test('every value is one RFC 2866 §5.10 defines (1..18)', () => {
  for (const reason of END_REASONS) assert.ok(terminateCause(reason) >= 1 && terminateCause(reason) <= 18, reason);
});
