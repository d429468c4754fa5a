/**
 * Requests and answers: Message-Authenticator on every Access-Request and required on every answer
 * (RFC 3579 §3.2, BlastRADIUS / CVE-2024-3596), Response Authenticator (RFC 2865 §3), the
 * Accounting-Request authenticator (RFC 2866 §3). Expected MACs are computed here independently
 * from the RFC formulas, not with the code under test.
 */
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  Attr,
  checkRequest,
  checkResponse,
  decodePacket,
  encodeAccessRequest,
  encodeAccountingRequest,
  encodeResponse,
  integerAttribute,
  isRadiusCodecError,
  RadiusCode,
  readText,
  revealPassword,
  textAttribute,
  type EncodedRequest,
  type RadiusPacket,
} from '../../../../functions/src/radius';

const SECRET = Buffer.from('s3cret-shared');
const AUTH = Buffer.from('00112233445566778899aabbccddeeff', 'hex');

function request(): EncodedRequest {
  const r = encodeAccessRequest({
    identifier: 42,
    secret: SECRET,
    requestAuthenticator: AUTH,
    attributes: [textAttribute(Attr.UserName, 'alice'), textAttribute(Attr.NasIdentifier, 'broker')],
    password: Buffer.from('correct horse'),
  });
  assert.ok(!isRadiusCodecError(r), String(r));
  return r as EncodedRequest;
}

/** HMAC-MD5 over the packet with `auth` in the header and the MAC value (at `offset`) zeroed. */
function independentMac(bytes: Buffer, auth: Buffer, offset: number): Buffer {
  const copy = Buffer.from(bytes);
  auth.copy(copy, 4);
  copy.fill(0, offset, offset + 16);
  return createHmac('md5', SECRET).update(copy).digest();
}

function answer(req: EncodedRequest, overrides: Partial<Parameters<typeof encodeResponse>[0]> = {}): Buffer {
  const r = encodeResponse({
    code: RadiusCode.AccessAccept,
    identifier: req.identifier,
    requestAuthenticator: req.authenticator,
    secret: SECRET,
    attributes: [integerAttribute(Attr.SessionTimeout, 3600)],
    ...overrides,
  });
  assert.ok(Buffer.isBuffer(r), String(r));
  return r as Buffer;
}

const codeOf = (r: unknown) => (isRadiusCodecError(r) ? r.code : 'ok');

describe('Access-Request', () => {
  test('carries Message-Authenticator first, computed per RFC 3579 §3.2, and the hidden password', () => {
    const req = request();
    const p = decodePacket(req.bytes) as RadiusPacket;
    assert.equal(p.attributes[0]!.type, Attr.MessageAuthenticator);
    assert.deepEqual(p.attributes[0]!.value, independentMac(req.bytes, AUTH, 22));
    const pw = p.attributes.find((a) => a.type === Attr.UserPassword)!.value;
    assert.deepEqual(revealPassword(pw, SECRET, AUTH), Buffer.from('correct horse'));
    assert.equal(readText(p, Attr.UserName), 'alice');
    assert.equal(codeOf(checkRequest(req.bytes, SECRET, { requireMessageAuthenticator: true })), 'ok');
    assert.equal(codeOf(checkRequest(req.bytes, Buffer.from('other'), { requireMessageAuthenticator: true })), 'bad-message-authenticator');
  });

  test('a caller-supplied Message-Authenticator or User-Password is replaced, not doubled', () => {
    const r = encodeAccessRequest({
      identifier: 1,
      secret: SECRET,
      requestAuthenticator: AUTH,
      attributes: [{ type: Attr.MessageAuthenticator, value: Buffer.alloc(16, 1) }, { type: Attr.UserPassword, value: Buffer.alloc(16) }],
    }) as EncodedRequest;
    const p = decodePacket(r.bytes) as RadiusPacket;
    assert.deepEqual(p.attributes.map((a) => a.type), [Attr.MessageAuthenticator]);
  });

  test('an empty secret, a short authenticator or a too-long value is an error value', () => {
    assert.equal(codeOf(encodeAccessRequest({ identifier: 1, secret: Buffer.alloc(0), requestAuthenticator: AUTH, attributes: [] })), 'bad-secret');
    assert.equal(codeOf(encodeAccessRequest({ identifier: 1, secret: SECRET, requestAuthenticator: AUTH.subarray(1), attributes: [] })), 'bad-request-authenticator');
    assert.equal(codeOf(encodeAccessRequest({ identifier: 1, secret: SECRET, requestAuthenticator: AUTH, attributes: [textAttribute(1, 'x'.repeat(300))] })), 'value-too-long');
  });
});

describe('checking an answer (BlastRADIUS defences)', () => {
  test('a genuine answer passes; its MAC and authenticator match independent computations', () => {
    const req = request();
    const bytes = answer(req);
    const p = checkResponse(req, bytes, SECRET) as RadiusPacket;
    assert.equal(p.code, RadiusCode.AccessAccept);
    assert.deepEqual(p.attributes[0]!.value, independentMac(bytes, AUTH, 22));
    const zeroedAuth = Buffer.from(bytes);
    AUTH.copy(zeroedAuth, 4);
    assert.deepEqual(p.authenticator, createHash('md5').update(zeroedAuth).update(SECRET).digest());
  });

  test('an answer without Message-Authenticator is refused', () => {
    const req = request();
    assert.equal(codeOf(checkResponse(req, answer(req, { messageAuthenticator: false }), SECRET)), 'missing-message-authenticator');
    assert.equal(codeOf(checkResponse(req, answer(req, { code: RadiusCode.AccessReject, messageAuthenticator: false }), SECRET)), 'missing-message-authenticator');
  });

  test('a forged answer is refused: wrong secret, tampered attribute, wrong Response Authenticator, wrong identifier, wrong code', () => {
    const req = request();
    assert.equal(codeOf(checkResponse(req, answer(req, { secret: Buffer.from('guess') }), SECRET)), 'bad-message-authenticator');
    const tampered = answer(req);
    tampered[tampered.length - 1]! ^= 1; // Session-Timeout changed after signing
    assert.equal(codeOf(checkResponse(req, tampered, SECRET)), 'bad-message-authenticator');
    const badAuth = answer(req);
    badAuth[4]! ^= 1; // the MAC covers the Request Authenticator, so only the Response Authenticator catches this
    assert.equal(codeOf(checkResponse(req, badAuth, SECRET)), 'bad-response-authenticator');
    assert.equal(codeOf(checkResponse(req, answer(req, { identifier: 43 }), SECRET)), 'wrong-identifier');
    assert.equal(codeOf(checkResponse(req, answer(req, { code: RadiusCode.AccountingResponse }), SECRET)), 'unexpected-code');
    const otherRequest = { ...req, authenticator: Buffer.alloc(16, 9) };
    assert.equal(codeOf(checkResponse(otherRequest, answer(req), SECRET)), 'bad-message-authenticator');
  });

  test('two Message-Authenticators, or one of the wrong size, are refused', () => {
    const req = request();
    const twice = answer(req, { attributes: [] });
    const p = decodePacket(twice) as RadiusPacket;
    const doubled = Buffer.concat([twice, Buffer.from([80, 18]), p.attributes[0]!.value]);
    doubled.writeUInt16BE(doubled.length, 2);
    assert.equal(codeOf(checkResponse(req, doubled, SECRET)), 'bad-message-authenticator');
  });

  test('the accounting answer needs no Message-Authenticator unless asked', () => {
    const acct = encodeAccountingRequest({ identifier: 5, secret: SECRET, attributes: [integerAttribute(Attr.AcctStatusType, 1)] }) as EncodedRequest;
    const resp = encodeResponse({ code: RadiusCode.AccountingResponse, identifier: 5, requestAuthenticator: acct.authenticator, secret: SECRET, attributes: [], messageAuthenticator: false }) as Buffer;
    assert.equal(codeOf(checkResponse(acct, resp, SECRET)), 'ok');
    assert.equal(codeOf(checkResponse(acct, resp, SECRET, { requireMessageAuthenticator: true })), 'missing-message-authenticator');
    resp[4]! ^= 1;
    assert.equal(codeOf(checkResponse(acct, resp, SECRET)), 'bad-response-authenticator');
  });
});

describe('Accounting-Request (RFC 2866 §3)', () => {
  test('its authenticator is MD5(packet with zero authenticator + secret)', () => {
    const acct = encodeAccountingRequest({
      identifier: 7,
      secret: SECRET,
      attributes: [integerAttribute(Attr.AcctStatusType, 1), textAttribute(Attr.AcctSessionId, 's-1')],
    }) as EncodedRequest;
    const zeroed = Buffer.from(acct.bytes);
    zeroed.fill(0, 4, 20);
    assert.deepEqual(acct.authenticator, createHash('md5').update(zeroed).update(SECRET).digest());
    assert.deepEqual(acct.bytes.subarray(4, 20), acct.authenticator);
    assert.equal(codeOf(checkRequest(acct.bytes, SECRET)), 'ok');
    assert.equal(codeOf(checkRequest(acct.bytes, Buffer.from('nope'))), 'bad-request-authenticator');
  });

  test('with a Message-Authenticator: computed over the zero authenticator, then the authenticator over the MAC', () => {
    const acct = encodeAccountingRequest({ identifier: 8, secret: SECRET, attributes: [integerAttribute(Attr.AcctStatusType, 2)], messageAuthenticator: true }) as EncodedRequest;
    const p = decodePacket(acct.bytes) as RadiusPacket;
    assert.equal(p.attributes[0]!.type, Attr.MessageAuthenticator);
    assert.deepEqual(p.attributes[0]!.value, independentMac(acct.bytes, Buffer.alloc(16), 22));
    assert.equal(codeOf(checkRequest(acct.bytes, SECRET, { requireMessageAuthenticator: true })), 'ok');
  });
});
