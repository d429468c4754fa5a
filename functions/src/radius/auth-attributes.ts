/**
 * The authentication attributes the broker puts in an Access-Request and reads from the answer:
 * CHAP-Password (RFC 2865 §5.3), MS-CHAP-Challenge / MS-CHAP2-Response / MS-CHAP2-Success /
 * MS-CHAP-Error (RFC 2548 §2.3). Pure builders and readers over attributes.ts.
 */
import { Attr, MICROSOFT_VENDOR_ID, MsAttr } from './constants';
import { findVendorValue, octetsAttribute, vendorAttribute } from './attributes';
import { RadiusCodecError } from './errors';
import type { RadiusAttribute, RadiusPacket } from './packet';

/** CHAP-Password: the CHAP Identifier, then the 16-byte MD5 response (RFC 2865 §5.3). */
export function chapPasswordAttribute(chapId: number, response: Uint8Array): RadiusAttribute | RadiusCodecError {
  if (response.length !== 16) return new RadiusCodecError('bad-attribute-value', `CHAP response of ${response.length} bytes, not 16`);
  return { type: Attr.ChapPassword, value: Buffer.concat([Buffer.from([chapId & 0xff]), Buffer.from(response)]) };
}

/** CHAP-Challenge (RFC 2865 §5.40): the challenge the NAS sent, when not the Request Authenticator. */
export function chapChallengeAttribute(challenge: Uint8Array): RadiusAttribute | RadiusCodecError {
  if (challenge.length < 5 || challenge.length > 253) return new RadiusCodecError('bad-attribute-value', `CHAP challenge of ${challenge.length} bytes`);
  return octetsAttribute(Attr.ChapChallenge, challenge);
}

/** MS-CHAP-Challenge (RFC 2548 §2.3.2): the 16-byte Authenticator Challenge. */
export function msChapChallengeAttribute(challenge: Uint8Array): RadiusAttribute | RadiusCodecError {
  if (challenge.length !== 16) return new RadiusCodecError('bad-attribute-value', `MS-CHAPv2 challenge of ${challenge.length} bytes, not 16`);
  return vendorAttribute(MICROSOFT_VENDOR_ID, MsAttr.ChapChallenge, challenge);
}

/**
 * MS-CHAP2-Response (RFC 2548 §2.3.2): Ident (1), Flags (1, zero), Peer-Challenge (16),
 * Reserved (8, zero), Response (24): 50 octets.
 */
export function msChap2ResponseAttribute(ident: number, peerChallenge: Uint8Array, ntResponse: Uint8Array): RadiusAttribute | RadiusCodecError {
  if (peerChallenge.length !== 16 || ntResponse.length !== 24) {
    return new RadiusCodecError('bad-attribute-value', 'MS-CHAP2-Response needs a 16-byte peer challenge and a 24-byte NT-Response');
  }
  const value = Buffer.alloc(50);
  value[0] = ident & 0xff;
  Buffer.from(peerChallenge).copy(value, 2);
  Buffer.from(ntResponse).copy(value, 26);
  return vendorAttribute(MICROSOFT_VENDOR_ID, MsAttr.Chap2Response, value);
}

/**
 * The authenticator response of an MS-CHAP2-Success (RFC 2548 §2.3.3: Ident, then the 42-octet
 * "S=" + 40 hex digits of RFC 2759 §5), as the uppercase "S=..." string; undefined when absent, an
 * error value when malformed.
 */
export function readMsChap2Success(packet: RadiusPacket): string | undefined | RadiusCodecError {
  const v = findVendorValue(packet, MICROSOFT_VENDOR_ID, MsAttr.Chap2Success);
  if (v === undefined || v instanceof RadiusCodecError) return v;
  const text = v.subarray(1).toString('latin1');
  const m = /^S=([0-9A-Fa-f]{40})/.exec(text);
  if (v.length < 43 || !m) return new RadiusCodecError('bad-attribute-value', 'MS-CHAP2-Success does not hold "S=" and 40 hex digits');
  return `S=${m[1]!.toUpperCase()}`;
}

/** The text of an MS-CHAP-Error (RFC 2548 §2.1.5: Ident, then e.g. "E=691 R=0 ..."), if any. */
export function readMsChapError(packet: RadiusPacket): string | undefined {
  const v = findVendorValue(packet, MICROSOFT_VENDOR_ID, MsAttr.ChapError);
  return v === undefined || v instanceof RadiusCodecError || v.length < 1 ? undefined : v.subarray(1).toString('latin1');
}
