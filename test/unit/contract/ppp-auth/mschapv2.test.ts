import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  challengeHash,
  challengeHashUsername,
  challengeResponse,
  checkAuthenticatorResponse,
  computeMsChapV2Response,
  desEncryptBlock,
  expandDesKey,
  generateAuthenticatorResponse,
  generateNtResponse,
  hashNtPasswordHash,
  InvalidAuthInputError,
  ntPasswordHash,
  verifyMsChapV2,
} from '../../../../contract/src/ppp-auth';

// RFC 2759 §9.2 "Hash Example": user name "User", password "clientPass".
const RFC = {
  username: 'User',
  password: 'clientPass',
  authenticatorChallenge: '5B5D7C7D7B3F2F3E3C2C602132262628',
  peerChallenge: '21402324255E262A28295F2B3A337C7E',
  challenge: 'D02E4386BCE91226',
  ntHash: '44EBBA8D5312B8D611474411F56989AE',
  ntResponse: '82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF',
  passwordHashHash: '41C00C584BD2D91C4017A2A12FA59F3F',
  authenticatorResponse: 'S=407A5589115FD0D6209F510FE9C04566932CDA56',
};
const hex = (b: Buffer) => b.toString('hex').toUpperCase();

describe('RFC 2759 §9.2 vectors', () => {
  test('NtPasswordHash', async () => {
    assert.equal(hex(await ntPasswordHash(RFC.password)), RFC.ntHash);
  });
  test('HashNtPasswordHash', async () => {
    assert.equal(hex(await hashNtPasswordHash(Buffer.from(RFC.ntHash, 'hex'))), RFC.passwordHashHash);
  });
  test('ChallengeHash', () => {
    assert.equal(hex(challengeHash(RFC.peerChallenge, RFC.authenticatorChallenge, RFC.username)), RFC.challenge);
  });
  test('ChallengeResponse', () => {
    assert.equal(hex(challengeResponse(RFC.challenge, RFC.ntHash)), RFC.ntResponse);
  });
  test('GenerateNTResponse', () => {
    assert.equal(hex(generateNtResponse(RFC)), RFC.ntResponse);
  });
  test('GenerateAuthenticatorResponse', async () => {
    assert.equal(await generateAuthenticatorResponse(RFC), RFC.authenticatorResponse);
  });
});

describe('user name in ChallengeHash (RFC 2759 §8.2)', () => {
  test('a prepended DOMAIN\\ is excluded, as the peer hashes it', () => {
    assert.equal(challengeHashUsername('ACME\\User'), 'User');
    assert.equal(hex(challengeHash(RFC.peerChallenge, RFC.authenticatorChallenge, 'ACME\\User')), RFC.challenge);
  });
  test('an @realm suffix is part of the hashed name', () => {
    assert.equal(challengeHashUsername('User@acme'), 'User@acme');
    assert.notEqual(hex(challengeHash(RFC.peerChallenge, RFC.authenticatorChallenge, 'User@acme')), RFC.challenge);
  });
  test('the name is case-sensitive', () => {
    assert.notEqual(hex(challengeHash(RFC.peerChallenge, RFC.authenticatorChallenge, 'user')), RFC.challenge);
  });
});

describe('verifyMsChapV2 (server side)', () => {
  test('accepts the RFC response and returns the S= string', async () => {
    assert.deepEqual(await verifyMsChapV2(RFC), { ok: true, authenticatorResponse: RFC.authenticatorResponse });
  });
  test('accepts Buffers as well as hex', async () => {
    const verdict = await verifyMsChapV2({
      ...RFC,
      ntHash: Buffer.from(RFC.ntHash, 'hex'),
      ntResponse: Buffer.from(RFC.ntResponse, 'hex'),
    });
    assert.equal(verdict.ok, true);
  });
  test('rejects a response made with another password', async () => {
    const wrong = await computeMsChapV2Response({ ...RFC, ntHash: undefined, password: 'clientPasS' });
    assert.deepEqual(await verifyMsChapV2({ ...RFC, ntResponse: wrong.ntResponse }), { ok: false });
  });
  test('rejects a single flipped bit', async () => {
    const resp = Buffer.from(RFC.ntResponse, 'hex');
    resp[23] = resp[23]! ^ 1;
    assert.deepEqual(await verifyMsChapV2({ ...RFC, ntResponse: resp }), { ok: false });
  });
  test('rejects when the user name differs from what the peer hashed', async () => {
    assert.deepEqual(await verifyMsChapV2({ ...RFC, username: 'User@acme' }), { ok: false });
  });
  test('malformed sizes are input errors, not wrong passwords', async () => {
    await assert.rejects(verifyMsChapV2({ ...RFC, ntResponse: 'AABB' }), InvalidAuthInputError);
    await assert.rejects(verifyMsChapV2({ ...RFC, peerChallenge: '00' }), InvalidAuthInputError);
    await assert.rejects(verifyMsChapV2({ ...RFC, ntHash: 'zz' }), InvalidAuthInputError);
  });
});

describe('client side', () => {
  test('computeMsChapV2Response reproduces the RFC values and the 49-byte Value field', async () => {
    const r = await computeMsChapV2Response({
      username: RFC.username,
      password: RFC.password,
      authenticatorChallenge: RFC.authenticatorChallenge,
      peerChallenge: RFC.peerChallenge,
    });
    assert.equal(hex(r.ntResponse), RFC.ntResponse);
    assert.equal(r.expectedAuthenticatorResponse, RFC.authenticatorResponse);
    assert.equal(r.responseValue.length, 49);
    assert.equal(hex(r.responseValue), RFC.peerChallenge + '00'.repeat(8) + RFC.ntResponse + '00');
  });
  test('a random peer challenge round-trips through the server with a domain-qualified name', async () => {
    const authenticatorChallenge = Buffer.alloc(16, 7);
    const client = await computeMsChapV2Response({ username: 'ACME\\alice', password: 'pässwörd', authenticatorChallenge });
    const ntHash = await ntPasswordHash('pässwörd');
    const verdict = await verifyMsChapV2({
      ntHash,
      authenticatorChallenge,
      peerChallenge: client.peerChallenge,
      ntResponse: client.ntResponse,
      username: 'ACME\\alice',
    });
    assert.deepEqual(verdict, { ok: true, authenticatorResponse: client.expectedAuthenticatorResponse });
  });
  test('password and ntHash together are refused as ambiguous', async () => {
    await assert.rejects(computeMsChapV2Response({ ...RFC }), TypeError);
  });
  test('checkAuthenticatorResponse accepts S= with a message, any hex case, and rejects a forgery', async () => {
    const base = { ...RFC, ntHash: undefined, peerChallenge: RFC.peerChallenge };
    assert.equal(await checkAuthenticatorResponse({ ...base, received: `${RFC.authenticatorResponse} M=Welcome` }), true);
    assert.equal(await checkAuthenticatorResponse({ ...base, received: RFC.authenticatorResponse.toLowerCase().replace('s=', 'S=') }), true);
    assert.equal(await checkAuthenticatorResponse({ ...base, received: 'S=407A5589115FD0D6209F510FE9C04566932CDA57' }), false);
    assert.equal(await checkAuthenticatorResponse({ ...base, received: 'S=407A' }), false);
    assert.equal(await checkAuthenticatorResponse({ ...base, password: 'nope', received: RFC.authenticatorResponse }), false);
  });
});

describe('DES helpers', () => {
  // FIPS 81 / classic DES known answer: key 7CA110454A1A6E57, 01A1D6D039776742 -> 690F5B0D9A26939B.
  const key8 = Buffer.from('7CA110454A1A6E57', 'hex');
  const compress = (k: Buffer): Buffer => {
    let bits = 0n;
    for (const b of k) bits = (bits << 7n) | BigInt(b >> 1);
    return Buffer.from(bits.toString(16).padStart(14, '0'), 'hex');
  };
  test('expandDesKey restores the 56 key bits and sets odd parity', () => {
    const expanded = expandDesKey(compress(key8));
    for (let i = 0; i < 8; i++) {
      assert.equal(expanded[i]! >> 1, key8[i]! >> 1);
      let ones = 0;
      for (let v = expanded[i]!; v; v >>= 1) ones += v & 1;
      assert.equal(ones % 2, 1, `byte ${i} parity`);
    }
  });
  test('desEncryptBlock matches a DES known answer', () => {
    assert.equal(hex(desEncryptBlock(compress(key8), Buffer.from('01A1D6D039776742', 'hex'))), '690F5B0D9A26939B');
  });
});
