/**
 * Checks an Accounting-Response, pure, with the Message-Authenticator required (the broker deletes
 * an outbox record only on an answer that proves the server holds the secret and answers this
 * very request).
 *
 * Why not request.ts checkResponse: RFC 3579 §3.2 defines the Message-Authenticator of Access-*
 * answers over the Request Authenticator, and says nothing of Accounting-Response. FreeRADIUS 3
 * (src/lib/radius.c, rad_sign/rad_verify) computes an Accounting-Response's with the
 * authenticator field zeroed, as for an Accounting-Request; checkResponse would refuse every
 * such answer. This check accepts either vector: both are HMAC-MD5 keyed with the secret, and the
 * Response Authenticator (RFC 2866 §3), checked too, binds the answer to the request.
 */
import { Attr, AUTHENTICATOR_LENGTH, RadiusCode } from '../constants';
import { messageAuthenticator, responseAuthenticator, sameBytes } from '../authenticators';
import { RadiusCodecError } from '../errors';
import { decodePacket, type RadiusPacket } from '../packet';
import type { EncodedRequest } from '../request';

const ZERO = Buffer.alloc(AUTHENTICATOR_LENGTH);

/** The answer to `request` when it is a genuine Accounting-Response; an error value otherwise. */
export function checkAccountingResponse(request: EncodedRequest, bytes: Uint8Array, secret: Uint8Array): RadiusPacket | RadiusCodecError {
  const packet = decodePacket(bytes);
  if (packet instanceof RadiusCodecError) return packet;
  if (packet.code !== RadiusCode.AccountingResponse) {
    return new RadiusCodecError('unexpected-code', `code ${packet.code} does not answer an Accounting-Request`, { code: packet.code });
  }
  if (packet.identifier !== request.identifier) {
    return new RadiusCodecError('wrong-identifier', `identifier ${packet.identifier}, expected ${request.identifier}`);
  }
  const whole = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const raw = whole.subarray(0, whole.readUInt16BE(2)); // padding past Length is not authenticated
  const macs = packet.attributes.filter((a) => a.type === Attr.MessageAuthenticator);
  if (macs.length === 0) {
    return new RadiusCodecError('missing-message-authenticator', 'the Accounting-Response carries no Message-Authenticator');
  }
  if (macs.length > 1 || macs[0]!.value.length !== AUTHENTICATOR_LENGTH) {
    return new RadiusCodecError('bad-message-authenticator', 'the Accounting-Response carries a malformed or repeated Message-Authenticator');
  }
  const mac = macs[0]!.value;
  const verifies = [ZERO, request.authenticator].some((vector) => {
    const expected = messageAuthenticator(raw, vector, secret);
    return expected !== undefined && sameBytes(expected, mac);
  });
  if (!verifies) {
    return new RadiusCodecError('bad-message-authenticator', 'the Message-Authenticator does not verify (wrong secret or forged answer)');
  }
  if (!sameBytes(responseAuthenticator(raw, request.authenticator, secret), packet.authenticator)) {
    return new RadiusCodecError('bad-response-authenticator', 'the Response Authenticator does not verify (wrong secret or forged answer)');
  }
  return packet;
}
