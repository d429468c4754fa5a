/**
 * Session listing of the in-memory store: the same filter rules and order as the DynamoDB store's
 * (store/dynamo/session-list.ts): newest first by start time, since inclusive, until exclusive, a
 * username only with its tenant.
 */
import type { SessionFilter, Store } from '../../domain/store';
import { StoreError } from '../../domain/store-errors';
import type { Session } from '../../domain/types';
import { pad, pageOf } from './records';

export type SessionRecords = Map<string, Session>;

const matches = (s: Session, f: SessionFilter): boolean =>
  (f.tenantId === undefined || s.tenantId === f.tenantId) &&
  (f.username === undefined || s.username === f.username) &&
  (f.agentId === undefined || s.agentId === f.agentId) &&
  (f.state === undefined || s.state === f.state) &&
  (f.since === undefined || s.startedAt >= f.since) &&
  (f.until === undefined || s.startedAt < f.until);

export function sessionListing(sessions: SessionRecords): Pick<Store, 'listSessions'> {
  return {
    async listSessions(filter, page) {
      if (filter.username !== undefined && filter.tenantId === undefined) throw new StoreError('a session filter on username needs tenantId');
      const found = [...sessions.values()].filter((s) => matches(s, filter));
      return pageOf('sessions', found, (s) => `${pad(s.startedAt)}#${encodeURIComponent(s.sessionId)}`, 'descending', page);
    },
  };
}
