import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { admit } from '../../../../../functions/src/domain/placement';
import { agent } from './fixtures';

const open = { maxSessions: undefined, maxSessionsPerUser: undefined };

describe('admit', () => {
  test('refusals, in order: agent state, capacity, user limit, tenant quota', () => {
    const base = { tenantActive: 0, userActive: 0 };
    assert.deepEqual(admit({ ...base, agent: agent({ agentId: 'a', state: 'dead' }), tenant: open }), { admitted: false, refusal: 'agent-dead' });
    assert.deepEqual(admit({ ...base, agent: agent({ agentId: 'a', revoked: true }), tenant: open }), { admitted: false, refusal: 'agent-dead' });
    assert.deepEqual(admit({ ...base, agent: agent({ agentId: 'a', state: 'draining' }), tenant: open }), {
      admitted: false,
      refusal: 'agent-draining',
    });
    assert.deepEqual(admit({ ...base, agent: agent({ agentId: 'a', capacity: 2, activeSessions: 3 }), tenant: open }), {
      admitted: false,
      refusal: 'agent-full',
      limit: 2,
      current: 3,
    });
    // A heartbeat sent during this session's setup already counts it: at capacity is not beyond it.
    assert.deepEqual(admit({ ...base, agent: agent({ agentId: 'a', capacity: 2, activeSessions: 2 }), tenant: open }), { admitted: true });
    const tenant = { maxSessions: 10, maxSessionsPerUser: 1 };
    assert.deepEqual(admit({ tenantActive: 10, userActive: 1, agent: agent({ agentId: 'a' }), tenant }), {
      admitted: false,
      refusal: 'user-session-limit',
      limit: 1,
      current: 1,
    });
    assert.deepEqual(admit({ tenantActive: 10, userActive: 0, agent: agent({ agentId: 'a' }), tenant }), {
      admitted: false,
      refusal: 'tenant-quota',
      limit: 10,
      current: 10,
    });
    assert.deepEqual(admit({ tenantActive: 9, userActive: 0, agent: agent({ agentId: 'a' }), tenant }), { admitted: true });
  });

  test('admitted exactly when every limit has room', () => {
    fc.assert(
      fc.property(
        fc.record({
          capacity: fc.integer({ min: 0, max: 10 }),
          load: fc.integer({ min: 0, max: 12 }),
          maxSessions: fc.option(fc.integer({ min: 0, max: 10 }), { nil: undefined }),
          maxSessionsPerUser: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
          tenantActive: fc.integer({ min: 0, max: 12 }),
          userActive: fc.integer({ min: 0, max: 4 }),
        }),
        (r) => {
          const d = admit({
            agent: agent({ agentId: 'a', capacity: r.capacity, activeSessions: r.load }),
            tenant: { maxSessions: r.maxSessions, maxSessionsPerUser: r.maxSessionsPerUser },
            tenantActive: r.tenantActive,
            userActive: r.userActive,
          });
          const room =
            r.load <= r.capacity && // the reported load may include this session (admission.ts)
            (r.maxSessions === undefined || r.tenantActive < r.maxSessions) &&
            (r.maxSessionsPerUser === undefined || r.userActive < r.maxSessionsPerUser);
          assert.equal(d.admitted, room);
        },
      ),
    );
  });
});
