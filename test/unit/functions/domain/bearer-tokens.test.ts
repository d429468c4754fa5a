import { test } from 'node:test';
import assert from 'node:assert/strict';
import { issueToken, parseToken, secretMatches, tokenKindOf } from '../../../../functions/src/domain/bearer-tokens';

/** Deterministic bytes that include 0xff so base64url secrets contain `_` and `-`. */
const fixedRandom = (size: number) => new Uint8Array(size).fill(0xff);

test('issued tokens parse back to id and secret, even when the secret contains "_"', () => {
  const { token, secretHash } = issueToken('api-key', '0a1b2c3d', fixedRandom);
  assert.ok(token.startsWith('tbk_0a1b2c3d_'));
  assert.ok(token.slice('tbk_0a1b2c3d_'.length).includes('_'));
  const parts = parseToken('api-key', token);
  assert.equal(parts?.id, '0a1b2c3d');
  assert.ok(secretMatches(parts!.secret, secretHash));
  assert.equal(secretMatches(`${parts!.secret}x`, secretHash), false);
});

test('kinds are told apart by prefix; malformed tokens do not parse', () => {
  const agent = issueToken('agent', 'agent-01', fixedRandom).token;
  assert.equal(tokenKindOf(agent), 'agent');
  assert.equal(parseToken('api-key', agent), undefined);
  for (const bad of ['tbk_', 'tbk__secret', 'tbk_id_', 'tbk_id', 'Bearer tbk_a_b']) {
    assert.equal(parseToken('api-key', bad), undefined, bad);
  }
  assert.equal(tokenKindOf('plain-admin-token'), undefined);
});

test('a stored hash of the wrong length never matches', () => {
  assert.equal(secretMatches('x', 'abcd'), false);
});
