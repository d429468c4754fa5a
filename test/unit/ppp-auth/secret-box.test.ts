import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  chapSecretOf,
  createSecretBox,
  credentialsFromPassword,
  InvalidAuthInputError,
  KeyRingConfigError,
  MalformedBlobError,
  SecretDecryptError,
  staticKeyRing,
  UnknownKeyError,
  verifyChapMd5,
  computeChapMd5,
  verifyPap,
} from '../../../functions/src/domain/ppp-auth';

const k1 = randomBytes(32).toString('base64');
const k2 = randomBytes(32).toString('base64');

describe('staticKeyRing', () => {
  test('holds every configured key', () => {
    const ring = staticKeyRing({ currentKeyId: 'k2', keys: { k1, k2 } });
    assert.equal(ring.currentKeyId, 'k2');
    assert.equal(ring.key('k1')?.toString('base64'), k1);
    assert.equal(ring.key('nope'), undefined);
  });
  test('names every bad entry', () => {
    assert.throws(
      () => staticKeyRing({ currentKeyId: 'k9', keys: { short: Buffer.alloc(16).toString('base64'), junk: '!!', k1 } }),
      (err: unknown) =>
        err instanceof KeyRingConfigError &&
        /"short"/.test(err.message) &&
        /"junk"/.test(err.message) &&
        /"k9"/.test(err.message) &&
        !/"k1"/.test(err.message),
    );
  });
});

describe('secret box', () => {
  const box = createSecretBox(staticKeyRing({ currentKeyId: 'k1', keys: { k1 } }));

  test('round-trips and uses a fresh IV each time', () => {
    const a = box.encrypt('hunter2');
    const b = box.encrypt('hunter2');
    assert.equal(a.keyId, 'k1');
    assert.notEqual(a.iv, b.iv);
    assert.notEqual(a.ciphertext + a.tag, b.ciphertext + b.tag);
    assert.equal(box.decrypt(a).toString('utf8'), 'hunter2');
    assert.equal(box.decrypt(b).toString('utf8'), 'hunter2');
  });
  test('old blobs open after rotation; new blobs use the new key', () => {
    const old = box.encrypt('psk');
    const rotated = createSecretBox(staticKeyRing({ currentKeyId: 'k2', keys: { k1, k2 } }));
    assert.equal(rotated.decrypt(old).toString(), 'psk');
    assert.equal(rotated.encrypt('x').keyId, 'k2');
  });
  test('unknown key id', () => {
    const other = createSecretBox(staticKeyRing({ currentKeyId: 'k2', keys: { k2 } }));
    assert.throws(() => other.decrypt(box.encrypt('x')), UnknownKeyError);
  });
  test('same id but different key material', () => {
    const impostor = createSecretBox(staticKeyRing({ currentKeyId: 'k1', keys: { k1: k2 } }));
    assert.throws(() => impostor.decrypt(box.encrypt('x')), SecretDecryptError);
  });
  test('tampered ciphertext, tag, iv, or relabelled key id', () => {
    const blob = box.encrypt('some secret');
    const flip = (b64: string) => {
      const b = Buffer.from(b64, 'base64');
      b[0] = b[0]! ^ 0x01;
      return b.toString('base64');
    };
    assert.throws(() => box.decrypt({ ...blob, ciphertext: flip(blob.ciphertext) }), SecretDecryptError);
    assert.throws(() => box.decrypt({ ...blob, tag: flip(blob.tag) }), SecretDecryptError);
    assert.throws(() => box.decrypt({ ...blob, iv: flip(blob.iv) }), SecretDecryptError);
    const both = createSecretBox(staticKeyRing({ currentKeyId: 'k1', keys: { k1, k2: k1 } }));
    assert.throws(() => both.decrypt({ ...blob, keyId: 'k2' }), SecretDecryptError);
  });
  test('context is bound', () => {
    const blob = box.encrypt('s', 'ipsec-psk');
    assert.equal(box.decrypt(blob, 'ipsec-psk').toString(), 's');
    assert.throws(() => box.decrypt(blob, 'user-chap-secret'), SecretDecryptError);
    assert.throws(() => box.decrypt(blob), SecretDecryptError);
  });
  test('malformed blobs', () => {
    const blob = box.encrypt('s');
    assert.throws(() => box.decrypt({ ...blob, iv: 'AAAA' }), MalformedBlobError);
    assert.throws(() => box.decrypt({ ...blob, tag: '***' }), MalformedBlobError);
  });
});

describe('credentialsFromPassword', () => {
  const box = createSecretBox(staticKeyRing({ currentKeyId: 'k1', keys: { k1 } }));
  test('NT hash only when CHAP-MD5 is off', async () => {
    const creds = await credentialsFromPassword('clientPass', { chapMd5: false, secretBox: box });
    assert.deepEqual(creds, { ntHash: '44ebba8d5312b8d611474411f56989ae' });
    assert.equal(chapSecretOf(creds, box), undefined);
  });
  test('encrypted CHAP secret when CHAP-MD5 is on, usable for verification', async () => {
    const creds = await credentialsFromPassword('clientPass', { chapMd5: true, secretBox: box });
    assert.equal(creds.ntHash, '44ebba8d5312b8d611474411f56989ae');
    assert.ok(creds.chapSecret);
    assert.ok(!JSON.stringify(creds).includes('clientPass'));
    const secret = chapSecretOf(creds, box);
    assert.equal(secret?.toString('utf8'), 'clientPass');
    const challenge = randomBytes(16);
    const response = computeChapMd5({ id: 3, secret: 'clientPass', challenge });
    assert.equal(verifyChapMd5({ id: 3, secret: secret!, challenge, response }), true);
    assert.equal(await verifyPap(creds.ntHash, 'clientPass'), true);
  });
  test('the CHAP secret does not open in another context (e.g. as a PSK)', async () => {
    const creds = await credentialsFromPassword('pw', { chapMd5: true, secretBox: box });
    assert.throws(() => box.decrypt(creds.chapSecret!, 'ipsec-psk'), SecretDecryptError);
  });
  test('empty and over-long passwords are refused', async () => {
    await assert.rejects(credentialsFromPassword('', { chapMd5: false, secretBox: box }), InvalidAuthInputError);
    await assert.rejects(credentialsFromPassword('x'.repeat(257), { chapMd5: false, secretBox: box }), InvalidAuthInputError);
    await credentialsFromPassword('x'.repeat(256), { chapMd5: false, secretBox: box });
  });
});
