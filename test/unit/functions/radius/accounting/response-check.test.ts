/**
 * The Accounting-Response check: a Message-Authenticator is required and must verify (in
 * FreeRADIUS's zero-vector form or over the Request Authenticator), and so must the Response
 * Authenticator; each forged or stripped answer is refused (the outbox keeps its record then).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { checkAccountingResponse } from '../../../../../functions/src/radius/accounting/response-check';
import { Attr, encodeAccountingRequest, encodePacket, encodeResponse, integerAttribute, isRadiusCodecError, RadiusCode, type EncodedRequest } from '../../../../../functions/src/radius';

const secret = Buffer.from('shared-secret-1');
const request = encodeAccountingRequest({ identifier: 42, secret, attributes: [integerAttribute(Attr.AcctStatusType, 1)], messageAuthenticator: true }) as EncodedRequest;

/** An Accounting-Response as FreeRADIUS 3 signs it: Message-Authenticator over a zeroed authenticator field. */
function freeRadiusStyle(key: Buffer, options: { identifier?: number; code?: number; mac?: 'zero' | 'none' } = {}): Buffer {
  const withMac = options.mac !== 'none';
  const bytes = encodePacket({
    code: options.code ?? RadiusCode.AccountingResponse,
    identifier: options.identifier ?? request.identifier,
    authenticator: Buffer.alloc(16),
    attributes: withMac ? [{ type: Attr.MessageAuthenticator, value: Buffer.alloc(16) }] : [],
  }) as Buffer;
  if (withMac) createHmac('md5', key).update(bytes).digest().copy(bytes, 22);
  request.authenticator.copy(bytes, 4);
  createHash('md5').update(bytes).update(key).digest().copy(bytes, 4);
  return bytes;
}

test('accepts FreeRADIUS\'s form (zero vector) and the RFC 3579 form (Request Authenticator)', () => {
  assert.ok(!isRadiusCodecError(checkAccountingResponse(request, freeRadiusStyle(secret), secret)));
  const rfc = encodeResponse({ code: RadiusCode.AccountingResponse, identifier: 42, requestAuthenticator: request.authenticator, secret, attributes: [] }) as Buffer;
  assert.ok(!isRadiusCodecError(checkAccountingResponse(request, rfc, secret)));
});

test('refuses an answer without a Message-Authenticator, though its Response Authenticator verifies', () => {
  const r = checkAccountingResponse(request, freeRadiusStyle(secret, { mac: 'none' }), secret);
  assert.ok(isRadiusCodecError(r));
  assert.equal(r.code, 'missing-message-authenticator');
});

test('refuses an answer signed with another secret', () => {
  const r = checkAccountingResponse(request, freeRadiusStyle(Buffer.from('not-the-secret')), secret);
  assert.ok(isRadiusCodecError(r));
  assert.equal(r.code, 'bad-message-authenticator');
});

test('refuses a tampered answer (Response Authenticator), another identifier, another code', () => {
  const tampered = freeRadiusStyle(secret);
  tampered[5] = tampered[5]! ^ 1;
  const t = checkAccountingResponse(request, tampered, secret);
  assert.ok(isRadiusCodecError(t));
  assert.equal(t.code, 'bad-response-authenticator');
  const other = checkAccountingResponse(request, freeRadiusStyle(secret, { identifier: 43 }), secret);
  assert.ok(isRadiusCodecError(other) && other.code === 'wrong-identifier');
  const code = checkAccountingResponse(request, freeRadiusStyle(secret, { code: RadiusCode.AccessAccept }), secret);
  assert.ok(isRadiusCodecError(code) && code.code === 'unexpected-code');
  const short = checkAccountingResponse(request, Buffer.from([5, 42, 0]), secret);
  assert.ok(isRadiusCodecError(short) && short.code === 'truncated');
});
