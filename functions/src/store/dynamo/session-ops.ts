/**
 * Session items (`SESSION#<id>`, with the keys of the four session indexes: session-items.ts) and
 * the writes that keep them and their leases together. Start and stop are single transactions so that the session and its address
 * lease can never disagree; conditions carry the invariants and cancellation reasons (in request
 * order) say which one failed.
 *
 * The agent item is deliberately NOT part of them: every start and stop of one agent would touch
 * that one item, and transactions on a shared item serialize (DynamoDB Local: half the start
 * throughput at 8 concurrent starts, measured) or cancel each other (DynamoDB:
 * TransactionConflict). The agent's activeSessions is what it reports in its heartbeats.
 */
import {
  UpdateItemCommand,
  type TransactWriteItem,
} from '@aws-sdk/client-dynamodb';
import { afterInterim, stoppedSession } from '../../domain/session-accounting';
import { interimChange, startRecord, stopRecord } from '../../domain/radius-accounting/outbox-rules';
import { putAccountingRecord } from './accounting-ops';
import type { AgentCounters, EndReason, Session } from '../../domain/types';
import { AlreadyExistsError, StoreUnavailableError } from '../../domain/store-errors';
import type { Store } from '../../domain/store';
import { LEASE_EXPRESSIONS } from '../../domain/ip-allocation/lease-rule';
import { fromItem, toAttributes, toItem } from './item-codec';
import { gsiKeys, INDEXES, keys } from './keys';
import { cancellationCodes, isConditionFailed, translateSdkError } from './sdk-errors';
import { sessionItem } from './session-items';
import type { Table } from './table';

const CCF = 'ConditionalCheckFailed';
/**
 * Attempts of a transaction that lost a race (TransactionConflict: a stop racing an interim
 * update or another stop of the same session) or whose read went stale. Generous,
 * with full-jitter exponential backoff capped at 1 s, so a burst drains instead of failing.
 */
const MAX_ATTEMPTS = 25;

const backoffMs = (attempt: number) => Math.random() * Math.min(1_000, 10 * 2 ** attempt);

const startedBy = (s: Session, agentId: string, ref: string) => s.agentId === agentId && s.agentSessionRef === ref;


/** Sets the four counters, on the condition that none of the stored ones is larger. */
const COUNTERS_SET = 'bytesIn = :bi, bytesOut = :bo, packetsIn = :pi, packetsOut = :po';
const COUNTERS_NEVER_DECREASE = 'bytesIn <= :bi AND bytesOut <= :bo AND packetsIn <= :pi AND packetsOut <= :po';
const counterValues = (c: AgentCounters) => ({ ':bi': c.bytesIn, ':bo': c.bytesOut, ':pi': c.packetsIn, ':po': c.packetsOut });

export type SessionOps = Pick<Store, 'startSession' | 'getSession' | 'updateSessionCounters' | 'stopSession' | 'markDisconnectRequested'>;

export function sessionOps(t: Table): SessionOps {
  return {
    async startSession(session, lease) {
      const TableName = t.tableName;
      const free = LEASE_EXPRESSIONS.free(lease.leasedAt);
      // Two items: the session (its id names agent and ref, so its condition also catches a retried
      // start) and the lease.
      const items: TransactWriteItem[] = [
        { Put: { TableName, Item: sessionItem(session), ConditionExpression: 'attribute_not_exists(PK)' } },
        {
          // The lease rule (domain/ip-allocation/lease-rule.ts): free, or its grace has passed.
          Put: {
            TableName,
            Item: toItem(keys.lease(lease.tenantId, lease.poolId, lease.ip), 'lease', lease),
            ConditionExpression: free.expression,
            ExpressionAttributeValues: toAttributes(free.values),
          },
        },
      ];
      // The Start record, if its tenant accounts (radius-accounting/outbox-rules.ts): with the session or not at all.
      const start = startRecord(session);
      if (start) items.push(putAccountingRecord(TableName, start));
      for (let attempt = 0; ; attempt++) {
        try {
          await t.transact(items);
          return { outcome: 'created' };
        } catch (error) {
          const codes = cancellationCodes(error);
          if (!codes) throw translateSdkError(error, 'TransactWriteItems');
          const [sessionCode, leaseCode] = codes;
          if (sessionCode === CCF) {
            const existing = await t.get<Session>(keys.session(session.sessionId));
            if (existing && startedBy(existing, session.agentId, session.agentSessionRef)) return { outcome: 'exists', session: existing };
            if (existing) throw new AlreadyExistsError('session', session.sessionId, { cause: error });
            // Gone again between the write and the read (never deleted in practice): try again.
          } else if (leaseCode === CCF) {
            return { outcome: 'address-taken' };
          }
          if (attempt + 1 >= MAX_ATTEMPTS) {
            throw new StoreUnavailableError(`startSession kept conflicting (${codes.join(',')})`, { cause: error });
          }
          await t.sleep(backoffMs(attempt));
        }
      }
    },

    getSession: (sessionId) => t.get<Session>(keys.session(sessionId)),

    async updateSessionCounters(sessionId, reported, at) {
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const s = await t.get<Session>(keys.session(sessionId));
        if (!s || s.state === 'stopped') return s;
        const next = afterInterim(s, reported, at);
        if (!next) return s;
        // An Interim-Update record, when one is due, is written with the counters it reports.
        const change = interimChange(s, next, at);
        const update = {
          TableName: t.tableName,
          Key: toAttributes(keys.session(sessionId)),
          UpdateExpression: `SET ${COUNTERS_SET}, updatedAt = :upd${change.record ? ', accounting = :acct' : ''}`,
          ConditionExpression: `#state = :active AND ${COUNTERS_NEVER_DECREASE}`,
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: toAttributes({
            ':active': 'active',
            ':upd': next.updatedAt,
            ...counterValues(next),
            ...(change.record ? { ':acct': change.session.accounting } : {}),
          }),
        };
        try {
          if (change.record) {
            await t.transact([{ Update: update }, putAccountingRecord(t.tableName, change.record)]);
            return change.session;
          }
          const out = await t.send('UpdateItem', (c) => c.send(new UpdateItemCommand({ ...update, ReturnValues: 'ALL_NEW' })));
          return out.Attributes ? fromItem<Session>(out.Attributes) : undefined;
        } catch (error) {
          if (!isConditionFailed(error) && !cancellationCodes(error)) throw translateSdkError(error, 'UpdateItem');
          // A concurrent report or the stop won the race: re-read and decide again.
        }
      }
      throw new StoreUnavailableError(`updateSessionCounters ${sessionId} kept conflicting`);
    },

    async stopSession(sessionId, stop) {
      const TableName = t.tableName;
      // The caller's snapshot spares the first read; a stale one fails the condition and is re-read.
      let s: Session | undefined = stop.current?.sessionId === sessionId ? stop.current : undefined;
      // The lease is released in the same transaction, on the condition that this session holds it;
      // tried without reading it first, and left out only once that condition has failed (the
      // address was re-leased after a grace period, or the lease is gone).
      let releaseLease = true;
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        s ??= await t.get<Session>(keys.session(sessionId));
        if (!s || s.state === 'stopped') return s;
        const leaseKey = keys.lease(s.tenantId, s.poolId, s.assignedIp);
        const stopped = stoppedSession(s, stop);
        const items: TransactWriteItem[] = [
          {
            Update: {
              TableName,
              Key: toAttributes(keys.session(sessionId)),
              UpdateExpression: `SET #state = :stopped, stoppedAt = :at, endReason = :reason, updatedAt = :upd, #gsi = :gsi, ${COUNTERS_SET}`,
              ConditionExpression: `#state = :active AND ${COUNTERS_NEVER_DECREASE}`,
              ExpressionAttributeNames: { '#state': 'state', '#gsi': INDEXES.sessionsByState.pk },
              ExpressionAttributeValues: toAttributes({
                ':stopped': 'stopped',
                ':active': 'active',
                ':at': stop.at,
                ':reason': stop.reason satisfies EndReason,
                ':upd': stopped.updatedAt,
                ':gsi': gsiKeys.sessionsByState('stopped'),
                ...counterValues(stopped),
              }),
            },
          },
        ];
        if (releaseLease) {
          // The lease rule: only the holder releases its lease; with a grace it is kept until then
          // (an agent presumed lost may still forward for the address), else deleted.
          const heldBy = LEASE_EXPRESSIONS.heldBy(sessionId);
          if (stop.leaseGraceUntil !== undefined) {
            const keep = LEASE_EXPRESSIONS.keepUntil(stop.leaseGraceUntil);
            items.push({
              Update: {
                TableName,
                Key: toAttributes(leaseKey),
                UpdateExpression: keep.expression,
                ConditionExpression: heldBy.expression,
                ExpressionAttributeValues: toAttributes({ ...heldBy.values, ...keep.values }),
              },
            });
          } else {
            items.push({
              Delete: { TableName, Key: toAttributes(leaseKey), ConditionExpression: heldBy.expression, ExpressionAttributeValues: toAttributes(heldBy.values) },
            });
          }
        }
        // The Stop record (outbox-rules.ts), last: a stop and its record are stored together or not at all.
        const record = stopRecord(stopped);
        if (record) items.push(putAccountingRecord(TableName, record));
        try {
          await t.transact(items);
          return stopped;
        } catch (error) {
          const codes = cancellationCodes(error);
          if (!codes) throw translateSdkError(error, 'TransactWriteItems');
          const [sessionCode] = codes;
          const leaseCode = releaseLease ? codes[1] : undefined;
          if (leaseCode === CCF && (sessionCode === undefined || sessionCode === 'None')) {
            releaseLease = false; // not this session's lease: stop the session alone, snapshot still good
            continue;
          }
          // A concurrent stop or counter update changed the session: re-read and try again.
          s = undefined;
          await t.sleep(backoffMs(attempt));
        }
      }
      throw new StoreUnavailableError(`stopSession ${sessionId} kept conflicting`);
    },

    async markDisconnectRequested(sessionId, at, reason) {
      try {
        const out = (await t.send('UpdateItem', (c) => c.send(new UpdateItemCommand({
            TableName: t.tableName,
            Key: toAttributes(keys.session(sessionId)),
            // The first request's time is kept: repeated DELETEs do not move it.
            UpdateExpression: `SET disconnectRequestedAt = if_not_exists(disconnectRequestedAt, :at)${reason !== undefined ? ', disconnectReason = if_not_exists(disconnectReason, :reason)' : ''}`,
            ConditionExpression: 'attribute_exists(PK) AND #state = :active',
            ExpressionAttributeNames: { '#state': 'state' },
            ExpressionAttributeValues: toAttributes({ ':at': at, ':active': 'active', ...(reason !== undefined ? { ':reason': reason } : {}) }),
            ReturnValues: 'ALL_NEW',
          }))));
        return out.Attributes ? fromItem<Session>(out.Attributes) : undefined;
      } catch (error) {
        if (!isConditionFailed(error)) throw translateSdkError(error, 'UpdateItem');
        return t.get<Session>(keys.session(sessionId)); // absent, or stopped (left unchanged)
      }
    },
  };
}
