/**
 * LCP packets (RFC 1661 §5) and options (RFC 1661 §6, RFC 1994 §3 / RFC 2759 §2 for the CHAP
 * algorithm byte). Options the agent does not understand are kept raw so they can be Configure-Rejected
 * byte for byte.
 */
import type { AuthMethod } from '../../../contract/src/values';
import { EMPTY, concatBytes, readU16, readU32, u16, u32 } from './bytes';
import { decodeControlPacket, decodeOptions, encodeControlPacket, encodeOptions, type PppOption } from './control-packet';
import { PppDecodeError } from './errors';
import { CHAP_ALGORITHM, CP_CODE, LCP_OPTION, PPP_PROTOCOL } from './protocol-numbers';

export type LcpOption =
  | { readonly kind: 'mru'; readonly value: number }
  | { readonly kind: 'accm'; readonly value: number }
  | { readonly kind: 'auth-protocol'; readonly protocol: number; readonly data: Uint8Array }
  | { readonly kind: 'magic-number'; readonly value: number }
  | { readonly kind: 'pfc' }
  | { readonly kind: 'acfc' }
  | { readonly kind: 'unknown'; readonly type: number; readonly data: Uint8Array };

/** Interprets one raw option; a known type with the wrong length is an error (RFC 1661 §6 lengths). */
export function decodeLcpOption(o: PppOption): LcpOption | PppDecodeError {
  const need = (n: number) => new PppDecodeError('bad-option', `LCP option ${o.type} needs ${n} data bytes, has ${o.data.length}`);
  switch (o.type) {
    case LCP_OPTION.MRU:
      return o.data.length === 2 ? { kind: 'mru', value: readU16(o.data, 0) } : need(2);
    case LCP_OPTION.ACCM:
      return o.data.length === 4 ? { kind: 'accm', value: readU32(o.data, 0) } : need(4);
    case LCP_OPTION.AUTH_PROTOCOL:
      return o.data.length >= 2 ? { kind: 'auth-protocol', protocol: readU16(o.data, 0), data: o.data.subarray(2) } : need(2);
    case LCP_OPTION.MAGIC_NUMBER:
      return o.data.length === 4 ? { kind: 'magic-number', value: readU32(o.data, 0) } : need(4);
    case LCP_OPTION.PFC:
      return o.data.length === 0 ? { kind: 'pfc' } : need(0);
    case LCP_OPTION.ACFC:
      return o.data.length === 0 ? { kind: 'acfc' } : need(0);
    default:
      return { kind: 'unknown', type: o.type, data: o.data };
  }
}

export function encodeLcpOption(o: LcpOption): PppOption {
  switch (o.kind) {
    case 'mru':
      return { type: LCP_OPTION.MRU, data: u16(o.value) };
    case 'accm':
      return { type: LCP_OPTION.ACCM, data: u32(o.value) };
    case 'auth-protocol':
      return { type: LCP_OPTION.AUTH_PROTOCOL, data: concatBytes([u16(o.protocol), o.data]) };
    case 'magic-number':
      return { type: LCP_OPTION.MAGIC_NUMBER, data: u32(o.value) };
    case 'pfc':
      return { type: LCP_OPTION.PFC, data: EMPTY };
    case 'acfc':
      return { type: LCP_OPTION.ACFC, data: EMPTY };
    case 'unknown':
      return { type: o.type, data: o.data };
  }
}

/** The Auth-Protocol option that asks for `method`. */
export function authProtocolOption(method: AuthMethod): LcpOption {
  switch (method) {
    case 'pap':
      return { kind: 'auth-protocol', protocol: PPP_PROTOCOL.PAP, data: EMPTY };
    case 'chap-md5':
      return { kind: 'auth-protocol', protocol: PPP_PROTOCOL.CHAP, data: Uint8Array.of(CHAP_ALGORITHM.MD5) };
    case 'mschapv2':
      return { kind: 'auth-protocol', protocol: PPP_PROTOCOL.CHAP, data: Uint8Array.of(CHAP_ALGORITHM.MSCHAPV2) };
  }
}

/** Which of our methods an Auth-Protocol option names, or undefined (e.g. EAP, MS-CHAPv1). */
export function authMethodOf(o: LcpOption): AuthMethod | undefined {
  if (o.kind !== 'auth-protocol') return undefined;
  if (o.protocol === PPP_PROTOCOL.PAP && o.data.length === 0) return 'pap';
  if (o.protocol === PPP_PROTOCOL.CHAP && o.data.length === 1) {
    if (o.data[0] === CHAP_ALGORITHM.MD5) return 'chap-md5';
    if (o.data[0] === CHAP_ALGORITHM.MSCHAPV2) return 'mschapv2';
  }
  return undefined;
}

export function decodeLcpOptions(buf: Uint8Array): LcpOption[] | PppDecodeError {
  const raw = decodeOptions(buf);
  if (raw instanceof PppDecodeError) return raw;
  const out: LcpOption[] = [];
  for (const r of raw) {
    const o = decodeLcpOption(r);
    if (o instanceof PppDecodeError) return o;
    out.push(o);
  }
  return out;
}

export function encodeLcpOptions(options: readonly LcpOption[]): Uint8Array {
  return encodeOptions(options.map(encodeLcpOption));
}

type ConfigureKind = 'configure-request' | 'configure-ack' | 'configure-nak' | 'configure-reject';

export type LcpPacket =
  | { readonly kind: ConfigureKind; readonly identifier: number; readonly options: readonly LcpOption[] }
  | { readonly kind: 'terminate-request' | 'terminate-ack'; readonly identifier: number; readonly data: Uint8Array }
  | { readonly kind: 'code-reject'; readonly identifier: number; readonly rejected: Uint8Array }
  | { readonly kind: 'protocol-reject'; readonly identifier: number; readonly protocol: number; readonly rejected: Uint8Array }
  | {
      readonly kind: 'echo-request' | 'echo-reply' | 'discard-request';
      readonly identifier: number;
      readonly magic: number;
      readonly data: Uint8Array;
    };

const CONFIGURE_CODES: Record<ConfigureKind, number> = {
  'configure-request': CP_CODE.CONFIGURE_REQUEST,
  'configure-ack': CP_CODE.CONFIGURE_ACK,
  'configure-nak': CP_CODE.CONFIGURE_NAK,
  'configure-reject': CP_CODE.CONFIGURE_REJECT,
};
const CONFIGURE_KINDS = new Map(Object.entries(CONFIGURE_CODES).map(([k, v]) => [v, k as ConfigureKind]));
const MAGIC_KINDS = new Map<number, 'echo-request' | 'echo-reply' | 'discard-request'>([
  [CP_CODE.ECHO_REQUEST, 'echo-request'],
  [CP_CODE.ECHO_REPLY, 'echo-reply'],
  [CP_CODE.DISCARD_REQUEST, 'discard-request'],
]);

/** Decodes an LCP packet (the payload of a 0xC021 frame). Unknown codes are an `unknown-code` error. */
export function decodeLcpPacket(buf: Uint8Array): LcpPacket | PppDecodeError {
  const p = decodeControlPacket(buf);
  if (p instanceof PppDecodeError) return p;
  const identifier = p.identifier;
  const configure = CONFIGURE_KINDS.get(p.code);
  if (configure) {
    const options = decodeLcpOptions(p.data);
    if (options instanceof PppDecodeError) return options;
    return { kind: configure, identifier, options };
  }
  const magicKind = MAGIC_KINDS.get(p.code);
  if (magicKind) {
    // RFC 1661 §5.8/5.9: Magic-Number is mandatory in Echo and Discard packets.
    if (p.data.length < 4) return new PppDecodeError('truncated', `${magicKind} without Magic-Number`, 4);
    return { kind: magicKind, identifier, magic: readU32(p.data, 0), data: p.data.subarray(4) };
  }
  switch (p.code) {
    case CP_CODE.TERMINATE_REQUEST:
      return { kind: 'terminate-request', identifier, data: p.data };
    case CP_CODE.TERMINATE_ACK:
      return { kind: 'terminate-ack', identifier, data: p.data };
    case CP_CODE.CODE_REJECT:
      if (p.data.length < 4) return new PppDecodeError('truncated', 'Code-Reject without a rejected packet header', 4);
      return { kind: 'code-reject', identifier, rejected: p.data };
    case CP_CODE.PROTOCOL_REJECT:
      if (p.data.length < 2) return new PppDecodeError('truncated', 'Protocol-Reject without a protocol', 4);
      return { kind: 'protocol-reject', identifier, protocol: readU16(p.data, 0), rejected: p.data.subarray(2) };
    default:
      return new PppDecodeError('unknown-code', `LCP code ${p.code}`, 0);
  }
}

export function encodeLcpPacket(p: LcpPacket): Uint8Array {
  switch (p.kind) {
    case 'configure-request':
    case 'configure-ack':
    case 'configure-nak':
    case 'configure-reject':
      return encodeControlPacket({ code: CONFIGURE_CODES[p.kind], identifier: p.identifier, data: encodeLcpOptions(p.options) });
    case 'terminate-request':
    case 'terminate-ack':
      return encodeControlPacket({
        code: p.kind === 'terminate-request' ? CP_CODE.TERMINATE_REQUEST : CP_CODE.TERMINATE_ACK,
        identifier: p.identifier,
        data: p.data,
      });
    case 'code-reject':
      return encodeControlPacket({ code: CP_CODE.CODE_REJECT, identifier: p.identifier, data: p.rejected });
    case 'protocol-reject':
      return encodeControlPacket({
        code: CP_CODE.PROTOCOL_REJECT,
        identifier: p.identifier,
        data: concatBytes([u16(p.protocol), p.rejected]),
      });
    case 'echo-request':
    case 'echo-reply':
    case 'discard-request': {
      const code =
        p.kind === 'echo-request' ? CP_CODE.ECHO_REQUEST : p.kind === 'echo-reply' ? CP_CODE.ECHO_REPLY : CP_CODE.DISCARD_REQUEST;
      return encodeControlPacket({ code, identifier: p.identifier, data: concatBytes([u32(p.magic), p.data]) });
    }
  }
}
