import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AGENT_WINDOW_MS,
  agentFailureRate,
  delayAfter,
  PAIR_FORGET_MS,
  pairThreshold,
  pairWaitsUntil,
  throttleSource,
  type ThrottlePolicy,
} from '../../../../functions/src/domain/auth-throttle';

const policy: ThrottlePolicy = { sourceThreshold: 5, baseDelayMs: 30_000, maxDelayMs: 900_000, agentPressurePerMinute: 60 };
const pair = (failures: number, lastFailureAt: number) => ({ key: 'k', failures, lastFailureAt, expiresAt: lastFailureAt + PAIR_FORGET_MS });

describe('auth throttle rules', () => {
  test('waits double from the threshold on and stop growing at the maximum', () => {
    assert.deepEqual([1, 4, 5, 6, 7, 8, 9, 10, 11, 100].map((n) => delayAfter(n, 5, policy) / 1000), [0, 0, 30, 60, 120, 240, 480, 900, 900, 900]);
  });
  test('a pair waits from its last failure; forgotten after a quiet day', () => {
    assert.equal(pairWaitsUntil(undefined, 5, policy, 0), undefined);
    assert.equal(pairWaitsUntil(pair(4, 1_000), 5, policy, 1_000), undefined);
    assert.equal(pairWaitsUntil(pair(5, 1_000), 5, policy, 1_000), 31_000);
    assert.equal(pairWaitsUntil(pair(5, 1_000), 5, policy, 31_000), undefined, 'the wait is over');
    assert.equal(pairWaitsUntil(pair(50, 1_000), 5, policy, 1_000 + PAIR_FORGET_MS), undefined, 'forgotten');
  });
  test('an agent under pressure lowers the free failures to one', () => {
    assert.equal(pairThreshold(policy, 59), 5);
    assert.equal(pairThreshold(policy, 60), 1);
    assert.equal(pairWaitsUntil(pair(1, 0), pairThreshold(policy, 60), policy, 0), 30_000);
  });
  test('the agent rate slides over this and the last minute', () => {
    const w = (failures: number) => ({ key: 'a', failures, lastFailureAt: 0, expiresAt: 0 });
    assert.equal(agentFailureRate(w(10), w(60), 0), 70);
    assert.equal(agentFailureRate(w(10), w(60), AGENT_WINDOW_MS / 2), 40);
    assert.equal(agentFailureRate(undefined, undefined, 5), 0);
  });
  test('sources: IPv4 without its port; none is the agent itself', () => {
    assert.equal(throttleSource('198.51.100.4:1701', 'a1'), '198.51.100.4');
    assert.equal(throttleSource('198.51.100.4', 'a1'), '198.51.100.4');
    assert.equal(throttleSource('2001:DB8::1', 'a1'), '2001:db8::1');
    assert.equal(throttleSource(undefined, 'a1'), 'agent:a1');
  });
});
