/** 16-bit sequence number arithmetic for Ns/Nr, RFC 2661 §5.8 (modulo 2^16, half-window compare). */

/** a + n modulo 2^16. */
export function seqAdd(a: number, n: number): number {
  return (a + n) & 0xffff;
}

/** Distance from `from` forward to `to` (0..65535). */
export function seqDistance(from: number, to: number): number {
  return (to - from) & 0xffff;
}

/** True when `a` comes before `b` in the 2^15 half-window around it. */
export function seqBefore(a: number, b: number): boolean {
  const d = seqDistance(a, b);
  return d !== 0 && d < 0x8000;
}
