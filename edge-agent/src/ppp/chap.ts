/**
 * CHAP packets (RFC 1994 §4) and the MS-CHAPv2 specifics of RFC 2759: the 49-octet Response value
 * (§4) and the Success (§5) / Failure (§6) message strings in the exact forms Windows, macOS, iOS,
 * Android and pppd parse.
 */
import { concatBytes, fromHex, fromUtf8, toHexUpper, utf8 } from './bytes';
import { decodeControlPacket, encodeControlPacket } from './control-packet';
import { PppDecodeError } from './errors';
import { CHAP_CODE } from './protocol-numbers';

export type ChapPacket =
  | { readonly kind: 'challenge' | 'response'; readonly identifier: number; readonly value: Uint8Array; readonly name: string }
  | { readonly kind: 'success' | 'failure'; readonly identifier: number; readonly message: string };

export function decodeChapPacket(buf: Uint8Array): ChapPacket | PppDecodeError {
  const p = decodeControlPacket(buf);
  if (p instanceof PppDecodeError) return p;
  const d = p.data;
  switch (p.code) {
    case CHAP_CODE.CHALLENGE:
    case CHAP_CODE.RESPONSE: {
      const size = d[0];
      if (size === undefined || size === 0) return new PppDecodeError('truncated', 'CHAP Value-Size missing or zero', 4);
      if (1 + size > d.length) return new PppDecodeError('bad-length', 'CHAP Value overruns the packet', 4);
      return {
        kind: p.code === CHAP_CODE.CHALLENGE ? 'challenge' : 'response',
        identifier: p.identifier,
        value: d.subarray(1, 1 + size),
        name: utf8(d.subarray(1 + size)),
      };
    }
    case CHAP_CODE.SUCCESS:
    case CHAP_CODE.FAILURE:
      return { kind: p.code === CHAP_CODE.SUCCESS ? 'success' : 'failure', identifier: p.identifier, message: utf8(d) };
    default:
      return new PppDecodeError('unknown-code', `CHAP code ${p.code}`, 0);
  }
}

export function encodeChapPacket(p: ChapPacket): Uint8Array {
  if (!('message' in p)) {
    return encodeControlPacket({
      code: p.kind === 'challenge' ? CHAP_CODE.CHALLENGE : CHAP_CODE.RESPONSE,
      identifier: p.identifier,
      data: concatBytes([Uint8Array.of(p.value.length), p.value, fromUtf8(p.name)]),
    });
  }
  return encodeControlPacket({
    code: p.kind === 'success' ? CHAP_CODE.SUCCESS : CHAP_CODE.FAILURE,
    identifier: p.identifier,
    data: fromUtf8(p.message),
  });
}

/** RFC 2759 §4: the Response packet's Value field. */
export interface MsChapV2ResponseValue {
  readonly peerChallenge: Uint8Array; // 16
  readonly reserved: Uint8Array; // 8, zero
  readonly ntResponse: Uint8Array; // 24
  readonly flags: number; // zero
}

export const MSCHAPV2_RESPONSE_VALUE_LENGTH = 49;
export const MSCHAPV2_CHALLENGE_LENGTH = 16;

export function decodeMsChapV2ResponseValue(value: Uint8Array): MsChapV2ResponseValue | PppDecodeError {
  if (value.length !== MSCHAPV2_RESPONSE_VALUE_LENGTH)
    return new PppDecodeError('bad-length', `MS-CHAPv2 Response value is ${value.length} bytes, not 49`);
  return {
    peerChallenge: value.subarray(0, 16),
    reserved: value.subarray(16, 24),
    ntResponse: value.subarray(24, 48),
    flags: value[48] ?? 0,
  };
}

export function encodeMsChapV2ResponseValue(v: Omit<MsChapV2ResponseValue, 'reserved'> & { reserved?: Uint8Array }): Uint8Array {
  const out = new Uint8Array(MSCHAPV2_RESPONSE_VALUE_LENGTH);
  out.set(v.peerChallenge.subarray(0, 16), 0);
  if (v.reserved) out.set(v.reserved.subarray(0, 8), 16);
  out.set(v.ntResponse.subarray(0, 24), 24);
  out[48] = v.flags;
  return out;
}

/**
 * RFC 2759 §5: "S=<auth_string> M=<message>", auth_string = 40 upper-case hex digits. Accepts the
 * authenticator response as 40 hex digits or already prefixed with "S=".
 */
export function formatMsChapV2Success(authenticatorResponse: string, message: string): string {
  const hex = authenticatorResponse.startsWith('S=') ? authenticatorResponse.slice(2) : authenticatorResponse;
  return `S=${hex.toUpperCase()} M=${message}`;
}

/** Parses a Success message; the "M=" part is optional (older servers send only "S=..."). */
export function parseMsChapV2Success(text: string): { authenticatorResponse: string; message: string } | PppDecodeError {
  const m = /^S=([0-9A-Fa-f]{40})(?: M=(.*))?$/s.exec(text);
  if (!m) return new PppDecodeError('bad-value', 'MS-CHAPv2 Success message is not "S=<40 hex> M=<text>"');
  return { authenticatorResponse: (m[1] ?? '').toUpperCase(), message: m[2] ?? '' };
}

export interface MsChapV2Failure {
  /** 691 = authentication failure, 646/647/648/649 are the restriction/disabled/expired/no-dial-in codes. */
  readonly error: number;
  readonly retry: boolean;
  /** 16 bytes: a new authenticator challenge for a retry (sent even when retry is false). */
  readonly challenge: Uint8Array;
  readonly version: number;
  readonly message: string;
}

/** RFC 2759 §6: "E=eeeeeeeeee R=r C=cccccccccccccccccccccccccccccccc V=vvvvvvvvvv M=<msg>". */
export function formatMsChapV2Failure(f: MsChapV2Failure): string {
  return `E=${f.error} R=${f.retry ? 1 : 0} C=${toHexUpper(f.challenge)} V=${f.version} M=${f.message}`;
}

export function parseMsChapV2Failure(text: string): MsChapV2Failure | PppDecodeError {
  const m = /^E=(\d+) R=([01])(?: C=([0-9A-Fa-f]{32}))?(?: V=(\d+))?(?: M=(.*))?$/s.exec(text);
  if (!m) return new PppDecodeError('bad-value', 'MS-CHAPv2 Failure message is not "E=... R=... C=... V=... M=..."');
  return {
    error: Number(m[1]),
    retry: m[2] === '1',
    challenge: fromHex(m[3] ?? '') ?? new Uint8Array(0),
    version: Number(m[4] ?? '0'),
    message: m[5] ?? '',
  };
}
