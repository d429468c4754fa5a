/** Identifier allocation (RFC 5080 §2.2.1): unique while outstanding, round-robin, 256 at most. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IdentifierPool } from '../../../../functions/src/radius';

test('identifiers are unique while outstanding; a released one comes back last; 257th is refused', () => {
  const pool = new IdentifierPool(250);
  const ids = Array.from({ length: 256 }, () => pool.allocate());
  assert.equal(new Set(ids).size, 256);
  assert.deepEqual(ids.slice(0, 7), [250, 251, 252, 253, 254, 255, 0], 'wraps at 255');
  assert.equal(pool.allocate(), undefined, 'all 256 outstanding');
  pool.release(3);
  pool.release(100);
  assert.equal(pool.allocate(), 3, 'the next free after the last handed out');
  assert.equal(pool.allocate(), 100);
  assert.equal(pool.outstanding, 256);
});

test('a just-released identifier is not reused at once while others are free', () => {
  const pool = new IdentifierPool(0);
  const a = pool.allocate()!;
  pool.release(a);
  assert.notEqual(pool.allocate(), a);
});
