/**
 * Every IETF AVP of RFC 2661 §4.4 as a data table: attribute type, the message field it fills, the M bit we send,
 * and a value codec. A value codec returns a `BadAvpValue` (the reason) when bytes are malformed.
 */

/** Result Code AVP value, RFC 2661 §4.4.2. */
export interface ResultCode {
  readonly resultCode: number;
  readonly errorCode?: number;
  readonly errorMessage?: string;
}

/** Protocol Version AVP value, RFC 2661 §4.4.3 (we speak 1.0). */
export interface ProtocolVersion {
  readonly version: number;
  readonly revision: number;
}

/** Q.931 Cause Code AVP value, RFC 2661 §4.4.2. */
export interface Q931Cause {
  readonly causeCode: number;
  readonly causeMessage: number;
  readonly advisory?: string;
}

/** Call Errors AVP value, RFC 2661 §4.4.6. */
export interface CallErrors {
  readonly crcErrors: number;
  readonly framingErrors: number;
  readonly hardwareOverruns: number;
  readonly bufferOverruns: number;
  readonly timeoutErrors: number;
  readonly alignmentErrors: number;
}

/** ACCM AVP value, RFC 2661 §4.4.6. */
export interface Accm {
  readonly sendAccm: number;
  readonly receiveAccm: number;
}

/** Typed values of all known AVPs, as fields of a control message. */
export interface AvpFields {
  resultCode?: ResultCode;
  protocolVersion?: ProtocolVersion;
  framingCapabilities?: number;
  bearerCapabilities?: number;
  tieBreaker?: Uint8Array;
  firmwareRevision?: number;
  hostName?: string;
  vendorName?: string;
  assignedTunnelId?: number;
  receiveWindowSize?: number;
  challenge?: Uint8Array;
  q931Cause?: Q931Cause;
  challengeResponse?: Uint8Array;
  assignedSessionId?: number;
  callSerialNumber?: number;
  minimumBps?: number;
  maximumBps?: number;
  bearerType?: number;
  framingType?: number;
  calledNumber?: string;
  callingNumber?: string;
  subAddress?: string;
  txConnectSpeed?: number;
  physicalChannelId?: number;
  initialReceivedLcpConfReq?: Uint8Array;
  lastSentLcpConfReq?: Uint8Array;
  lastReceivedLcpConfReq?: Uint8Array;
  proxyAuthenType?: number;
  proxyAuthenName?: string;
  proxyAuthenChallenge?: Uint8Array;
  proxyAuthenId?: number;
  proxyAuthenResponse?: Uint8Array;
  callErrors?: CallErrors;
  accm?: Accm;
  privateGroupId?: Uint8Array;
  rxConnectSpeed?: number;
  sequencingRequired?: boolean;
}

export type AvpField = keyof AvpFields;

/** Why an AVP value is malformed (a value, not thrown). */
export class BadAvpValue {
  constructor(readonly reason: string) {}
}
const bad = (reason: string): BadAvpValue => new BadAvpValue(reason);

interface ValueCodec<T> {
  decode(v: Uint8Array): T | BadAvpValue;
  encode(x: T): Uint8Array;
}

const text = new TextDecoder('utf-8');
const utf8 = new TextEncoder();

function be(v: Uint8Array, at: number, n: number): number {
  let x = 0;
  for (let i = 0; i < n; i++) x = x * 256 + (v[at + i] as number);
  return x;
}
function putBe(out: Uint8Array, at: number, n: number, x: number): void {
  for (let i = n - 1; i >= 0; i--) {
    out[at + i] = x & 0xff;
    x = Math.floor(x / 256);
  }
}

function uint(n: 1 | 2 | 4): ValueCodec<number> {
  return {
    decode: (v) => (v.length === n ? be(v, 0, n) : bad(`expected ${n} octets, got ${v.length}`)),
    encode: (x) => {
      const out = new Uint8Array(n);
      putBe(out, 0, n, x);
      return out;
    },
  };
}
const u16 = uint(2);
const u32 = uint(4);
const bytes: ValueCodec<Uint8Array> = { decode: (v) => v.slice(), encode: (x) => x };
const str: ValueCodec<string> = { decode: (v) => text.decode(v), encode: (x) => utf8.encode(x) };
function fixedBytes(n: number): ValueCodec<Uint8Array> {
  return { decode: (v) => (v.length === n ? v.slice() : bad(`expected ${n} octets, got ${v.length}`)), encode: (x) => x };
}

const resultCode: ValueCodec<ResultCode> = {
  decode: (v) => {
    if (v.length < 2) return bad('Result Code needs at least 2 octets');
    const out: { -readonly [K in keyof ResultCode]: ResultCode[K] } = { resultCode: be(v, 0, 2) };
    // A 1-octet error code is a malformed AVP from some peers; tolerate it by ignoring the stray octet.
    if (v.length >= 4) out.errorCode = be(v, 2, 2);
    if (v.length > 4) out.errorMessage = text.decode(v.subarray(4));
    return out;
  },
  encode: (x) => {
    const msg = x.errorMessage !== undefined ? utf8.encode(x.errorMessage) : new Uint8Array(0);
    const hasError = x.errorCode !== undefined || x.errorMessage !== undefined;
    const out = new Uint8Array(2 + (hasError ? 2 + msg.length : 0));
    putBe(out, 0, 2, x.resultCode);
    if (hasError) {
      putBe(out, 2, 2, x.errorCode ?? 0);
      out.set(msg, 4);
    }
    return out;
  },
};

const protocolVersion: ValueCodec<ProtocolVersion> = {
  decode: (v) => (v.length === 2 ? { version: v[0] as number, revision: v[1] as number } : bad('expected 2 octets')),
  encode: (x) => new Uint8Array([x.version, x.revision]),
};

const q931: ValueCodec<Q931Cause> = {
  decode: (v) => {
    if (v.length < 3) return bad('Q.931 Cause Code needs at least 3 octets');
    const out: { -readonly [K in keyof Q931Cause]: Q931Cause[K] } = { causeCode: be(v, 0, 2), causeMessage: v[2] as number };
    if (v.length > 3) out.advisory = text.decode(v.subarray(3));
    return out;
  },
  encode: (x) => {
    const adv = x.advisory !== undefined ? utf8.encode(x.advisory) : new Uint8Array(0);
    const out = new Uint8Array(3 + adv.length);
    putBe(out, 0, 2, x.causeCode);
    out[2] = x.causeMessage;
    out.set(adv, 3);
    return out;
  },
};

const callErrors: ValueCodec<CallErrors> = {
  decode: (v) => {
    if (v.length !== 26) return bad(`Call Errors needs 26 octets, got ${v.length}`);
    return {
      crcErrors: be(v, 2, 4),
      framingErrors: be(v, 6, 4),
      hardwareOverruns: be(v, 10, 4),
      bufferOverruns: be(v, 14, 4),
      timeoutErrors: be(v, 18, 4),
      alignmentErrors: be(v, 22, 4),
    };
  },
  encode: (x) => {
    const out = new Uint8Array(26);
    [x.crcErrors, x.framingErrors, x.hardwareOverruns, x.bufferOverruns, x.timeoutErrors, x.alignmentErrors].forEach(
      (n, i) => putBe(out, 2 + 4 * i, 4, n),
    );
    return out;
  },
};

const accm: ValueCodec<Accm> = {
  decode: (v) => (v.length === 10 ? { sendAccm: be(v, 2, 4), receiveAccm: be(v, 6, 4) } : bad('ACCM needs 10 octets')),
  encode: (x) => {
    const out = new Uint8Array(10);
    putBe(out, 2, 4, x.sendAccm);
    putBe(out, 6, 4, x.receiveAccm);
    return out;
  },
};

const proxyAuthenId: ValueCodec<number> = {
  decode: (v) => (v.length === 2 ? (v[1] as number) : bad('Proxy Authen ID needs 2 octets')),
  encode: (x) => new Uint8Array([0, x]),
};

const presence: ValueCodec<boolean> = {
  decode: (v) => (v.length === 0 ? true : bad('Sequencing Required carries no value')),
  encode: () => new Uint8Array(0),
};

/** One row of the AVP table. */
export interface AvpDefinition {
  readonly attributeType: number;
  readonly field: AvpField;
  /** Name as RFC 2661 spells it, used in error messages. */
  readonly name: string;
  /** M bit we set when sending, per the AVP's description in §4.4. */
  readonly mandatory: boolean;
  readonly codec: ValueCodec<any>;
}

function def(attributeType: number, field: AvpField, name: string, mandatory: boolean, codec: ValueCodec<unknown>): AvpDefinition {
  return { attributeType, field, name, mandatory, codec };
}

/** Attribute type 0 (Message Type, §4.4.1) is handled by the message codec; 36 (Random Vector, §4.3) by the AVP codec. */
export const ATTR_MESSAGE_TYPE = 0;

/** All typed AVPs of RFC 2661 §4.4, in the order our encoder emits them. */
export const AVP_DEFINITIONS: readonly AvpDefinition[] = [
  def(1, 'resultCode', 'Result Code', true, resultCode as ValueCodec<unknown>), // §4.4.2
  def(2, 'protocolVersion', 'Protocol Version', true, protocolVersion as ValueCodec<unknown>), // §4.4.3
  def(3, 'framingCapabilities', 'Framing Capabilities', true, u32 as ValueCodec<unknown>), // §4.4.3
  def(4, 'bearerCapabilities', 'Bearer Capabilities', true, u32 as ValueCodec<unknown>), // §4.4.3
  def(5, 'tieBreaker', 'Tie Breaker', false, fixedBytes(8) as ValueCodec<unknown>), // §4.4.3
  def(6, 'firmwareRevision', 'Firmware Revision', false, u16 as ValueCodec<unknown>), // §4.4.3
  def(7, 'hostName', 'Host Name', true, str as ValueCodec<unknown>), // §4.4.3
  def(8, 'vendorName', 'Vendor Name', false, str as ValueCodec<unknown>), // §4.4.3
  def(9, 'assignedTunnelId', 'Assigned Tunnel ID', true, u16 as ValueCodec<unknown>), // §4.4.3
  def(10, 'receiveWindowSize', 'Receive Window Size', true, u16 as ValueCodec<unknown>), // §4.4.3
  def(11, 'challenge', 'Challenge', true, bytes as ValueCodec<unknown>), // §4.4.3
  def(12, 'q931Cause', 'Q.931 Cause Code', true, q931 as ValueCodec<unknown>), // §4.4.2
  def(13, 'challengeResponse', 'Challenge Response', true, fixedBytes(16) as ValueCodec<unknown>), // §4.4.3
  def(14, 'assignedSessionId', 'Assigned Session ID', true, u16 as ValueCodec<unknown>), // §4.4.4
  def(15, 'callSerialNumber', 'Call Serial Number', true, u32 as ValueCodec<unknown>), // §4.4.4
  def(16, 'minimumBps', 'Minimum BPS', true, u32 as ValueCodec<unknown>), // §4.4.4
  def(17, 'maximumBps', 'Maximum BPS', true, u32 as ValueCodec<unknown>), // §4.4.4
  def(18, 'bearerType', 'Bearer Type', true, u32 as ValueCodec<unknown>), // §4.4.4
  def(19, 'framingType', 'Framing Type', true, u32 as ValueCodec<unknown>), // §4.4.4
  def(21, 'calledNumber', 'Called Number', true, str as ValueCodec<unknown>), // §4.4.4
  def(22, 'callingNumber', 'Calling Number', true, str as ValueCodec<unknown>), // §4.4.4
  def(23, 'subAddress', 'Sub-Address', true, str as ValueCodec<unknown>), // §4.4.4
  def(24, 'txConnectSpeed', '(Tx) Connect Speed', true, u32 as ValueCodec<unknown>), // §4.4.5
  def(25, 'physicalChannelId', 'Physical Channel ID', false, u32 as ValueCodec<unknown>), // §4.4.4
  def(26, 'initialReceivedLcpConfReq', 'Initial Received LCP CONFREQ', false, bytes as ValueCodec<unknown>), // §4.4.5
  def(27, 'lastSentLcpConfReq', 'Last Sent LCP CONFREQ', false, bytes as ValueCodec<unknown>), // §4.4.5
  def(28, 'lastReceivedLcpConfReq', 'Last Received LCP CONFREQ', false, bytes as ValueCodec<unknown>), // §4.4.5
  def(29, 'proxyAuthenType', 'Proxy Authen Type', false, u16 as ValueCodec<unknown>), // §4.4.5
  def(30, 'proxyAuthenName', 'Proxy Authen Name', false, str as ValueCodec<unknown>), // §4.4.5
  def(31, 'proxyAuthenChallenge', 'Proxy Authen Challenge', false, bytes as ValueCodec<unknown>), // §4.4.5
  def(32, 'proxyAuthenId', 'Proxy Authen ID', false, proxyAuthenId as ValueCodec<unknown>), // §4.4.5
  def(33, 'proxyAuthenResponse', 'Proxy Authen Response', false, bytes as ValueCodec<unknown>), // §4.4.5
  def(34, 'callErrors', 'Call Errors', true, callErrors as ValueCodec<unknown>), // §4.4.6
  def(35, 'accm', 'ACCM', true, accm as ValueCodec<unknown>), // §4.4.6
  def(37, 'privateGroupId', 'Private Group ID', false, bytes as ValueCodec<unknown>), // §4.4.5
  def(38, 'rxConnectSpeed', 'Rx Connect Speed', false, u32 as ValueCodec<unknown>), // §4.4.5
  def(39, 'sequencingRequired', 'Sequencing Required', true, presence as ValueCodec<unknown>), // §4.4.5
];

/** Table lookups. */
export const AVP_BY_TYPE: ReadonlyMap<number, AvpDefinition> = new Map(AVP_DEFINITIONS.map((d) => [d.attributeType, d]));
export const AVP_BY_FIELD: ReadonlyMap<AvpField, AvpDefinition> = new Map(AVP_DEFINITIONS.map((d) => [d.field, d]));
