/**
 * What the broker puts in an Access-Request for a relayed PPP authentication (RFC 2865 §5, RFC 2548
 * §2.3), and what it takes from the answer. Pure: the exchange is radius-verify.ts's.
 */
import {
  Attr,
  chapChallengeAttribute,
  chapPasswordAttribute,
  FramedProtocol,
  integerAttribute,
  ipv4Attribute,
  isRadiusCodecError,
  msChap2ResponseAttribute,
  msChapChallengeAttribute,
  NasPortType,
  RadiusCode,
  RadiusCodecError,
  readInteger,
  readIpv4,
  readMsChap2Success,
  readMsChapError,
  ServiceType,
  textAttribute,
  allValues,
  type RadiusAttribute,
  type RadiusPacket,
} from '../../radius';
import type { AuthRequest } from '../auth-request';
import type { NasIdentity } from './types';

export type { NasIdentity } from './types';

/** The parts of an Access-Request; User-Password goes separately (it is hidden per request). */
export interface AccessRequestParts {
  readonly attributes: readonly RadiusAttribute[];
  readonly password?: Buffer;
}

/** The client's address without a port (the agent may send `a.b.c.d:port`). */
export function callingStationId(peerAddress: string): string {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})(?::\d+)?$/.exec(peerAddress);
  return m ? m[1]! : peerAddress;
}

/** Builds the attributes for one relayed authentication; hostile sizes are an error value. */
export function accessRequestParts(request: AuthRequest, userName: string, nas: NasIdentity): AccessRequestParts | RadiusCodecError {
  const attributes: (RadiusAttribute | RadiusCodecError | undefined)[] = [
    textAttribute(Attr.UserName, userName),
    integerAttribute(Attr.ServiceType, ServiceType.Framed),
    integerAttribute(Attr.FramedProtocol, FramedProtocol.Ppp),
    textAttribute(Attr.NasIdentifier, nas.identifier),
    nas.ipAddress !== undefined ? ipv4Attribute(Attr.NasIpAddress, nas.ipAddress) : undefined,
    integerAttribute(Attr.NasPortType, NasPortType.Virtual),
    textAttribute(Attr.CallingStationId, callingStationId(request.peerAddress)),
  ];
  let password: Buffer | undefined;
  switch (request.method) {
    case 'pap':
      password = Buffer.from(request.password, 'utf8');
      break;
    case 'chap-md5':
      // RFC 2865 §5.3/§5.40: the peer's response with its CHAP id, and the challenge we sent.
      attributes.push(chapPasswordAttribute(request.id, Buffer.from(request.response, 'hex')));
      attributes.push(chapChallengeAttribute(Buffer.from(request.challenge, 'hex')));
      break;
    case 'mschapv2':
      // RFC 2548 §2.3.2: the Authenticator Challenge, and the peer's response (Ident, Flags, Peer-Challenge, Reserved, NT-Response).
      attributes.push(msChapChallengeAttribute(Buffer.from(request.authenticatorChallenge, 'hex')));
      attributes.push(msChap2ResponseAttribute(request.id ?? 0, Buffer.from(request.peerChallenge, 'hex'), Buffer.from(request.ntResponse, 'hex')));
      break;
  }
  const out: RadiusAttribute[] = [];
  for (const a of attributes) {
    if (a === undefined) continue;
    if (isRadiusCodecError(a)) return a;
    out.push(a);
  }
  return { attributes: out, ...(password !== undefined ? { password } : {}) };
}

/** What an Access-Accept grants, as the broker uses it. */
export interface AcceptGrant {
  readonly authenticatorResponse?: string;
  /** Framed-IP-Address, unless it is one of RFC 2865 §5.8's "NAS decides" values. */
  readonly framedIp?: string;
  readonly sessionTimeoutSeconds?: number;
  readonly idleTimeoutSeconds?: number;
  /** Class attributes (RFC 2865 §5.25), base64, for the accounting requests of this session. */
  readonly classes?: readonly string[];
}

export type AnswerReading =
  | { readonly kind: 'accept'; readonly grant: AcceptGrant }
  /** `disabled`: MS-CHAP-Error E=647 (RFC 2759 §6, ERROR_ACCOUNT_DISABLED), as NPS answers for a disabled AD account. */
  | { readonly kind: 'reject'; readonly disabled?: true }
  | { readonly kind: 'bad-answer'; readonly detail: string };

/** 255.255.255.254: the NAS picks; 255.255.255.255: the user may pick (RFC 2865 §5.8): both mean "from the pool". */
const NAS_CHOOSES = new Set(['255.255.255.254', '255.255.255.255']);

/** Reads an answer that passed the codec's checks. An Access-Challenge is unusable for PPP: a bad answer. */
export function readAnswer(packet: RadiusPacket, method: AuthRequest['method']): AnswerReading {
  if (packet.code === RadiusCode.AccessReject) return /^E=647\b/.test(readMsChapError(packet) ?? '') ? { kind: 'reject', disabled: true } : { kind: 'reject' };
  if (packet.code !== RadiusCode.AccessAccept) return { kind: 'bad-answer', detail: `code ${packet.code} (e.g. Access-Challenge) cannot be relayed over PPP` };
  const success = readMsChap2Success(packet);
  if (isRadiusCodecError(success)) return { kind: 'bad-answer', detail: success.message };
  // RFC 2548 §2.3.3: without MS-CHAP2-Success the client cannot authenticate the server (RFC 2759 §5).
  if (method === 'mschapv2' && success === undefined) return { kind: 'bad-answer', detail: 'Access-Accept without MS-CHAP2-Success' };
  const framed = readIpv4(packet, Attr.FramedIpAddress);
  const session = readInteger(packet, Attr.SessionTimeout);
  const idle = readInteger(packet, Attr.IdleTimeout);
  for (const v of [framed, session, idle]) if (isRadiusCodecError(v)) return { kind: 'bad-answer', detail: v.message };
  const classes = allValues(packet, Attr.Class).map((c) => c.toString('base64'));
  return {
    kind: 'accept',
    grant: {
      ...(method === 'mschapv2' && typeof success === 'string' ? { authenticatorResponse: success } : {}),
      ...(typeof framed === 'string' && !NAS_CHOOSES.has(framed) ? { framedIp: framed } : {}),
      ...(typeof session === 'number' && session > 0 ? { sessionTimeoutSeconds: session } : {}),
      ...(typeof idle === 'number' && idle > 0 ? { idleTimeoutSeconds: idle } : {}),
      ...(classes.length > 0 ? { classes } : {}),
    },
  };
}
