/** Session items: the record plus the keys of the four session indexes and ByKind. */
import type { Session } from '../../domain/types';
import { toItem, type Item } from './item-codec';
import { gsiKeys, INDEXES, keys } from './keys';

/** Index key attributes for a session; GSI4 (state) changes when the session stops. */
export function sessionIndexKeys(s: Pick<Session, 'sessionId' | 'tenantId' | 'username' | 'agentId' | 'startedAt' | 'state'>) {
  const sort = gsiKeys.sessionSort(s.startedAt, s.sessionId);
  return {
    [INDEXES.sessionsByTenant.pk]: gsiKeys.sessionsByTenant(s.tenantId),
    [INDEXES.sessionsByTenant.sk]: sort,
    [INDEXES.sessionsByAgent.pk]: gsiKeys.sessionsByAgent(s.agentId),
    [INDEXES.sessionsByAgent.sk]: sort,
    [INDEXES.sessionsByUser.pk]: gsiKeys.sessionsByUser(s.tenantId, s.username),
    [INDEXES.sessionsByUser.sk]: sort,
    [INDEXES.sessionsByState.pk]: gsiKeys.sessionsByState(s.state),
    [INDEXES.sessionsByState.sk]: sort,
    [INDEXES.byKind.pk]: gsiKeys.kind('session'),
    [INDEXES.byKind.sk]: sort,
  };
}

export function sessionItem(session: Session): Item {
  return toItem(keys.session(session.sessionId), 'session', session, sessionIndexKeys(session));
}
