/**
 * The Internet checksum (RFC 1071) and its incremental update (RFC 1624). Plain loops over the
 * bytes: no allocation, safe on any Uint8Array view.
 */

/**
 * One's-complement sum of buf[start..end) as 16-bit big-endian words, folded to 16 bits and NOT
 * complemented. `initial` lets callers chain a pseudo-header. An odd trailing byte is padded with 0.
 */
export function onesComplementSum(buf: Uint8Array, start: number, end: number, initial = 0): number {
  let sum = initial;
  let i = start;
  // 32-bit accumulator: fold every 2^15 words at worst; packets are < 64 KiB so one fold at the end
  // would do, but folding keeps it correct for any length.
  for (; i + 1 < end; i += 2) {
    sum += (buf[i]! << 8) | buf[i + 1]!;
    if (sum > 0x7fffffff) sum = (sum & 0xffff) + (sum >>> 16);
  }
  if (i < end) sum += buf[i]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** The checksum value to store in a header: ~sum (RFC 1071 §1). */
export function internetChecksum(buf: Uint8Array, start: number, end: number, initial = 0): number {
  return ~onesComplementSum(buf, start, end, initial) & 0xffff;
}

/**
 * RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), where one 16-bit word changes from `oldWord` to
 * `newWord`. Using this form (not eqn. 2) avoids the -0/+0 ambiguity the RFC describes.
 */
export function updateChecksum16(checksum: number, oldWord: number, newWord: number): number {
  let sum = (~checksum & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff);
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}
