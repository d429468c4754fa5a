/**
 * RADIUS numbers used by the broker: packet codes (RFC 2865 §3, RFC 2866 §3), attribute types
 * (RFC 2865 §5, RFC 2866 §5, RFC 2869 §5, RFC 3579 §3.2) and the Microsoft vendor-specific
 * attributes of RFC 2548 §2. Only what the broker sends or reads: the codec keeps any other
 * attribute as raw bytes, so an unknown one is never an error.
 */

/** Packet codes (RFC 2865 §3, RFC 2866 §3). */
export const RadiusCode = {
  AccessRequest: 1,
  AccessAccept: 2,
  AccessReject: 3,
  AccountingRequest: 4,
  AccountingResponse: 5,
  AccessChallenge: 11,
  StatusServer: 12,
  StatusClient: 13,
} as const;
export type RadiusCodeValue = (typeof RadiusCode)[keyof typeof RadiusCode];

/** Attribute types (RFC 2865 §5, RFC 2866 §5, RFC 2869 §5, RFC 3579 §3.2). */
export const Attr = {
  UserName: 1,
  UserPassword: 2,
  ChapPassword: 3,
  NasIpAddress: 4,
  NasPort: 5,
  ServiceType: 6,
  FramedProtocol: 7,
  FramedIpAddress: 8,
  FramedIpNetmask: 9,
  FilterId: 11,
  FramedMtu: 12,
  LoginIpHost: 14,
  LoginService: 15,
  ReplyMessage: 18,
  State: 24,
  Class: 25,
  VendorSpecific: 26,
  SessionTimeout: 27,
  IdleTimeout: 28,
  TerminationAction: 29,
  CalledStationId: 30,
  CallingStationId: 31,
  NasIdentifier: 32,
  ProxyState: 33,
  AcctStatusType: 40,
  AcctDelayTime: 41,
  AcctInputOctets: 42,
  AcctOutputOctets: 43,
  AcctSessionId: 44,
  AcctAuthentic: 45,
  AcctSessionTime: 46,
  AcctInputPackets: 47,
  AcctOutputPackets: 48,
  AcctTerminateCause: 49,
  AcctMultiSessionId: 50,
  AcctLinkCount: 51,
  AcctInputGigawords: 52,
  AcctOutputGigawords: 53,
  EventTimestamp: 55,
  ChapChallenge: 60,
  NasPortType: 61,
  PortLimit: 62,
  AcctInterimInterval: 85,
  NasPortId: 87,
  MessageAuthenticator: 80,
  EapMessage: 79,
} as const;

/** The SMI Network Management Private Enterprise Code of Microsoft (RFC 2548 §2). */
export const MICROSOFT_VENDOR_ID = 311;

/** Microsoft vendor-specific attribute types (RFC 2548 §2). */
export const MsAttr = {
  ChapResponse: 1,
  ChapError: 2,
  MppeEncryptionPolicy: 7,
  MppeEncryptionTypes: 8,
  ChapChallenge: 11,
  MppeSendKey: 16,
  MppeRecvKey: 17,
  Chap2Response: 25,
  Chap2Success: 26,
} as const;

/** NAS-Port-Type values (RFC 2865 §5.41): the broker is a Virtual port. */
export const NasPortType = { Async: 0, Virtual: 5 } as const;

/** Service-Type values (RFC 2865 §5.6). */
export const ServiceType = { Login: 1, Framed: 2 } as const;

/** Framed-Protocol values (RFC 2865 §5.7). */
export const FramedProtocol = { Ppp: 1 } as const;

/** Acct-Status-Type values (RFC 2866 §5.1, RFC 2866 §5.1 Interim-Update from RFC 2869 §2.1). */
export const AcctStatusType = { Start: 1, Stop: 2, InterimUpdate: 3, AccountingOn: 7, AccountingOff: 8 } as const;

/** Acct-Authentic values (RFC 2866 §5.6). */
export const AcctAuthentic = { Radius: 1, Local: 2, Remote: 3 } as const;

/** Header bytes: Code, Identifier, Length, Authenticator (RFC 2865 §3). */
export const HEADER_LENGTH = 20;
/** The smallest and largest Length a packet may carry (RFC 2865 §3). */
export const MIN_PACKET_LENGTH = 20;
export const MAX_PACKET_LENGTH = 4096;
/** An attribute's value is at most 253 bytes (its Length octet counts Type and Length too, RFC 2865 §5). */
export const MAX_ATTRIBUTE_VALUE = 253;
/** Authenticator and Message-Authenticator are both 16 bytes (RFC 2865 §3, RFC 3579 §3.2). */
export const AUTHENTICATOR_LENGTH = 16;
