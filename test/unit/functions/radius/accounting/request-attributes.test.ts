import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accountingRequestAttributes, splitOctets } from '../../../../../functions/src/radius/accounting/request-attributes';
import { Attr, encodeAccountingRequest, checkRequest, isRadiusCodecError, readInteger, readText, readIpv4, firstValue, allValues, type RadiusPacket } from '../../../../../functions/src/radius';
import type { AccountingRecord } from '../../../../../functions/src/domain/types';

const base: AccountingRecord = {
  recordId: 'r',
  tenantId: 'acme',
  sessionId: 'sess-1',
  status: 'start',
  eventAt: 1_700_000_000_000,
  startedAt: 1_700_000_000_000,
  username: 'alice',
  agentId: 'agent-7',
  assignedIp: '10.8.0.9',
  peerAddress: '198.51.100.4:1701',
  authMethod: 'mschapv2',
  bytesIn: 0,
  bytesOut: 0,
  packetsIn: 0,
  packetsOut: 0,
  interimIntervalSeconds: 300,
  attempts: 0,
  nextAttemptAt: 0,
};

/** Encodes and decodes, so the test reads what a server reads. */
function onTheWire(record: AccountingRecord, delay: number): RadiusPacket {
  const secret = Buffer.from('s3cret-shared');
  const req = encodeAccountingRequest({ identifier: 1, secret, attributes: accountingRequestAttributes(record, { delaySeconds: delay, userName: 'alice@acme' }), messageAuthenticator: true });
  assert.ok(!isRadiusCodecError(req));
  const packet = checkRequest(req.bytes, secret, { requireMessageAuthenticator: true });
  assert.ok(!isRadiusCodecError(packet));
  return packet;
}

test('octets split into the low 32 bits and Gigawords (RFC 2869 §5.1)', () => {
  assert.deepEqual(splitOctets(0), { low: 0, gigawords: 0 });
  assert.deepEqual(splitOctets(2 ** 32 - 1), { low: 2 ** 32 - 1, gigawords: 0 });
  assert.deepEqual(splitOctets(2 ** 32), { low: 0, gigawords: 1 });
  assert.deepEqual(splitOctets(5 * 2 ** 32 + 123), { low: 123, gigawords: 5 });
});

test('Start: status, session id, user@tenant, NAS, framed address, caller, delay; no counters', () => {
  const p = onTheWire(base, 3);
  assert.equal(readInteger(p, Attr.AcctStatusType), 1);
  assert.equal(readText(p, Attr.AcctSessionId), 'sess-1');
  assert.equal(readText(p, Attr.UserName), 'alice@acme');
  assert.equal(readText(p, Attr.NasIdentifier), 'agent-7');
  assert.equal(readIpv4(p, Attr.FramedIpAddress), '10.8.0.9');
  assert.equal(readText(p, Attr.CallingStationId), '198.51.100.4:1701');
  assert.equal(readInteger(p, Attr.AcctDelayTime), 3);
  assert.equal(readInteger(p, Attr.EventTimestamp), 1_700_000_000);
  for (const absent of [Attr.AcctSessionTime, Attr.AcctInputOctets, Attr.AcctTerminateCause, Attr.Class]) assert.equal(firstValue(p, absent), undefined);
});

test('Interim-Update: counters with Gigawords above 4 GiB, packets, session time', () => {
  const p = onTheWire({ ...base, status: 'interim', eventAt: base.startedAt + 125_900, bytesIn: 6 * 2 ** 30, bytesOut: 1234, packetsIn: 70, packetsOut: 80 }, 0);
  assert.equal(readInteger(p, Attr.AcctStatusType), 3);
  assert.equal(readInteger(p, Attr.AcctSessionTime), 125);
  assert.equal(readInteger(p, Attr.AcctInputOctets), 2 * 2 ** 30);
  assert.equal(readInteger(p, Attr.AcctInputGigawords), 1);
  assert.equal(readInteger(p, Attr.AcctOutputOctets), 1234);
  assert.equal(firstValue(p, Attr.AcctOutputGigawords), undefined, 'no Gigawords below 4 GiB');
  assert.deepEqual([readInteger(p, Attr.AcctInputPackets), readInteger(p, Attr.AcctOutputPackets)], [70, 80]);
  assert.equal(firstValue(p, Attr.AcctTerminateCause), undefined);
});

test('Stop: the terminate cause of its end reason; each Class echoed as it came, in order', () => {
  const classes = [Buffer.from([0, 1, 2, 255]), Buffer.from('acct-class-2')];
  const p = onTheWire({ ...base, status: 'stop', eventAt: base.startedAt + 10_000, endReason: 'idle-timeout', radiusClass: classes.map((c) => c.toString('base64')) }, 0);
  assert.equal(readInteger(p, Attr.AcctStatusType), 2);
  assert.equal(readInteger(p, Attr.AcctTerminateCause), 4);
  assert.deepEqual(allValues(p, Attr.Class), classes);
});
