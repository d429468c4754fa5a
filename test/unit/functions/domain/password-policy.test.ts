/** The password policy (issue 18): the default, a tenant's own, and the user-name rule. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_PASSWORD_POLICY, effectivePolicy, passwordProblem } from '../../../../functions/src/domain/password-policy';

test('the default: 8 characters at least, neither the user name nor containing it', () => {
  assert.deepEqual(effectivePolicy(undefined), { minLength: 8, rejectUsername: true });
  const p = DEFAULT_PASSWORD_POLICY;
  assert.match(passwordProblem('x', 'alice', p) ?? '', /at least 8 characters \(it has 1\)/);
  assert.match(passwordProblem('1234567', 'alice', p) ?? '', /at least 8/);
  assert.equal(passwordProblem('correct horse', 'alice', p), undefined);
  assert.match(passwordProblem('Alice-2024!', 'alice', p) ?? '', /contain the user name/, 'case-insensitive');
  assert.match(passwordProblem('longusername', 'LongUserName', p) ?? '', /be the user name/);
  assert.equal(passwordProblem('bob-is-ok-here', 'bo', p), undefined, 'names under 3 characters are only compared whole');
  assert.match(passwordProblem('bobobobo', 'bobobobo', p) ?? '', /be the user name/);
});

test('length counts characters, not UTF-16 units', () => {
  assert.match(passwordProblem('🔑🔑🔑🔑🔑🔑🔑', 'alice', DEFAULT_PASSWORD_POLICY) ?? '', /it has 7/);
  assert.equal(passwordProblem('🔑🔑🔑🔑🔑🔑🔑🔑', 'alice', DEFAULT_PASSWORD_POLICY), undefined);
});

test("a tenant's own policy", () => {
  const lax = { minLength: 4, rejectUsername: false };
  assert.equal(passwordProblem('alice', 'alice', lax), undefined);
  assert.match(passwordProblem('abc', 'alice', lax) ?? '', /at least 4/);
  const strict = { minLength: 16, rejectUsername: true };
  assert.match(passwordProblem('correct horse', 'alice', strict) ?? '', /at least 16/);
});
