/**
 * The client's side of one exchange, pure: build an Access-Request or Accounting-Request, and check
 * the answer. Transport (retransmission, failover) is client.ts's job; identifiers come from
 * identifiers.ts.
 *
 * Every Access-Request carries a Message-Authenticator, as its first attribute (RFC 3579 §3.2; the
 * BlastRADIUS mitigation, CVE-2024-3596), and `checkResponse` requires and verifies one in every
 * Access-Accept/Reject/Challenge by default.
 */
import { Attr, AUTHENTICATOR_LENGTH, RadiusCode } from './constants';
import { accountingRequestAuthenticator, messageAuthenticator, responseAuthenticator, sameBytes, writeMessageAuthenticator } from './authenticators';
import { RadiusCodecError } from './errors';
import { decodePacket, encodePacket, type RadiusAttribute, type RadiusPacket } from './packet';
import { hidePassword } from './user-password';

/** An encoded request and what checking its answer needs. */
export interface EncodedRequest {
  readonly code: number;
  readonly identifier: number;
  /** The Request Authenticator as sent (random for Access-Request, the MD5 for Accounting-Request). */
  readonly authenticator: Buffer;
  readonly bytes: Buffer;
}

const EMPTY_MAC = Buffer.alloc(AUTHENTICATOR_LENGTH);

function checkSecret(secret: Uint8Array): RadiusCodecError | undefined {
  return secret.length === 0 ? new RadiusCodecError('bad-secret', 'the shared secret is empty') : undefined;
}

export interface AccessRequestInput {
  readonly identifier: number;
  readonly secret: Uint8Array;
  /** 16 unpredictable octets (RFC 2865 §3: "SHOULD exhibit global and temporal uniqueness"). */
  readonly requestAuthenticator: Uint8Array;
  /** Every attribute but User-Password and Message-Authenticator, which this function adds. */
  readonly attributes: readonly RadiusAttribute[];
  /** PAP: hidden per RFC 2865 §5.2 with this request's authenticator and secret. */
  readonly password?: Uint8Array;
}

/** Encodes an Access-Request with a Message-Authenticator first (RFC 3579 §3.2) and the password hidden. */
export function encodeAccessRequest(input: AccessRequestInput): EncodedRequest | RadiusCodecError {
  const bad = checkSecret(input.secret);
  if (bad) return bad;
  if (input.requestAuthenticator.length !== AUTHENTICATOR_LENGTH) {
    return new RadiusCodecError('bad-request-authenticator', 'the Request Authenticator must be 16 bytes');
  }
  const authenticator = Buffer.from(input.requestAuthenticator);
  const attributes: RadiusAttribute[] = [{ type: Attr.MessageAuthenticator, value: EMPTY_MAC }];
  for (const a of input.attributes) {
    if (a.type === Attr.MessageAuthenticator || a.type === Attr.UserPassword) continue;
    attributes.push(a);
  }
  if (input.password !== undefined) {
    const hidden = hidePassword(input.password, input.secret, authenticator);
    if (hidden instanceof RadiusCodecError) return hidden;
    attributes.splice(1, 0, { type: Attr.UserPassword, value: hidden });
  }
  const bytes = encodePacket({ code: RadiusCode.AccessRequest, identifier: input.identifier, authenticator, attributes });
  if (bytes instanceof RadiusCodecError) return bytes;
  writeMessageAuthenticator(bytes, authenticator, input.secret);
  return { code: RadiusCode.AccessRequest, identifier: input.identifier, authenticator, bytes };
}

export interface AccountingRequestInput {
  readonly identifier: number;
  readonly secret: Uint8Array;
  /** Acct-Status-Type and the rest (RFC 2866 §5); Message-Authenticator is added only on request. */
  readonly attributes: readonly RadiusAttribute[];
  /**
   * Add a Message-Authenticator (computed with a zero authenticator field, before the Request
   * Authenticator, as FreeRADIUS verifies it). RFC 2866 does not require one. Default false.
   */
  readonly messageAuthenticator?: boolean;
}

/** Encodes an Accounting-Request with its Request Authenticator (RFC 2866 §3). */
export function encodeAccountingRequest(input: AccountingRequestInput): EncodedRequest | RadiusCodecError {
  const bad = checkSecret(input.secret);
  if (bad) return bad;
  const attributes = input.attributes.filter((a) => a.type !== Attr.MessageAuthenticator);
  if (input.messageAuthenticator) attributes.unshift({ type: Attr.MessageAuthenticator, value: EMPTY_MAC });
  const zero = Buffer.alloc(AUTHENTICATOR_LENGTH);
  const bytes = encodePacket({ code: RadiusCode.AccountingRequest, identifier: input.identifier, authenticator: zero, attributes });
  if (bytes instanceof RadiusCodecError) return bytes;
  if (input.messageAuthenticator) writeMessageAuthenticator(bytes, zero, input.secret);
  const authenticator = accountingRequestAuthenticator(bytes, input.secret);
  authenticator.copy(bytes, 4);
  return { code: RadiusCode.AccountingRequest, identifier: input.identifier, authenticator, bytes };
}

/** Which answers each request code may get (RFC 2865 §4, RFC 2866 §4). */
const ANSWERS: Record<number, readonly number[]> = {
  [RadiusCode.AccessRequest]: [RadiusCode.AccessAccept, RadiusCode.AccessReject, RadiusCode.AccessChallenge],
  [RadiusCode.AccountingRequest]: [RadiusCode.AccountingResponse],
  [RadiusCode.StatusServer]: [RadiusCode.AccessAccept, RadiusCode.AccountingResponse],
};

export interface CheckResponseOptions {
  /**
   * Refuse an answer without a Message-Authenticator. Default: true for answers to an
   * Access-Request (BlastRADIUS), false for Accounting-Response (RFC 2866 has none).
   */
  readonly requireMessageAuthenticator?: boolean;
}

/**
 * Decodes and checks an answer to `request`: its code fits the request, its Identifier matches,
 * its Message-Authenticator (required unless told otherwise) and its Response Authenticator
 * verify. Any failure is an error value; RFC 2865 §3 says to discard such a packet silently.
 */
export function checkResponse(
  request: EncodedRequest,
  bytes: Uint8Array,
  secret: Uint8Array,
  options: CheckResponseOptions = {},
): RadiusPacket | RadiusCodecError {
  const packet = decodePacket(bytes);
  if (packet instanceof RadiusCodecError) return packet;
  if (!(ANSWERS[request.code] ?? []).includes(packet.code)) {
    return new RadiusCodecError('unexpected-code', `code ${packet.code} does not answer code ${request.code}`, { code: packet.code });
  }
  if (packet.identifier !== request.identifier) {
    return new RadiusCodecError('wrong-identifier', `identifier ${packet.identifier}, expected ${request.identifier}`);
  }
  const whole = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const raw = whole.subarray(0, whole.readUInt16BE(2)); // padding past Length is not authenticated
  const macs = packet.attributes.filter((a) => a.type === Attr.MessageAuthenticator);
  const required = options.requireMessageAuthenticator ?? request.code !== RadiusCode.AccountingRequest;
  if (macs.length === 0 && required) {
    return new RadiusCodecError('missing-message-authenticator', 'the answer carries no Message-Authenticator (RFC 3579 §3.2)');
  }
  if (macs.length > 1 || macs.some((m) => m.value.length !== AUTHENTICATOR_LENGTH)) {
    return new RadiusCodecError('bad-message-authenticator', 'the answer carries a malformed or repeated Message-Authenticator');
  }
  if (macs.length === 1) {
    const expected = messageAuthenticator(raw, request.authenticator, secret);
    if (!expected || !sameBytes(expected, macs[0]!.value)) {
      return new RadiusCodecError('bad-message-authenticator', 'the Message-Authenticator does not verify (wrong secret or forged answer)');
    }
  }
  if (!sameBytes(responseAuthenticator(raw, request.authenticator, secret), packet.authenticator)) {
    return new RadiusCodecError('bad-response-authenticator', 'the Response Authenticator does not verify (wrong secret or forged answer)');
  }
  return packet;
}
