import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidAuthInputError, verifyPap } from '../../../../../functions/src/domain/ppp-auth';
import { computeChapMd5, ntPasswordHash, verifyChapMd5 } from '../../../../../contract/src/ppp-auth';

describe('CHAP-MD5 (RFC 1994 §4.1)', () => {
  // Expected values computed independently (Python hashlib) as MD5(id | secret | challenge).
  const challenge = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
  test('byte vectors', () => {
    assert.equal(computeChapMd5({ id: 1, secret: 'secret', challenge }).toString('hex'), '740e86463bda3a4d7017d6e0fba0699d');
    assert.equal(
      computeChapMd5({ id: 255, secret: 'pässwörd', challenge: 'deadbeef' }).toString('hex'),
      '0bf47c73927527dbaa2d351777f11104',
    );
  });
  test('verify accepts the right response and rejects wrong id, secret, challenge or length', () => {
    const response = computeChapMd5({ id: 7, secret: 's3cret', challenge });
    assert.equal(verifyChapMd5({ id: 7, secret: 's3cret', challenge, response }), true);
    assert.equal(verifyChapMd5({ id: 7, secret: Buffer.from('s3cret'), challenge, response: response.toString('hex') }), true);
    assert.equal(verifyChapMd5({ id: 8, secret: 's3cret', challenge, response }), false);
    assert.equal(verifyChapMd5({ id: 7, secret: 's3creT', challenge, response }), false);
    assert.equal(verifyChapMd5({ id: 7, secret: 's3cret', challenge: challenge.subarray(1), response }), false);
    assert.equal(verifyChapMd5({ id: 7, secret: 's3cret', challenge, response: response.subarray(0, 15) }), false);
  });
  test('bad identifier or empty challenge are input errors', () => {
    assert.throws(() => computeChapMd5({ id: 256, secret: 'x', challenge }), InvalidAuthInputError);
    assert.throws(() => computeChapMd5({ id: -1, secret: 'x', challenge }), InvalidAuthInputError);
    assert.throws(() => computeChapMd5({ id: 1, secret: 'x', challenge: Buffer.alloc(0) }), InvalidAuthInputError);
  });
});

describe('PAP against the stored NT hash', () => {
  test('accepts the password and rejects others', async () => {
    const stored = (await ntPasswordHash('clientPass')).toString('hex');
    assert.equal(stored, '44ebba8d5312b8d611474411f56989ae'); // RFC 2759 §9.2
    assert.equal(await verifyPap(stored, 'clientPass'), true);
    assert.equal(await verifyPap(stored, 'clientpass'), false);
    assert.equal(await verifyPap(stored, ''), false);
  });
  test('non-ASCII passwords hash as UTF-16LE', async () => {
    const stored = await ntPasswordHash('pässwörd');
    assert.equal(await verifyPap(stored, 'pässwörd'), true);
    assert.equal(await verifyPap(stored, 'passwoerd'), false);
  });
  test('a corrupt stored hash is an input error', async () => {
    await assert.rejects(verifyPap('abcd', 'x'), InvalidAuthInputError);
  });
});
