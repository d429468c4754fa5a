/**
 * The audit log: one item per operator action, `AUDIT#T#<tenant>` (or `AUDIT#-` for fleet-wide
 * actions) / `<padded at>#<eventId>`, newest first per tenant; every event also carries ByKind keys
 * (`KIND#audit-event` / the same sort key) for the fleet-wide listing. Written once, never updated.
 */
import type { Store } from '../../domain/store';
import type { AuditEvent } from '../../domain/types';
import { toAttributes, toItem } from './item-codec';
import { createItem, kindKeys, listByKind } from './item-writes';
import { keys, padTime } from './keys';
import type { Table } from './table';

export type AuditOps = Pick<Store, 'putAuditEvent' | 'listAuditEvents'>;

/** Sort-key bounds of [since, until): padTime(until) sorts before every key at `until`. */
function bounds(since: number | undefined, until: number | undefined): [string, string] {
  return [padTime(since ?? 0), until === undefined ? '~' : padTime(until)];
}

export function auditOps(t: Table): AuditOps {
  return {
    async putAuditEvent(event) {
      const sort = keys.auditSort(event.at, event.eventId);
      const key = { PK: keys.auditPk(event.tenantId), SK: sort };
      await createItem(t, toItem(key, 'audit-event', event, kindKeys('audit-event', sort)), { entity: 'audit event', id: event.eventId });
    },

    async listAuditEvents(filter, page) {
      if (filter.since !== undefined && filter.until !== undefined && filter.until <= filter.since) return { items: [] };
      const [lo, hi] = bounds(filter.since, filter.until);
      if (filter.tenantId === undefined) return listByKind<AuditEvent>(t, 'audit-event', page, { newestFirst: true, between: [lo, hi] });
      return t.queryPage<AuditEvent>(
        {
          KeyConditionExpression: 'PK = :pk AND SK BETWEEN :lo AND :hi',
          ExpressionAttributeValues: toAttributes({ ':pk': keys.auditPk(filter.tenantId), ':lo': lo, ':hi': hi }),
          ScanIndexForward: false,
        },
        page,
      );
    },
  };
}
