/**
 * Random bytes for protocol values (tunnel and session ids, LCP magic numbers, CHAP and L2TP
 * challenges) from the CSPRNG, drawn from a pool filled a few kilobytes at a time. Node's
 * randomBytes costs 3-6 µs a call whatever the size (measured here: 2 bytes or 4 KiB alike; more
 * on a busy host), and every tunnel and session setup asks several times. Each byte is handed out once,
 * as a copy, and wiped from the pool, so what a caller keeps is never seen by another.
 */
import { randomFillSync } from 'node:crypto';

/** A `(n) => bytes` source over `fill` (randomFillSync), refilling `size` bytes at a time. */
export function randomPool(size = 4096, fill: (buffer: Uint8Array) => void = (b) => randomFillSync(b)): (n: number) => Uint8Array {
  const pool = new Uint8Array(size);
  let at = size;
  return (n) => {
    // Larger than the pool (never asked today): straight from the source.
    if (n > size) {
      const out = new Uint8Array(n);
      fill(out);
      return out;
    }
    if (at + n > size) {
      fill(pool);
      at = 0;
    }
    const out = pool.slice(at, at + n);
    pool.fill(0, at, at + n);
    at += n;
    return out;
  };
}
