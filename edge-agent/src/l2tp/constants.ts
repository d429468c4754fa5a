/** Numeric constants of RFC 2661. */

/** Control message types, RFC 2661 §3.2. */
export const MessageType = {
  SCCRQ: 1,
  SCCRP: 2,
  SCCCN: 3,
  StopCCN: 4,
  HELLO: 6,
  OCRQ: 7,
  OCRP: 8,
  OCCN: 9,
  ICRQ: 10,
  ICRP: 11,
  ICCN: 12,
  CDN: 14,
  WEN: 15,
  SLI: 16,
} as const;

export type MessageTypeName = keyof typeof MessageType;

const NAME_BY_CODE = new Map<number, MessageTypeName>(
  (Object.entries(MessageType) as Array<[MessageTypeName, number]>).map(([name, code]) => [code, name]),
);

/** Name for a message type code, or undefined when RFC 2661 defines none. */
export function messageTypeName(code: number): MessageTypeName | undefined {
  return NAME_BY_CODE.get(code);
}

/** StopCCN result codes, RFC 2661 §4.4.2. */
export const StopCcnResult = {
  GeneralClear: 1,
  GeneralError: 2,
  AlreadyExists: 3,
  NotAuthorized: 4,
  UnsupportedVersion: 5,
  ShuttingDown: 6,
  FsmError: 7,
} as const;

/** CDN result codes, RFC 2661 §4.4.2. */
export const CdnResult = {
  LostCarrier: 1,
  GeneralError: 2,
  Administrative: 3,
  TemporaryNoFacilities: 4,
  PermanentNoFacilities: 5,
  InvalidDestination: 6,
  NoCarrier: 7,
  Busy: 8,
  NoDialTone: 9,
  Timeout: 10,
  NoFraming: 11,
} as const;

/** General error codes carried in Result Code AVPs, RFC 2661 §4.4.2. */
export const GeneralError = {
  None: 0,
  NoControlConnection: 1,
  BadLength: 2,
  OutOfRange: 3,
  InsufficientResources: 4,
  InvalidSessionId: 5,
  VendorSpecific: 6,
  TryAnother: 7,
  UnknownMandatoryAvp: 8,
} as const;

/** Framing Capabilities / Framing Type bits, RFC 2661 §4.4.3 and §4.4.5. */
export const Framing = { Sync: 1, Async: 2 } as const;
/** Bearer Capabilities / Bearer Type bits, RFC 2661 §4.4.3 and §4.4.5. */
export const Bearer = { Digital: 1, Analog: 2 } as const;

/** The L2TP protocol version carried in headers, RFC 2661 §3.1. */
export const L2TP_VERSION = 2;
/** UDP port, RFC 2661 §8.1. */
export const L2TP_PORT = 1701;
/** Microsoft's SMI enterprise number; Windows sends vendor AVPs with it. */
export const VENDOR_MICROSOFT = 311;
