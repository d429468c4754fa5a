/**
 * Key layout of the single table (see docs/data-model.md). Every id that goes into a key is
 * URI-encoded so a `#` inside an id can never be confused with a key separator. Times in sort
 * keys are zero-padded to 15 digits so that string order equals numeric order.
 */
import { TABLE_DEFINITION } from '../table-definition';

const e = (part: string): string => encodeURIComponent(part);

/** Zero-padded epoch ms: sorts lexicographically like the number (until year 33658). */
export function padTime(ms: number): string {
  return Math.max(0, Math.floor(ms)).toString().padStart(15, '0');
}

/** Epoch ms to the epoch seconds DynamoDB TTL expects (rounded up so an item never dies early). */
export function ttlSeconds(ms: number): number {
  return Math.ceil(ms / 1000);
}

export interface Key {
  readonly PK: string;
  readonly SK: string;
}

export const META = 'META';

export const keys = {
  tenant: (t: string): Key => ({ PK: `TENANT#${e(t)}`, SK: META }),
  user: (t: string, u: string): Key => ({ PK: `TENANT#${e(t)}`, SK: `USER#${e(u)}` }),
  userPrefix: 'USER#',
  authEventPk: (t: string, u: string): string => `USEREVT#${e(t)}#${e(u)}`,
  authEvent: (t: string, u: string, at: number, rand: string): Key => ({
    PK: `USEREVT#${e(t)}#${e(u)}`,
    SK: `${padTime(at)}#${rand}`,
  }),
  pool: (t: string, p: string): Key => ({ PK: `TENANT#${e(t)}`, SK: `POOL#${e(p)}` }),
  poolPrefix: 'POOL#',
  leasePk: (t: string, p: string): string => `LEASE#${e(t)}#${e(p)}`,
  lease: (t: string, p: string, ip: string): Key => ({ PK: `LEASE#${e(t)}#${e(p)}`, SK: ip }),
  agent: (a: string): Key => ({ PK: `AGENT#${e(a)}`, SK: META }),
  agentCommand: (a: string, commandId: string): Key => ({ PK: `AGENT#${e(a)}`, SK: `CMD#${e(commandId)}` }),
  agentCommandPrefix: 'CMD#',
  session: (s: string): Key => ({ PK: `SESSION#${e(s)}`, SK: META }),
  apiKey: (k: string): Key => ({ PK: `APIKEY#${e(k)}`, SK: META }),
  /** ByKind sort key of an API key: its tenant first (empty for fleet keys), so a tenant's keys are one prefix. */
  apiKeySort: (tenantId: string | undefined, k: string): string => `${e(tenantId ?? '')}#${e(k)}`,
  auditPk: (tenantId: string | undefined): string => `AUDIT#${tenantId === undefined ? '-' : `T#${e(tenantId)}`}`,
  auditSort: (at: number, eventId: string): string => `${padTime(at)}#${e(eventId)}`,
  ipsec: (): Key => ({ PK: 'FLEET', SK: 'IPSEC' }),
  poolRegistry: (): Key => ({ PK: 'FLEET', SK: 'POOLS' }),
  dataKey: (keyId: string): Key => ({ PK: 'FLEET', SK: `DATAKEY#${e(keyId)}` }),
  dataKeyPrefix: 'DATAKEY#',
  idempotency: (scope: string, key: string): Key => ({ PK: `IDEMP#${e(scope)}#${e(key)}`, SK: META }),
  authThrottle: (key: string): Key => ({ PK: `THROTTLE#${e(key)}`, SK: META }),
  ping: (): Key => ({ PK: 'PING', SK: META }),
  /**
   * Accounting outbox records (domain/radius-accounting/): one partition per session, its records
   * in event order (the record id is `<sessionId>#<padded time>#<status>`), listed through ByKind.
   */
  accountingRecord: (recordId: string): Key => {
    const cut = recordId.lastIndexOf('#', recordId.lastIndexOf('#') - 1);
    return { PK: `ACCTREC#${e(recordId.slice(0, Math.max(0, cut)))}`, SK: recordId.slice(cut + 1) };
  },
  accountingSessionPk: (sessionId: string): string => `ACCTREC#${e(sessionId)}`,
};

/** GSI partition keys, by index. */
export const gsiKeys = {
  sessionsByTenant: (t: string) => `TENANT#${e(t)}`,
  sessionsByAgent: (a: string) => `AGENT#${e(a)}`,
  sessionsByUser: (t: string, u: string) => `TENANT#${e(t)}#USER#${e(u)}`,
  sessionsByState: (state: string) => `STATE#${state}`,
  kind: (kind: ItemKind) => `KIND#${kind}`,
  /** Sort key shared by every session index: start time first so since/until are key conditions. */
  sessionSort: (startedAt: number, sessionId: string) => `${padTime(startedAt)}#${e(sessionId)}`,
};

export type ItemKind =
  | 'tenant'
  | 'user'
  | 'auth-event'
  | 'pool'
  | 'lease'
  | 'agent'
  | 'agent-command'
  | 'session'
  | 'api-key'
  | 'ipsec-settings'
  | 'pool-registry'
  | 'idempotency'
  | 'auth-throttle'
  | 'data-key'
  | 'audit-event'
  | 'accounting-record';

const [byTenant, byAgent, byUser, byState, byKind] = TABLE_DEFINITION.globalSecondaryIndexes;

function indexOf(def: typeof byTenant, name: string) {
  if (!def || def.indexName !== name) throw new Error(`table definition lacks index ${name}`);
  return { name: def.indexName, pk: def.partitionKey.name, sk: def.sortKey.name };
}

/** Index names and key attribute names, taken from the one table definition. */
export const INDEXES = {
  sessionsByTenant: indexOf(byTenant, 'SessionsByTenant'),
  sessionsByAgent: indexOf(byAgent, 'SessionsByAgent'),
  sessionsByUser: indexOf(byUser, 'SessionsByUser'),
  sessionsByState: indexOf(byState, 'SessionsByState'),
  byKind: indexOf(byKind, 'ByKind'),
} as const;

export type IndexInfo = (typeof INDEXES)[keyof typeof INDEXES];

/** The TTL attribute (epoch seconds). Domain times are ms, kept in `<name>Ms` beside it. */
export const TTL_ATTRIBUTE = TABLE_DEFINITION.timeToLiveAttribute;
