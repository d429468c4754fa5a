/**
 * Which AVPs each control message must and may carry: RFC 2661 §6.1..§6.14 as a data table.
 * `tolerateMissing` lists required AVPs that real clients omit; their absence is accepted (see docs/interop.md).
 */
import type { AvpField } from './avp-catalog';
import type { MessageTypeName } from './constants';

export interface MessageRule {
  /** RFC 2661 section defining the message. */
  readonly section: string;
  /** Tunnel messages travel with Session ID 0; session messages name a session. */
  readonly scope: 'tunnel' | 'session';
  readonly required: readonly AvpField[];
  readonly optional: readonly AvpField[];
  readonly tolerateMissing?: readonly AvpField[];
}

export const MESSAGE_RULES: Readonly<Record<MessageTypeName, MessageRule>> = {
  SCCRQ: {
    section: '6.1',
    scope: 'tunnel',
    required: ['protocolVersion', 'hostName', 'framingCapabilities', 'assignedTunnelId'],
    optional: ['bearerCapabilities', 'receiveWindowSize', 'challenge', 'tieBreaker', 'firmwareRevision', 'vendorName'],
    tolerateMissing: ['hostName'],
  },
  SCCRP: {
    section: '6.2',
    scope: 'tunnel',
    required: ['protocolVersion', 'framingCapabilities', 'hostName', 'assignedTunnelId'],
    optional: [
      'bearerCapabilities',
      'firmwareRevision',
      'vendorName',
      'receiveWindowSize',
      'challenge',
      'challengeResponse',
    ],
    tolerateMissing: ['hostName'],
  },
  SCCCN: { section: '6.3', scope: 'tunnel', required: [], optional: ['challengeResponse'] },
  StopCCN: {
    section: '6.4',
    scope: 'tunnel',
    required: ['assignedTunnelId', 'resultCode'],
    optional: [],
    // A teardown is honoured even when malformed: refusing it would only leave a half-dead tunnel.
    tolerateMissing: ['assignedTunnelId', 'resultCode'],
  },
  HELLO: { section: '6.5', scope: 'tunnel', required: [], optional: [] },
  OCRQ: {
    section: '6.6',
    scope: 'session',
    required: [
      'assignedSessionId',
      'callSerialNumber',
      'minimumBps',
      'maximumBps',
      'bearerType',
      'framingType',
      'calledNumber',
    ],
    optional: ['subAddress'],
  },
  OCRP: { section: '6.7', scope: 'session', required: ['assignedSessionId'], optional: ['physicalChannelId'] },
  OCCN: {
    section: '6.8',
    scope: 'session',
    required: ['txConnectSpeed', 'framingType'],
    optional: ['rxConnectSpeed', 'sequencingRequired'],
  },
  ICRQ: {
    section: '6.9',
    scope: 'session',
    required: ['assignedSessionId', 'callSerialNumber'],
    optional: ['bearerType', 'physicalChannelId', 'callingNumber', 'calledNumber', 'subAddress'],
  },
  ICRP: { section: '6.10', scope: 'session', required: ['assignedSessionId'], optional: [] },
  ICCN: {
    section: '6.11',
    scope: 'session',
    required: ['txConnectSpeed', 'framingType'],
    optional: [
      'initialReceivedLcpConfReq',
      'lastSentLcpConfReq',
      'lastReceivedLcpConfReq',
      'proxyAuthenType',
      'proxyAuthenName',
      'proxyAuthenChallenge',
      'proxyAuthenId',
      'proxyAuthenResponse',
      'privateGroupId',
      'rxConnectSpeed',
      'sequencingRequired',
    ],
  },
  CDN: {
    section: '6.12',
    scope: 'session',
    required: ['resultCode', 'assignedSessionId'],
    optional: ['q931Cause'],
    // The header's Session ID already names the call; honour the teardown even when malformed.
    tolerateMissing: ['resultCode', 'assignedSessionId'],
  },
  WEN: { section: '6.13', scope: 'session', required: ['callErrors'], optional: [] },
  SLI: { section: '6.14', scope: 'session', required: ['accm'], optional: [] },
};

/** Highest result code defined for StopCCN and CDN (§4.4.2); used to spot byte-swapped codes. */
export const MAX_RESULT_CODE: Partial<Record<MessageTypeName, number>> = { StopCCN: 7, CDN: 11 };
/** Highest general error code defined in §4.4.2. */
export const MAX_ERROR_CODE = 8;
