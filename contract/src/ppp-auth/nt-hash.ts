import { md4 } from 'hash-wasm';

/**
 * NtPasswordHash (RFC 2759 §8.3): MD4 over the password in UTF-16LE, no terminator.
 * Node 20's OpenSSL 3 has MD4 only in the legacy provider, so hash-wasm's MD4 is used instead.
 */
export async function ntPasswordHash(password: string): Promise<Buffer> {
  return md4Bytes(Buffer.from(password, 'utf16le'));
}

/** HashNtPasswordHash (RFC 2759 §8.4): MD4 of the 16-byte NT hash, used by the authenticator response. */
export async function hashNtPasswordHash(ntHash: Uint8Array): Promise<Buffer> {
  return md4Bytes(ntHash);
}

async function md4Bytes(data: Uint8Array): Promise<Buffer> {
  return Buffer.from(await md4(data), 'hex');
}
