import des from 'des.js';

/**
 * DesEncrypt (RFC 2759 §8.6): single DES, ECB, one 8-byte block, with a 7-byte key.
 * The 56 key bits are spread over 8 bytes (7 bits each) and each byte gets odd parity in its
 * low bit, as DES expects. Node 20 has no single DES in its default OpenSSL provider.
 */
export function desEncryptBlock(key7: Uint8Array, clear8: Uint8Array): Buffer {
  if (key7.length !== 7) throw new RangeError('DES key must be 7 bytes');
  if (clear8.length !== 8) throw new RangeError('DES block must be 8 bytes');
  const cipher = des.DES.create({ type: 'encrypt', key: expandDesKey(key7), padding: false });
  return Buffer.from([...cipher.update(clear8), ...cipher.final()]);
}

/** Spreads 56 bits into 8 bytes of 7 bits each (high bits first) and sets odd parity. */
export function expandDesKey(key7: Uint8Array): Buffer {
  const out = Buffer.alloc(8);
  let bits = 0n;
  for (const b of key7) bits = (bits << 8n) | BigInt(b);
  for (let i = 0; i < 8; i++) {
    const seven = Number((bits >> BigInt(49 - 7 * i)) & 0x7fn);
    out[i] = withOddParity(seven << 1);
  }
  return out;
}

function withOddParity(byte: number): number {
  let ones = 0;
  for (let v = byte >> 1; v !== 0; v >>= 1) ones += v & 1;
  return (byte & 0xfe) | (ones % 2 === 0 ? 1 : 0);
}
