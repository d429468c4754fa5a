import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import {
  CHAP_SECRET_CONTEXT,
  chapSecretOf,
  createSecretBox,
  credentialsFromPassword,
  InvalidAuthInputError,
  KeyRingConfigError,
  MalformedBlobError,
  ntHashOf,
  resealedCredentials,
  SecretBoxError,
  SecretDecryptError,
  staticKeyRing,
  UnknownKeyError,
  userSecretContext,
  verifyPap,
} from '../../../../../functions/src/domain/ppp-auth';
import { computeChapMd5, verifyChapMd5 } from '../../../../../contract/src/ppp-auth';

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
  const alice = { tenantId: 'acme', username: 'alice' };
  const NT = '44ebba8d5312b8d611474411f56989ae'; // RFC 2759 §9.2 "clientPass"

  test('issue 14 #6: the NT hash is sealed, bound to tenant and user, never in clear', async () => {
    const creds = await credentialsFromPassword('clientPass', alice, { chapMd5: false, secretBox: box });
    assert.deepEqual(Object.keys(creds), ['ntHashSealed']);
    assert.equal(creds.ntHashSealed?.v, 2);
    assert.ok(!JSON.stringify(creds).toLowerCase().includes(NT));
    assert.equal(ntHashOf(creds, alice, box).toString('hex'), NT);
    assert.equal(await verifyPap(ntHashOf(creds, alice, box), 'clientPass'), true);
    assert.equal(chapSecretOf(creds, alice, box), undefined);
    // Copied to another user or tenant, the blob does not open (AAD names tenant and user).
    assert.throws(() => ntHashOf(creds, { tenantId: 'acme', username: 'mallory' }, box), SecretDecryptError);
    assert.throws(() => ntHashOf(creds, { tenantId: 'globex', username: 'alice' }, box), SecretDecryptError);
    // Nor as a CHAP secret or a PSK.
    assert.throws(() => box.decrypt(creds.ntHashSealed!, userSecretContext(CHAP_SECRET_CONTEXT, alice)), SecretDecryptError);
    assert.throws(() => box.decrypt(creds.ntHashSealed!, 'ipsec-psk'), SecretDecryptError);
  });
  test('sealed CHAP secret when CHAP-MD5 is on, usable for verification', async () => {
    const creds = await credentialsFromPassword('clientPass', alice, { chapMd5: true, secretBox: box });
    assert.ok(creds.chapSecret);
    assert.ok(!JSON.stringify(creds).includes('clientPass'));
    const secret = chapSecretOf(creds, alice, box);
    assert.equal(secret?.toString('utf8'), 'clientPass');
    const challenge = randomBytes(16);
    const response = computeChapMd5({ id: 3, secret: 'clientPass', challenge });
    assert.equal(verifyChapMd5({ id: 3, secret: secret!, challenge, response }), true);
    assert.throws(() => chapSecretOf(creds, { ...alice, username: 'bob' }, box), SecretDecryptError);
    assert.throws(() => box.decrypt(creds.chapSecret!, 'ipsec-psk'), SecretDecryptError);
  });
  test('issue 14 #6: the sealed CHAP secret has one length whatever the password', async () => {
    const lengths = new Set<number>();
    for (const pw of ['a', 'correct horse battery staple', 'x'.repeat(200), '\u{1F600}'.repeat(128), '€'.repeat(256)]) {
      const creds = await credentialsFromPassword(pw, alice, { chapMd5: true, secretBox: box });
      lengths.add(creds.chapSecret!.ciphertext.length);
      assert.equal(chapSecretOf(creds, alice, box)?.toString('utf8'), pw);
    }
    assert.equal(lengths.size, 1, `ciphertext lengths ${[...lengths].join(', ')}`);
  });
  test('legacy credentials (clear NT hash, CHAP blob bound to its purpose only) still open and are re-sealed', async () => {
    const legacy = { ntHash: NT.toUpperCase(), chapSecret: legacyBlob(box, 'clientPass') };
    assert.equal(ntHashOf(legacy, alice, box).toString('hex'), NT);
    assert.equal(chapSecretOf(legacy, alice, box)?.toString('utf8'), 'clientPass');
    const resealed = resealedCredentials(legacy, alice, box)!;
    assert.deepEqual(Object.keys(resealed).sort(), ['chapSecret', 'ntHashSealed']);
    assert.equal(resealed.chapSecret?.v, 2);
    assert.equal(ntHashOf(resealed, alice, box).toString('hex'), NT);
    assert.equal(chapSecretOf(resealed, alice, box)?.toString('utf8'), 'clientPass');
    assert.equal(resealedCredentials(resealed, alice, box), undefined, 'nothing left to re-seal');
    assert.throws(() => ntHashOf({}, alice, box), SecretBoxError);
  });
  test('a framed blob cannot be passed off as an unframed one (the format is authenticated)', async () => {
    const creds = await credentialsFromPassword('pw', alice, { chapMd5: true, secretBox: box });
    const { v: _v, ...unframed } = creds.chapSecret!;
    assert.throws(() => box.decrypt(unframed, userSecretContext(CHAP_SECRET_CONTEXT, alice)), SecretDecryptError);
    assert.throws(() => box.decrypt({ ...creds.chapSecret!, v: 3 as 2 }), MalformedBlobError);
  });
  test('empty and over-long passwords are refused', async () => {
    await assert.rejects(credentialsFromPassword('', alice, { chapMd5: false, secretBox: box }), InvalidAuthInputError);
    await assert.rejects(credentialsFromPassword('x'.repeat(257), alice, { chapMd5: false, secretBox: box }), InvalidAuthInputError);
    await credentialsFromPassword('x'.repeat(256), alice, { chapMd5: false, secretBox: box });
  });
});

/** A CHAP blob as the broker sealed it before framing: AES-256-GCM, AAD [keyId, purpose], no `v`. */
function legacyBlob(_box: unknown, secret: string) {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(k1, 'base64'), iv);
  cipher.setAAD(Buffer.from(JSON.stringify(['k1', CHAP_SECRET_CONTEXT]), 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return { keyId: 'k1', iv: iv.toString('base64'), ciphertext: ciphertext.toString('base64'), tag: cipher.getAuthTag().toString('base64') };
}
