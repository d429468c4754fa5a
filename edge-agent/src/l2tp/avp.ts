/**
 * Raw AVP codec, RFC 2661 §4.1:
 *
 *   |M|H| rsvd  |      Length       |           Vendor ID           |
 *   |         Attribute Type        |        Attribute Value ...
 *
 * Hidden AVPs (§4.3) are revealed on decode using the most recent Random Vector AVP of the same message.
 */
import { L2tpDecodeError, L2tpError } from './errors';
import { hideAvpValue, unhideAvpValue } from './hidden';

export const AVP_HEADER_LENGTH = 6;
/** Attribute type of the Random Vector AVP, RFC 2661 §4.4.2... §4.3. */
export const ATTR_RANDOM_VECTOR = 36;
const FLAG_M = 0x80;
const FLAG_H = 0x40;

/** One AVP with its value in the clear. `hidden` says whether it was (or should be) sent hidden. */
export interface RawAvp {
  readonly mandatory: boolean;
  readonly hidden: boolean;
  readonly vendorId: number;
  readonly attributeType: number;
  readonly value: Uint8Array;
}

/** Decode options shared by the AVP and message decoders. */
export interface AvpDecodeOptions {
  /** Tunnel secret, needed to reveal hidden AVPs. */
  readonly secret?: Uint8Array;
}

/** Split a control message body into AVPs. Any length field lying about the buffer is an error value. */
export function decodeAvps(body: Uint8Array, options: AvpDecodeOptions = {}): RawAvp[] | L2tpDecodeError {
  const avps: RawAvp[] = [];
  let randomVector: Uint8Array | undefined;
  let at = 0;
  while (at < body.length) {
    if (body.length - at < AVP_HEADER_LENGTH) {
      return new L2tpDecodeError('truncated', `${body.length - at} trailing bytes cannot hold an AVP header`, { at });
    }
    const b0 = body[at] as number;
    const length = ((b0 & 0x03) << 8) | (body[at + 1] as number);
    const vendorId = ((body[at + 2] as number) << 8) | (body[at + 3] as number);
    const attributeType = ((body[at + 4] as number) << 8) | (body[at + 5] as number);
    if (length < AVP_HEADER_LENGTH) {
      return new L2tpDecodeError('bad-avp-length', `AVP length ${length} is below 6`, { at, vendorId, attributeType });
    }
    if (at + length > body.length) {
      return new L2tpDecodeError('bad-avp-length', `AVP length ${length} overruns the message`, {
        at,
        vendorId,
        attributeType,
      });
    }
    const mandatory = (b0 & FLAG_M) !== 0;
    const hidden = (b0 & FLAG_H) !== 0;
    let value = body.subarray(at + AVP_HEADER_LENGTH, at + length);
    if (hidden) {
      if (!options.secret) {
        return new L2tpDecodeError('hidden-avp-without-secret', 'hidden AVP but no tunnel secret', { attributeType });
      }
      if (!randomVector) {
        return new L2tpDecodeError('hidden-avp-without-random-vector', 'hidden AVP not preceded by a Random Vector', {
          attributeType,
        });
      }
      const revealed = unhideAvpValue(attributeType, value, options.secret, randomVector);
      if (revealed instanceof L2tpDecodeError) return revealed;
      value = revealed;
    }
    if (vendorId === 0 && attributeType === ATTR_RANDOM_VECTOR && !hidden) randomVector = value;
    avps.push({ mandatory, hidden, vendorId, attributeType, value });
    at += length;
  }
  return avps;
}

/** How to hide AVPs flagged `hidden` while encoding. */
export interface AvpEncodeOptions {
  readonly secret?: Uint8Array;
}

/**
 * Encode AVPs in order. An AVP flagged `hidden` is hidden with the value of the latest Random Vector AVP before it,
 * so the caller places a Random Vector first (the message encoder does).
 */
export function encodeAvps(avps: readonly RawAvp[], options: AvpEncodeOptions = {}): Uint8Array {
  // Values first (hiding needs the Random Vector before it), then one buffer for the whole body.
  const values: Uint8Array[] = new Array(avps.length);
  let randomVector: Uint8Array | undefined;
  let total = 0;
  for (let i = 0; i < avps.length; i++) {
    const avp = avps[i]!;
    let value = avp.value;
    if (avp.hidden) {
      if (!options.secret || !randomVector) {
        throw new L2tpError('hiding an AVP needs a secret and a preceding Random Vector', {
          attributeType: avp.attributeType,
        });
      }
      value = hideAvpValue(avp.attributeType, value, options.secret, randomVector);
    }
    const length = AVP_HEADER_LENGTH + value.length;
    if (length > 0x3ff) throw new L2tpError('AVP value too long for the 10-bit length', { length });
    if (avp.vendorId === 0 && avp.attributeType === ATTR_RANDOM_VECTOR && !avp.hidden) randomVector = avp.value;
    values[i] = value;
    total += length;
  }
  const body = new Uint8Array(total);
  let at = 0;
  for (let i = 0; i < avps.length; i++) {
    const avp = avps[i]!;
    const value = values[i]!;
    const length = AVP_HEADER_LENGTH + value.length;
    body[at] = (avp.mandatory ? FLAG_M : 0) | (avp.hidden ? FLAG_H : 0) | (length >>> 8);
    body[at + 1] = length & 0xff;
    body[at + 2] = avp.vendorId >>> 8;
    body[at + 3] = avp.vendorId & 0xff;
    body[at + 4] = avp.attributeType >>> 8;
    body[at + 5] = avp.attributeType & 0xff;
    body.set(value, at + AVP_HEADER_LENGTH);
    at += length;
  }
  return body;
}
