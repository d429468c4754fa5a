/**
 * Typed control messages: the body of a control packet (its AVPs) <-> `ControlMessage`.
 * The Message Type AVP (§4.4.1) comes first; hidden AVPs follow a Random Vector (§4.3).
 */
import { ATTR_RANDOM_VECTOR, decodeAvps, encodeAvps, type RawAvp } from './avp';
import { ATTR_MESSAGE_TYPE, BadAvpValue, AVP_BY_FIELD, AVP_BY_TYPE, AVP_DEFINITIONS, type AvpField, type AvpFields } from './avp-catalog';
import { MessageType, messageTypeName, type MessageTypeName } from './constants';
import { L2tpDecodeError, L2tpError } from './errors';
import { MAX_ERROR_CODE, MAX_RESULT_CODE, MESSAGE_RULES } from './message-rules';

/** A decoded (or to-be-encoded) control message: its type plus the typed AVP values it carries. */
export interface ControlMessage extends AvpFields {
  type: MessageTypeName;
  /** Vendor AVPs and unknown IETF AVPs, kept raw (decode: ignored; encode: appended). */
  unknownAvps?: RawAvp[];
  /** Set by the lenient decoder when a Result Code arrived in little-endian order (seen from Apple clients). */
  resultCodeByteSwapped?: boolean;
}

export interface MessageDecodeOptions {
  /** Tunnel secret (UTF-8 bytes), to reveal hidden AVPs. */
  readonly secret?: Uint8Array;
  /**
   * RFC 2661 §4.2 says an unknown AVP with the M bit set tears the tunnel/session down. Real clients send
   * mandatory vendor AVPs (e.g. Microsoft, vendor 311), so by default they are kept in `unknownAvps` instead.
   * @default true
   */
  readonly permissiveMandatoryAvps?: boolean;
}

function swap16(x: number): number {
  return ((x & 0xff) << 8) | (x >>> 8);
}

/** Decode the AVPs of a non-empty control message body. */
export function decodeControlMessage(
  body: Uint8Array,
  options: MessageDecodeOptions = {},
): ControlMessage | L2tpDecodeError {
  const avps = decodeAvps(body, options);
  if (avps instanceof L2tpDecodeError) return avps;
  const first = avps[0];
  if (!first || first.vendorId !== 0 || first.attributeType !== ATTR_MESSAGE_TYPE) {
    return new L2tpDecodeError('missing-message-type', 'first AVP is not Message Type (§4.4.1)');
  }
  if (first.value.length !== 2 || first.hidden) {
    return new L2tpDecodeError('bad-avp-value', 'Message Type AVP must be 2 octets and not hidden');
  }
  const code = ((first.value[0] as number) << 8) | (first.value[1] as number);
  const type = messageTypeName(code);
  if (!type) {
    // §3.2: an unknown type with M set means tear the tunnel down; without M it is ignored. The caller decides.
    return new L2tpDecodeError('unknown-message-type', `unknown message type ${code}`, {
      messageType: code,
      mandatory: first.mandatory,
    });
  }
  const msg: ControlMessage = { type };
  const fields = msg as unknown as Record<string, unknown>;
  const permissive = options.permissiveMandatoryAvps ?? true;
  for (let i = 1; i < avps.length; i++) {
    const avp = avps[i] as RawAvp;
    const known = avp.vendorId === 0 ? AVP_BY_TYPE.get(avp.attributeType) : undefined;
    if (known) {
      const value = known.codec.decode(avp.value);
      if (value instanceof BadAvpValue) {
        return new L2tpDecodeError('bad-avp-value', `${known.name}: ${value.reason}`, { avp: known.name, messageType: type });
      }
      fields[known.field] = value;
      continue;
    }
    if (avp.vendorId === 0 && avp.attributeType === ATTR_RANDOM_VECTOR) continue;
    if (avp.mandatory && !permissive) {
      return new L2tpDecodeError('unknown-mandatory-avp', `unknown mandatory AVP ${avp.vendorId}:${avp.attributeType}`, {
        vendorId: avp.vendorId,
        attributeType: avp.attributeType,
        messageType: type,
      });
    }
    (msg.unknownAvps ??= []).push(avp);
  }
  const rule = MESSAGE_RULES[type];
  for (const field of rule.required) {
    if (fields[field] === undefined && !rule.tolerateMissing?.includes(field)) {
      const name = AVP_BY_FIELD.get(field)?.name ?? field;
      return new L2tpDecodeError('missing-required-avp', `${type} lacks required AVP ${name} (§${rule.section})`, {
        avp: name,
        field,
        messageType: type,
      });
    }
  }
  const maxResult = MAX_RESULT_CODE[type];
  if (maxResult !== undefined && msg.resultCode) {
    // Lenient decode of little-endian result/error codes (docs/interop.md): swap only when the swapped value is
    // a defined code and the given one is not.
    let { resultCode, errorCode } = msg.resultCode;
    let swapped = false;
    if (resultCode > maxResult && swap16(resultCode) >= 1 && swap16(resultCode) <= maxResult) {
      resultCode = swap16(resultCode);
      swapped = true;
    }
    if (errorCode !== undefined && errorCode > MAX_ERROR_CODE && swap16(errorCode) <= MAX_ERROR_CODE) {
      errorCode = swap16(errorCode);
      swapped = true;
    }
    if (swapped) {
      msg.resultCode = { ...msg.resultCode, resultCode, ...(errorCode !== undefined ? { errorCode } : {}) };
      msg.resultCodeByteSwapped = true;
    }
  }
  return msg;
}

export interface MessageEncodeOptions {
  /** Tunnel secret; required when `hide` is non-empty. */
  readonly secret?: Uint8Array;
  /** Fields to send as hidden AVPs (§4.3). */
  readonly hide?: readonly AvpField[];
  /** The Random Vector to use when hiding (16 random octets); required when `hide` is non-empty. */
  readonly randomVector?: Uint8Array;
}

/** Encode a control message body. Throws `L2tpError` when a required AVP (§6) is missing. */
export function encodeControlMessage(msg: ControlMessage, options: MessageEncodeOptions = {}): Uint8Array {
  const rule = MESSAGE_RULES[msg.type];
  if (!rule) throw new L2tpError(`unknown message type ${String(msg.type)}`);
  const fields = msg as unknown as Record<string, unknown>;
  for (const field of rule.required) {
    if (fields[field] === undefined && !rule.tolerateMissing?.includes(field)) {
      throw new L2tpError(`${msg.type} needs ${AVP_BY_FIELD.get(field)?.name ?? field} (§${rule.section})`, { field });
    }
  }
  const hide = new Set(options.hide ?? []);
  const avps: RawAvp[] = [
    {
      mandatory: true,
      hidden: false,
      vendorId: 0,
      attributeType: ATTR_MESSAGE_TYPE,
      value: new Uint8Array([0, MessageType[msg.type]]),
    },
  ];
  if (hide.size > 0) {
    if (!options.randomVector || !options.secret) throw new L2tpError('hiding AVPs needs a secret and a random vector');
    avps.push({ mandatory: true, hidden: false, vendorId: 0, attributeType: ATTR_RANDOM_VECTOR, value: options.randomVector });
  }
  for (const d of AVP_DEFINITIONS) {
    const v = fields[d.field];
    if (v === undefined || v === false) continue;
    avps.push({
      mandatory: d.mandatory,
      hidden: hide.has(d.field),
      vendorId: 0,
      attributeType: d.attributeType,
      value: d.codec.encode(v),
    });
  }
  for (const raw of msg.unknownAvps ?? []) avps.push({ ...raw, hidden: false });
  return encodeAvps(avps, options.secret ? { secret: options.secret } : {});
}
