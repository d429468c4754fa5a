/**
 * Hidden AVP values, RFC 2661 §4.3. The hidden subformat is Original Length (2) + original value + padding, XORed
 * with an MD5 chain: b1 = MD5(Attribute Type (2 octets) || secret || Random Vector), c1 = p1 ^ b1,
 * bi = MD5(secret || c(i-1)), ci = pi ^ bi, over 16-octet blocks (the last one may be short).
 */
import { createHash } from 'node:crypto';
import { L2tpDecodeError } from './errors';

function md5(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('md5');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

function xorChain(attributeType: number, input: Uint8Array, secret: Uint8Array, randomVector: Uint8Array, encrypting: boolean): Uint8Array {
  const out = new Uint8Array(input.length);
  const typeBytes = new Uint8Array([attributeType >>> 8, attributeType & 0xff]);
  let block = md5(typeBytes, secret, randomVector);
  for (let i = 0; i < input.length; i += 16) {
    const end = Math.min(i + 16, input.length);
    for (let j = i; j < end; j++) out[j] = (input[j] as number) ^ (block[j - i] as number);
    // The chain feeds on the previous *ciphertext* block in both directions.
    const cipherBlock = encrypting ? out.subarray(i, end) : input.subarray(i, end);
    block = md5(secret, cipherBlock);
  }
  return out;
}

/** Hide `value` of AVP `attributeType`. `padding` extra zero octets may be appended to hide the true length. */
export function hideAvpValue(
  attributeType: number,
  value: Uint8Array,
  secret: Uint8Array,
  randomVector: Uint8Array,
  padding = 0,
): Uint8Array {
  const plain = new Uint8Array(2 + value.length + padding);
  plain[0] = value.length >>> 8;
  plain[1] = value.length & 0xff;
  plain.set(value, 2);
  return xorChain(attributeType, plain, secret, randomVector, true);
}

/** Recover the value of a hidden AVP, or an error when the Original Length lies (wrong secret, corruption). */
export function unhideAvpValue(
  attributeType: number,
  hidden: Uint8Array,
  secret: Uint8Array,
  randomVector: Uint8Array,
): Uint8Array | L2tpDecodeError {
  if (hidden.length < 2) {
    return new L2tpDecodeError('bad-avp-length', 'hidden AVP shorter than its Original Length field', { attributeType });
  }
  const plain = xorChain(attributeType, hidden, secret, randomVector, false);
  const originalLength = ((plain[0] as number) << 8) | (plain[1] as number);
  if (originalLength > plain.length - 2) {
    return new L2tpDecodeError('bad-avp-value', 'hidden AVP Original Length exceeds its data (wrong secret?)', {
      attributeType,
      originalLength,
    });
  }
  return plain.subarray(2, 2 + originalLength);
}
