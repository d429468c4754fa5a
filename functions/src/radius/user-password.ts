/**
 * User-Password hiding (RFC 2865 §5.2): the password, NUL-padded to a multiple of 16 (at most 128
 * octets), is XORed block by block with MD5(secret + previous block), the first "previous block"
 * being the Request Authenticator.
 */
import { createHash } from 'node:crypto';
import { RadiusCodecError } from './errors';

/** The longest password RFC 2865 §5.2 can carry. */
export const MAX_PASSWORD_LENGTH = 128;

/** Hides `password` for a request with `requestAuthenticator`; an error value when it is over 128 bytes. */
export function hidePassword(password: Uint8Array, secret: Uint8Array, requestAuthenticator: Uint8Array): Buffer | RadiusCodecError {
  if (password.length > MAX_PASSWORD_LENGTH) {
    return new RadiusCodecError('value-too-long', `User-Password of ${password.length} bytes exceeds ${MAX_PASSWORD_LENGTH}`);
  }
  const padded = Buffer.alloc(Math.max(16, Math.ceil(password.length / 16) * 16));
  Buffer.from(password).copy(padded);
  const out = Buffer.alloc(padded.length);
  let previous: Uint8Array = requestAuthenticator;
  for (let at = 0; at < padded.length; at += 16) {
    const b = createHash('md5').update(secret).update(previous).digest();
    for (let i = 0; i < 16; i++) out[at + i] = padded[at + i]! ^ b[i]!;
    previous = out.subarray(at, at + 16);
  }
  return out;
}

/** Reveals a hidden User-Password (the server's side; trailing NUL padding removed). */
export function revealPassword(hidden: Uint8Array, secret: Uint8Array, requestAuthenticator: Uint8Array): Buffer | RadiusCodecError {
  if (hidden.length < 16 || hidden.length > MAX_PASSWORD_LENGTH || hidden.length % 16 !== 0) {
    return new RadiusCodecError('bad-attribute-value', `User-Password of ${hidden.length} bytes is not 16..128 in steps of 16`);
  }
  const out = Buffer.alloc(hidden.length);
  let previous: Uint8Array = requestAuthenticator;
  for (let at = 0; at < hidden.length; at += 16) {
    const b = createHash('md5').update(secret).update(previous).digest();
    for (let i = 0; i < 16; i++) out[at + i] = hidden[at + i]! ^ b[i]!;
    previous = hidden.subarray(at, at + 16);
  }
  let end = out.length;
  while (end > 0 && out[end - 1] === 0) end--;
  return out.subarray(0, end);
}
