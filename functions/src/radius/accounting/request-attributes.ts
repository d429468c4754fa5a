/**
 * The attributes of one Accounting-Request (RFC 2866 §5) for an outbox record, pure. Counters
 * above 32 bits go into Acct-Input/Output-Gigawords (RFC 2869 §5.1, §5.2: how many times the
 * octet counter wrapped past 2^32); packet counters have no such attribute and stop at 2^32 - 1.
 */
import type { AccountingRecord } from '../../domain/types';
import type { DeliveryOptions } from '../../domain/radius-accounting/sender';
import { terminateCause } from '../../domain/radius-accounting/terminate-cause';
import { integerAttribute, ipv4Attribute, octetsAttribute, textAttribute } from '../attributes';
import { AcctStatusType, Attr, FramedProtocol, NasPortType, ServiceType } from '../constants';
import type { RadiusAttribute } from '../packet';

const TWO_32 = 2 ** 32;
const MAX_U32 = TWO_32 - 1;

const STATUS: Record<AccountingRecord['status'], number> = {
  start: AcctStatusType.Start,
  interim: AcctStatusType.InterimUpdate,
  stop: AcctStatusType.Stop,
};

/** An octet count as (low 32 bits, gigawords). */
export function splitOctets(octets: number): { low: number; gigawords: number } {
  const n = Math.max(0, Math.floor(octets));
  return { low: n % TWO_32, gigawords: Math.min(MAX_U32, Math.floor(n / TWO_32)) };
}

const u32 = (n: number) => Math.min(MAX_U32, Math.max(0, Math.floor(n)));

/**
 * Everything but Message-Authenticator (the encoder adds it). `delaySeconds` is the record's age
 * at this transmission (RFC 2866 §5.2 Acct-Delay-Time); `userName` comes from the sender
 * (sender.ts accountingUserName).
 */
export function accountingRequestAttributes(record: AccountingRecord, { delaySeconds, userName }: DeliveryOptions): RadiusAttribute[] {
  const attrs: RadiusAttribute[] = [
    integerAttribute(Attr.AcctStatusType, STATUS[record.status]),
    // One id for every record of the session (RFC 2866 §5.5): Start, Interim-Updates and Stop match up.
    textAttribute(Attr.AcctSessionId, record.sessionId),
    textAttribute(Attr.UserName, userName),
    // The agent that carried the session is the NAS (RFC 2866 §4.1: NAS-IP-Address or NAS-Identifier is required).
    textAttribute(Attr.NasIdentifier, record.agentId),
    integerAttribute(Attr.NasPortType, NasPortType.Virtual),
    integerAttribute(Attr.ServiceType, ServiceType.Framed),
    integerAttribute(Attr.FramedProtocol, FramedProtocol.Ppp),
    integerAttribute(Attr.AcctDelayTime, u32(delaySeconds)),
    // RFC 2869 §5.3: when the event happened (the server need not subtract Acct-Delay-Time itself).
    integerAttribute(Attr.EventTimestamp, u32(record.eventAt / 1000)),
  ];
  const framed = ipv4Attribute(Attr.FramedIpAddress, record.assignedIp);
  if (framed) attrs.push(framed);
  if (record.peerAddress !== undefined) attrs.push(textAttribute(Attr.CallingStationId, record.peerAddress));
  // RFC 2865 §5.25: each Class of the Access-Accept, sent back unmodified, in order.
  for (const c of record.radiusClass ?? []) {
    const value = Buffer.from(c, 'base64');
    if (value.length > 0 && value.length <= 253) attrs.push(octetsAttribute(Attr.Class, value));
  }
  if (record.status !== 'start') {
    const input = splitOctets(record.bytesIn);
    const output = splitOctets(record.bytesOut);
    attrs.push(
      integerAttribute(Attr.AcctSessionTime, u32((record.eventAt - record.startedAt) / 1000)),
      integerAttribute(Attr.AcctInputOctets, input.low),
      integerAttribute(Attr.AcctOutputOctets, output.low),
      integerAttribute(Attr.AcctInputPackets, u32(record.packetsIn)),
      integerAttribute(Attr.AcctOutputPackets, u32(record.packetsOut)),
    );
    if (input.gigawords > 0) attrs.push(integerAttribute(Attr.AcctInputGigawords, input.gigawords));
    if (output.gigawords > 0) attrs.push(integerAttribute(Attr.AcctOutputGigawords, output.gigawords));
  }
  if (record.status === 'stop' && record.endReason !== undefined) {
    attrs.push(integerAttribute(Attr.AcctTerminateCause, terminateCause(record.endReason)));
  }
  return attrs;
}
