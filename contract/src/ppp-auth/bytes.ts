import { timingSafeEqual } from 'node:crypto';
import { InvalidAuthInputError } from './errors';

/** Constant-time equality that is also safe (and false) for different lengths. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  return timingSafeEqual(a, b);
}

/** Accepts a Buffer or a hex string and checks the size, so callers can pass stored hex directly. */
export function toBytes(field: string, value: Uint8Array | string, size?: number): Buffer {
  let bytes: Buffer;
  if (typeof value === 'string') {
    if (!/^(?:[0-9a-fA-F]{2})*$/.test(value)) {
      throw new InvalidAuthInputError(field, 'not a hex string');
    }
    bytes = Buffer.from(value, 'hex');
  } else {
    bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  }
  if (size !== undefined && bytes.length !== size) {
    throw new InvalidAuthInputError(field, `expected ${size} bytes, got ${bytes.length}`);
  }
  return bytes;
}
