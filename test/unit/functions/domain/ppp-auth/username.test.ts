import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidPppUsernameError, parsePppUsername } from '../../../../../functions/src/domain/ppp-auth';

describe('parsePppUsername', () => {
  const good: Array<[string, ReturnType<typeof parsePppUsername>]> = [
    ['alice@acme', { username: 'alice', tenantId: 'acme', form: 'realm' }],
    ['ACME\\alice', { username: 'alice', tenantId: 'acme', form: 'domain' }],
    ['Alice@ACME', { username: 'Alice', tenantId: 'acme', form: 'realm' }],
    ['bob@example.com@acme', { username: 'bob@example.com', tenantId: 'acme', form: 'realm' }],
    ['acme-2\\bob@example.com', { username: 'bob@example.com', tenantId: 'acme-2', form: 'domain' }],
    ['alice', { username: 'alice', form: 'plain' }],
    ['Jürgen@acme', { username: 'Jürgen', tenantId: 'acme', form: 'realm' }],
  ];
  for (const [input, expected] of good) {
    test(`accepts ${JSON.stringify(input)}`, () => assert.deepEqual(parsePppUsername(input), expected));
  }

  const bad: Array<[string, string]> = [
    ['', 'empty'],
    ['@acme', 'empty-username'],
    ['alice@', 'empty-realm'],
    ['\\alice', 'empty-realm'],
    ['ACME\\', 'empty-username'],
    ['a\\b\\c', 'ambiguous-separator'],
    ['alice\u0000@acme', 'control-character'],
    ['alice\n', 'control-character'],
    ['alice\u007f', 'control-character'],
    ['alice\u0085', 'control-character'],
    ['alice@ac me', 'invalid-realm'],
    ['alice@-acme', 'invalid-realm'],
    ['x'.repeat(257), 'too-long'],
  ];
  for (const [input, reason] of bad) {
    test(`rejects ${JSON.stringify(input.slice(0, 20))} (${reason})`, () => {
      assert.throws(
        () => parsePppUsername(input),
        (err: unknown) => err instanceof InvalidPppUsernameError && err.reason === reason,
      );
    });
  }
});
