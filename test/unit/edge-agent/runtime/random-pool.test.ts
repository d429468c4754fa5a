/** Issue 21: the pooled CSPRNG source for protocol values (tunnel/session ids, magic numbers, challenges). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomPool } from '../../../../edge-agent/src/runtime/random-pool';

/** A counting "CSPRNG": byte k of the stream is k & 0xff, and the fills are recorded. */
function countingFill() {
  let next = 0;
  const fills: number[] = [];
  return {
    fills,
    fill: (b: Uint8Array) => {
      fills.push(b.length);
      for (let i = 0; i < b.length; i++) b[i] = next++ & 0xff;
    },
  };
}

test('hands out consecutive, never repeated bytes of the source, refilling a pool at a time', () => {
  const src = countingFill();
  const random = randomPool(8, src.fill);
  assert.deepEqual([...random(3)], [0, 1, 2]);
  assert.deepEqual([...random(4)], [3, 4, 5, 6]);
  assert.deepEqual(src.fills, [8]);
  // 1 byte left in the pool: a 2-byte request refills rather than mixing pools.
  assert.deepEqual([...random(2)], [8, 9]);
  assert.deepEqual(src.fills, [8, 8]);
});

test('each answer is a copy the pool does not keep: changing it or drawing more leaves it as it was', () => {
  const src = countingFill();
  const random = randomPool(16, src.fill);
  const a = random(4);
  const kept = [...a];
  const b = random(4);
  assert.notEqual(a.buffer, b.buffer);
  b.fill(0xee);
  random(8);
  random(8); // refill: the pool's memory is overwritten
  assert.deepEqual([...a], kept);
});

test('asks larger than the pool go straight to the source', () => {
  const src = countingFill();
  const random = randomPool(8, src.fill);
  assert.equal(random(20).length, 20);
  assert.deepEqual(src.fills, [20]);
});

test('the default source is the CSPRNG: 4 KiB of draws are not all alike', () => {
  const random = randomPool();
  const seen = new Set<number>();
  for (let i = 0; i < 2048; i++) {
    const b = random(2);
    seen.add((b[0]! << 8) | b[1]!);
  }
  assert.ok(seen.size > 1900, `only ${seen.size} distinct 16-bit values in 2048 draws`);
});
