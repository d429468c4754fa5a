/**
 * Session listing: picks an index for the filter, turns since/until into a key condition on the
 * index sort key (which starts with the zero-padded start time) and applies the remaining
 * criteria as a filter expression. Newest sessions first.
 *
 * A filter that names a tenant is always answered from a partition holding only that tenant's
 * sessions (the user's or the tenant's), never from the agent's or the state's: a page cut short
 * by the query rounds (table.ts) hands out a cursor built from the last item evaluated, which
 * must be an item the tenant may see (issue 14 #7: a tenant key listing `agentId=` got a cursor
 * naming another tenant's session and start time).
 */
import type { Session } from '../../domain/types';
import { StoreError } from '../../domain/store-errors';
import type { SessionFilter, Store } from '../../domain/store';
import { toAttributes } from './item-codec';
import { gsiKeys, INDEXES, padTime, type IndexInfo } from './keys';
import type { Table } from './table';

interface Plan {
  readonly index: IndexInfo;
  readonly partition: string;
  /** Criteria the index does not cover, as attribute name -> required value. */
  readonly residual: Record<string, string>;
}

function plan(f: SessionFilter): Plan {
  const residual: Record<string, string> = {};
  if (f.username !== undefined) {
    if (f.tenantId === undefined) throw new StoreError('a session filter on username needs tenantId');
    if (f.agentId !== undefined) residual.agentId = f.agentId;
    if (f.state !== undefined) residual.state = f.state;
    return { index: INDEXES.sessionsByUser, partition: gsiKeys.sessionsByUser(f.tenantId, f.username), residual };
  }
  if (f.tenantId !== undefined) {
    if (f.agentId !== undefined) residual.agentId = f.agentId;
    if (f.state !== undefined) residual.state = f.state;
    return { index: INDEXES.sessionsByTenant, partition: gsiKeys.sessionsByTenant(f.tenantId), residual };
  }
  if (f.agentId !== undefined) {
    if (f.state !== undefined) residual.state = f.state;
    return { index: INDEXES.sessionsByAgent, partition: gsiKeys.sessionsByAgent(f.agentId), residual };
  }
  if (f.state !== undefined) {
    return { index: INDEXES.sessionsByState, partition: gsiKeys.sessionsByState(f.state), residual };
  }
  return { index: INDEXES.byKind, partition: gsiKeys.kind('session'), residual };
}

export type SessionListOps = Pick<Store, 'listSessions'>;

export function sessionListOps(t: Table): SessionListOps {
  return {
    /** One page of sessions matching `filter`, newest first. */
    async listSessions(filter, page) {
      const { index, partition, residual } = plan(filter);
      const names: Record<string, string> = { '#pk': index.pk };
      const values: Record<string, unknown> = { ':pk': partition };
      let keyCondition = '#pk = :pk';
      // Sort keys are "<padded startedAt>#<id>": padTime(until) sorts before every key of a session
      // started at `until`, so `< :until` means startedAt < until and `>= :since` startedAt >= since.
      if (filter.since !== undefined || filter.until !== undefined) {
        names['#sk'] = index.sk;
        if (filter.since !== undefined && filter.until !== undefined) {
          keyCondition += ' AND #sk BETWEEN :since AND :until';
          values[':since'] = padTime(filter.since);
          values[':until'] = padTime(filter.until);
        } else if (filter.since !== undefined) {
          keyCondition += ' AND #sk >= :since';
          values[':since'] = padTime(filter.since);
        } else {
          keyCondition += ' AND #sk < :until';
          values[':until'] = padTime(filter.until!);
        }
      }
      const conditions = Object.entries(residual).map(([name, value], i) => {
        names[`#f${i}`] = name;
        values[`:f${i}`] = value;
        return `#f${i} = :f${i}`;
      });
      if (filter.since !== undefined && filter.until !== undefined && filter.until <= filter.since) return { items: [] };
      return t.queryPage<Session>(
        {
          KeyConditionExpression: keyCondition,
          ...(conditions.length ? { FilterExpression: conditions.join(' AND ') } : {}),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: toAttributes(values),
          ScanIndexForward: false,
        },
        page,
        index,
      );
    },
  };
}
