/**
 * A small AES-256-GCM box for secrets the broker must be able to read back or must not keep in
 * clear (NT hashes, CHAP-MD5 secrets, the IPsec PSK). Each blob records the id of the key that
 * sealed it so keys can rotate: new blobs use `currentKeyId`, old ones still open as long as their
 * key stays in the ring.
 *
 * Every new blob (`v: 2`) frames its plaintext as a 2-byte big-endian length, the bytes, then zeros
 * up to a multiple of 64 bytes or `padTo`, whichever is larger: a caller that passes the largest
 * size a secret can have (PADDED_SECRET_BYTES) gets one ciphertext length for every secret of that
 * kind. Blobs without `v` (sealed before framing) open unframed.
 *
 * Where the keys come from: in AWS, data keys made by KMS GenerateDataKey under the stack's
 * customer-managed key, kept only wrapped (entry/kms-data-keys.ts); locally, DATA_KEYS from the
 * configuration. The entry point builds a `staticKeyRing` from them; nothing here reads the
 * environment or calls AWS.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { EncryptedBlob } from '../types';
import { KeyRingConfigError, MalformedBlobError, SecretDecryptError, UnknownKeyError } from './errors';

const KEY_SIZE = 32;
const IV_SIZE = 12; // the GCM-recommended nonce size (NIST SP 800-38D §8.2)
const TAG_SIZE = 16;
const FRAME_BLOCK = 64;
const LENGTH_PREFIX = 2;

/**
 * Room for the largest password or PSK the API accepts: 256 UTF-16 code units are at most 768
 * UTF-8 bytes (3 per unit; a surrogate pair is 2 units and 4 bytes), plus the length prefix,
 * rounded up to the frame block (832 bytes).
 */
export const PADDED_SECRET_BYTES = Math.ceil((LENGTH_PREFIX + 768) / FRAME_BLOCK) * FRAME_BLOCK;

/** Data keys by id. */
export interface KeyRing {
  /** The key new blobs are sealed with. */
  readonly currentKeyId: string;
  /** The 32-byte key for an id, or undefined when the ring does not hold it. */
  key(keyId: string): Buffer | undefined;
}

export interface StaticKeyRingConfig {
  readonly currentKeyId: string;
  /** keyId -> base64 of 32 random bytes. */
  readonly keys: Readonly<Record<string, string>>;
}

/** A key ring from configuration. Throws KeyRingConfigError naming every bad entry. */
export function staticKeyRing(config: StaticKeyRingConfig): KeyRing {
  const problems: string[] = [];
  const keys = new Map<string, Buffer>();
  for (const [keyId, b64] of Object.entries(config.keys)) {
    if (keyId === '') problems.push('a key id is empty');
    const bytes = /^[A-Za-z0-9+/]*={0,2}$/.test(b64) ? Buffer.from(b64, 'base64') : undefined;
    if (bytes?.length !== KEY_SIZE) {
      problems.push(`key "${keyId}" must be base64 of exactly ${KEY_SIZE} bytes`);
    } else {
      keys.set(keyId, bytes);
    }
  }
  if (!(config.currentKeyId in config.keys)) problems.push(`current key id "${config.currentKeyId}" is not in the ring`);
  if (problems.length > 0) throw new KeyRingConfigError(`invalid key ring: ${problems.join('; ')}`);
  return {
    currentKeyId: config.currentKeyId,
    key: (keyId) => keys.get(keyId),
  };
}

export interface SealOptions {
  /** Pad the framed plaintext to at least this many bytes (see the module comment). */
  readonly padTo?: number;
}

/** Seals and opens small secrets. `context` is bound as GCM additional data: a blob only opens in the same context. */
export interface SecretBox {
  encrypt(plaintext: Uint8Array | string, context?: string, options?: SealOptions): EncryptedBlob;
  decrypt(blob: EncryptedBlob, context?: string): Buffer;
}

/** A SecretBox over a key ring. `decrypt` throws UnknownKeyError, MalformedBlobError or SecretDecryptError. */
export function createSecretBox(ring: KeyRing): SecretBox {
  return {
    encrypt(plaintext, context = '', options = {}) {
      const keyId = ring.currentKeyId;
      const key = ring.key(keyId);
      if (key === undefined) throw new UnknownKeyError(keyId);
      const iv = randomBytes(IV_SIZE);
      const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_SIZE });
      cipher.setAAD(aad(keyId, context, 2));
      const data = frame(typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext, options.padTo ?? 0);
      const ciphertext = Buffer.concat([cipher.update(data), cipher.final()]);
      return {
        keyId,
        iv: iv.toString('base64'),
        ciphertext: ciphertext.toString('base64'),
        tag: cipher.getAuthTag().toString('base64'),
        v: 2,
      };
    },
    decrypt(blob, context = '') {
      const key = ring.key(blob.keyId);
      if (key === undefined) throw new UnknownKeyError(blob.keyId);
      const iv = fromBase64('iv', blob.iv, IV_SIZE);
      const tag = fromBase64('tag', blob.tag, TAG_SIZE);
      const ciphertext = fromBase64('ciphertext', blob.ciphertext);
      if (blob.v !== undefined && blob.v !== 2) throw new MalformedBlobError(`secret box: unknown blob format ${String(blob.v)}`);
      let plain: Buffer;
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_SIZE });
        decipher.setAAD(aad(blob.keyId, context, blob.v));
        decipher.setAuthTag(tag);
        plain = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
      } catch (cause) {
        throw new SecretDecryptError(blob.keyId, { cause });
      }
      return blob.v === 2 ? unframe(plain) : plain;
    },
  };
}

/**
 * The key id is authenticated too, so relabelling a blob with another id cannot go unnoticed; so is
 * the format, so a framed blob cannot be passed off as an unframed one (or back).
 */
function aad(keyId: string, context: string, version: number | undefined): Buffer {
  return Buffer.from(JSON.stringify(version === undefined ? [keyId, context] : [keyId, context, version]), 'utf8');
}

function frame(data: Uint8Array, padTo: number): Buffer {
  if (data.length > 0xffff) throw new MalformedBlobError('secret box: a secret must be shorter than 64 KiB');
  const size = Math.max(padTo, Math.ceil((LENGTH_PREFIX + data.length) / FRAME_BLOCK) * FRAME_BLOCK);
  const out = Buffer.alloc(size);
  out.writeUInt16BE(data.length, 0);
  out.set(data, LENGTH_PREFIX);
  return out;
}

function unframe(framed: Buffer): Buffer {
  const length = framed.length >= LENGTH_PREFIX ? framed.readUInt16BE(0) : -1;
  if (length < 0 || LENGTH_PREFIX + length > framed.length) throw new MalformedBlobError('secret box: framed secret is truncated');
  return framed.subarray(LENGTH_PREFIX, LENGTH_PREFIX + length);
}

function fromBase64(field: string, value: string, size?: number): Buffer {
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) {
    throw new MalformedBlobError(`secret box: ${field} is not base64`);
  }
  const bytes = Buffer.from(value, 'base64');
  if (size !== undefined && bytes.length !== size) {
    throw new MalformedBlobError(`secret box: ${field} must be ${size} bytes, got ${bytes.length}`);
  }
  return bytes;
}
