/** PPP protocol field values (RFC 1661 §2, IANA "PPP DLL Protocol Numbers"). */
export const PPP_PROTOCOL = {
  IPV4: 0x0021,
  IPV6: 0x0057,
  IPCP: 0x8021,
  IPV6CP: 0x8057,
  CCP: 0x80fd,
  LCP: 0xc021,
  PAP: 0xc023,
  LQR: 0xc025,
  CHAP: 0xc223,
} as const;

/** Control packet codes shared by LCP and the NCPs (RFC 1661 §5). */
export const CP_CODE = {
  CONFIGURE_REQUEST: 1,
  CONFIGURE_ACK: 2,
  CONFIGURE_NAK: 3,
  CONFIGURE_REJECT: 4,
  TERMINATE_REQUEST: 5,
  TERMINATE_ACK: 6,
  CODE_REJECT: 7,
  // LCP only (RFC 1661 §5.7–5.9)
  PROTOCOL_REJECT: 8,
  ECHO_REQUEST: 9,
  ECHO_REPLY: 10,
  DISCARD_REQUEST: 11,
} as const;

/** LCP configuration option types (RFC 1661 §6, RFC 1570 for callback). */
export const LCP_OPTION = {
  MRU: 1,
  ACCM: 2,
  AUTH_PROTOCOL: 3,
  QUALITY_PROTOCOL: 4,
  MAGIC_NUMBER: 5,
  PFC: 7,
  ACFC: 8,
  CALLBACK: 13,
  MRRU: 17,
  ENDPOINT_DISCRIMINATOR: 19,
} as const;

/** CHAP algorithm byte carried in the LCP Auth-Protocol option (RFC 1994 §3, RFC 2759 §2). */
export const CHAP_ALGORITHM = { MD5: 0x05, MSCHAPV2: 0x81 } as const;

/** IPCP option types (RFC 1332 §3, RFC 1877). */
export const IPCP_OPTION = {
  IP_ADDRESSES: 1,
  IP_COMPRESSION: 2,
  IP_ADDRESS: 3,
  PRIMARY_DNS: 129,
  PRIMARY_NBNS: 130,
  SECONDARY_DNS: 131,
  SECONDARY_NBNS: 132,
} as const;

/** PAP codes (RFC 1334 §2.2). */
export const PAP_CODE = { AUTHENTICATE_REQUEST: 1, AUTHENTICATE_ACK: 2, AUTHENTICATE_NAK: 3 } as const;

/** CHAP codes (RFC 1994 §4). */
export const CHAP_CODE = { CHALLENGE: 1, RESPONSE: 2, SUCCESS: 3, FAILURE: 4 } as const;

/** The smallest MRU every PPP implementation must accept (RFC 1661 §6.1 allows less, RFC 791 needs 576). */
export const MIN_MRU = 576;
/** RFC 1661 §6.1 default MRU when the option is not negotiated. */
export const DEFAULT_MRU = 1500;
