/**
 * A Store in memory, for unit tests of domain logic only: integration tests, the local stack and
 * the functions run on DynamoDB (test/unit/architecture/import-graph.test.ts keeps it so). The
 * store contract suite (test/support/store-contract/) runs it and the DynamoDB store through the
 * same cases, so the two cannot drift. It applies the domain's own rules where DynamoDB has
 * conditions: the lease rule (ip-allocation/lease-rule.ts) and how reports change a session
 * (session-accounting.ts).
 */
import { isDeepStrictEqual } from 'node:util';
import { holdsAddress, leaseAfterStop } from '../../domain/ip-allocation/lease-rule';
import { afterInterim, stoppedSession } from '../../domain/session-accounting';
import { interimChange, startRecord, stopRecord } from '../../domain/radius-accounting/outbox-rules';
import type { Store } from '../../domain/store';
import { AlreadyExistsError, NotFoundError, PoolRegistryChangedError } from '../../domain/store-errors';
import {
  systemClock,
  type AccountingRecord,
  type Agent,
  type AgentCommand,
  type ApiKey,
  type AuditEvent,
  type AuthEvent,
  type AuthThrottle,
  type Clock,
  type IdempotencyRecord,
  type IpsecSettings,
  type Lease,
  type Pool,
  type PoolRegistry,
  type Tenant,
  type User,
  type WrappedDataKey,
} from '../../domain/types';
import { copy, pad, pageOf } from './records';
import { sessionListing, type SessionRecords } from './session-listing';

export interface InMemoryStoreOptions {
  /** Decides which TTL'd records (auth events, idempotency records) count as expired. */
  readonly clock?: Clock;
}

/** Joins key parts with a character no id contains. */
const k = (...parts: string[]): string => parts.join('\u0000');

const byCreation = <T extends { readonly createdAt: number }>(id: (t: T) => string) => (a: T, b: T) => a.createdAt - b.createdAt || id(a).localeCompare(id(b));

export function createInMemoryStore(options: InMemoryStoreOptions = {}): Store {
  const clock = options.clock ?? systemClock;
  const tenants = new Map<string, Tenant>();
  const users = new Map<string, User>();
  const events = new Map<string, { readonly event: AuthEvent; readonly seq: number }[]>();
  const throttles = new Map<string, AuthThrottle>();
  const pools = new Map<string, Pool>();
  let registry: PoolRegistry | undefined;
  const leases = new Map<string, Lease>();
  const sessions: SessionRecords = new Map();
  const agents = new Map<string, Agent>();
  const commands = new Map<string, AgentCommand>();
  const apiKeys = new Map<string, ApiKey>();
  let ipsec: IpsecSettings | undefined;
  const dataKeys = new Map<string, WrappedDataKey>();
  const idempotency = new Map<string, IdempotencyRecord>();
  const audit = new Map<string, AuditEvent>();
  const outbox = new Map<string, AccountingRecord>();
  const enqueue = (record: AccountingRecord | undefined) => {
    if (record) outbox.set(record.recordId, copy(record));
  };
  let eventSeq = 0;

  const get = <T>(map: Map<string, T>, key: string): T | undefined => {
    const found = map.get(key);
    return found === undefined ? undefined : copy(found);
  };
  const create = <T>(map: Map<string, T>, key: string, value: T, entity: string, id: string) => {
    if (map.has(key)) throw new AlreadyExistsError(entity, id);
    map.set(key, copy(value));
  };
  const requireTenant = (tenantId: string) => {
    if (!tenants.has(tenantId)) throw new NotFoundError('tenant', tenantId);
  };
  const leaseKey = (l: Pick<Lease, 'tenantId' | 'poolId' | 'ip'>) => k(l.tenantId, l.poolId, l.ip);
  /** The registry's revision rule (store.ts createPool): replaced only if still the one read. */
  const replaceRegistry = (expected: PoolRegistry, claims: PoolRegistry['pools']) => {
    const unchanged = expected.revision === 0 ? registry === undefined : registry?.revision === expected.revision;
    if (!unchanged) throw new PoolRegistryChangedError();
    registry = { revision: expected.revision + 1, pools: copy(claims) };
  };
  const inPartition = <T>(map: Map<string, T>, ...prefix: string[]) => {
    const start = k(...prefix, '');
    return [...map.entries()].filter(([key]) => key.startsWith(start)).map(([, v]) => v);
  };

  return {
    async ping() {},

    // --- tenants -------------------------------------------------------------------------------
    async createTenant(tenant) {
      create(tenants, tenant.tenantId, tenant, 'tenant', tenant.tenantId);
    },
    getTenant: async (tenantId) => get(tenants, tenantId),
    listTenants: async (page) => pageOf('tenants', [...tenants.values()], (t) => t.tenantId, 'ascending', page),
    async updateTenant(tenantId, changes) {
      const tenant = tenants.get(tenantId);
      if (!tenant) throw new NotFoundError('tenant', tenantId);
      const updated = Object.fromEntries(Object.entries({ ...tenant, ...copy(changes) }).filter(([, v]) => v !== null)) as unknown as Tenant;
      tenants.set(tenantId, updated);
      return copy(updated);
    },
    deleteTenant: async (tenantId) => tenants.delete(tenantId),
    async setTenantAccounting(tenantId, accounting, updatedAt) {
      const tenant = tenants.get(tenantId);
      if (!tenant) throw new NotFoundError('tenant', tenantId);
      const { accounting: _old, ...rest } = tenant;
      const updated: Tenant = { ...rest, ...(accounting ? { accounting: copy(accounting) } : {}), updatedAt };
      tenants.set(tenantId, updated);
      return copy(updated);
    },

    // --- users ---------------------------------------------------------------------------------
    async createUser(user) {
      requireTenant(user.tenantId);
      create(users, k(user.tenantId, user.username), user, 'user', `${user.tenantId}/${user.username}`);
    },
    getUser: async (tenantId, username) => get(users, k(tenantId, username)),
    listUsers: async (tenantId, page) =>
      pageOf(`users:${tenantId}`, inPartition(users, tenantId), (u) => encodeURIComponent(u.username), 'ascending', page),
    deleteUser: async (tenantId, username) => users.delete(k(tenantId, username)),
    async updateUser(tenantId, username, changes) {
      const user = users.get(k(tenantId, username));
      if (!user) throw new NotFoundError('user', `${tenantId}/${username}`);
      const { staticIp, ...rest } = copy(changes);
      const { staticIp: _old, ...without } = user;
      const updated: User = { ...(staticIp === null ? without : user), ...rest, ...(staticIp !== null && staticIp !== undefined ? { staticIp } : {}) };
      users.set(k(tenantId, username), updated);
      return copy(updated);
    },
    async replaceUserCredentials(tenantId, username, credentials, expected) {
      const user = users.get(k(tenantId, username));
      if (!user || !isDeepStrictEqual(copy(user.credentials), copy(expected))) return false;
      users.set(k(tenantId, username), { ...user, credentials: copy(credentials) });
      return true;
    },
    async recordAuthFailure({ event, user: change, throttles: keys }) {
      const key = k(event.tenantId, event.username);
      const user = users.get(key);
      if (user) {
        users.set(key, {
          ...user,
          failedAttempts: (user.failedAttempts ?? 0) + 1,
          lastFailureAt: event.at,
          lastFailureReason: event.reason,
          ...(change.addSource !== undefined ? { failureSources: [...(user.failureSources ?? []), change.addSource] } : {}),
          ...(change.lockUntil !== undefined ? { lockedUntil: change.lockUntil, lockCount: (user.lockCount ?? 0) + 1 } : {}),
        });
      }
      events.set(key, [...(events.get(key) ?? []), { event: copy(event), seq: eventSeq++ }]);
      for (const th of keys) {
        const failures = th.reset ? 1 : (throttles.get(th.key)?.failures ?? 0) + 1;
        throttles.set(th.key, { key: th.key, failures, lastFailureAt: event.at, expiresAt: th.expiresAt });
      }
    },
    async recordAuthEvent(event) {
      const key = k(event.tenantId, event.username);
      events.set(key, [...(events.get(key) ?? []), { event: copy(event), seq: eventSeq++ }]);
    },
    async clearAuthFailures(tenantId, username) {
      const user = users.get(k(tenantId, username));
      if (!user) throw new NotFoundError('user', `${tenantId}/${username}`);
      const { lockedUntil: _l, failureSources: _f, lockCount: _c, ...rest } = user;
      users.set(k(tenantId, username), { ...rest, failedAttempts: 0 });
    },
    getAuthThrottle: async (key) => get(throttles, key),
    async deleteAuthThrottle(key) {
      throttles.delete(key);
    },
    /** Newest first; expired events are left out (the TTL). */
    async listAuthEvents(tenantId, username, page) {
      const now = clock.now();
      const live = (events.get(k(tenantId, username)) ?? []).filter((e) => e.event.expiresAt > now);
      const listed = pageOf(`events:${k(tenantId, username)}`, live, (e) => `${pad(e.event.at)}#${pad(e.seq)}`, 'descending', page);
      return { ...listed, items: listed.items.map((e) => e.event) };
    },

    // --- pools and leases ----------------------------------------------------------------------
    async createPool(pool, expected) {
      requireTenant(pool.tenantId);
      const id = `${pool.tenantId}/${pool.poolId}`;
      if (pools.has(k(pool.tenantId, pool.poolId))) throw new AlreadyExistsError('pool', id);
      if (expected) replaceRegistry(expected, [...expected.pools, { tenantId: pool.tenantId, poolId: pool.poolId, cidr: pool.cidr }]);
      pools.set(k(pool.tenantId, pool.poolId), copy(pool));
    },
    async updatePool(pool, expected) {
      if (!pools.has(k(pool.tenantId, pool.poolId))) throw new NotFoundError('pool', `${pool.tenantId}/${pool.poolId}`);
      if (expected) {
        replaceRegistry(expected, [
          ...expected.pools.filter((p) => !(p.tenantId === pool.tenantId && p.poolId === pool.poolId)),
          { tenantId: pool.tenantId, poolId: pool.poolId, cidr: pool.cidr },
        ]);
      }
      pools.set(k(pool.tenantId, pool.poolId), copy(pool));
    },
    async deletePool(tenantId, poolId, expected) {
      if (!pools.has(k(tenantId, poolId))) return false;
      if (expected) replaceRegistry(expected, expected.pools.filter((p) => !(p.tenantId === tenantId && p.poolId === poolId)));
      return pools.delete(k(tenantId, poolId));
    },
    getPoolRegistry: async () => copy(registry),
    getPool: async (tenantId, poolId) => get(pools, k(tenantId, poolId)),
    listPools: async (tenantId) => inPartition(pools, tenantId).map(copy).sort((a, b) => (encodeURIComponent(a.poolId) < encodeURIComponent(b.poolId) ? -1 : 1)),
    listLeases: async (tenantId, poolId) => inPartition(leases, tenantId, poolId).map(copy).sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0)),

    // --- sessions ------------------------------------------------------------------------------
    async startSession(session, lease) {
      const existing = sessions.get(session.sessionId);
      if (existing) {
        if (existing.agentId === session.agentId && existing.agentSessionRef === session.agentSessionRef) return { outcome: 'exists', session: copy(existing) };
        throw new AlreadyExistsError('session', session.sessionId);
      }
      const held = leases.get(leaseKey(lease));
      if (held && holdsAddress(held, lease.leasedAt)) return { outcome: 'address-taken' };
      sessions.set(session.sessionId, copy(session));
      leases.set(leaseKey(lease), copy(lease));
      enqueue(startRecord(session));
      return { outcome: 'created' };
    },
    getSession: async (sessionId) => get(sessions, sessionId),
    async updateSessionCounters(sessionId, counters, at) {
      const s = sessions.get(sessionId);
      if (!s || s.state === 'stopped') return copy(s);
      const next = afterInterim(s, counters, at);
      if (!next) return copy(s);
      const change = interimChange(s, next, at);
      sessions.set(sessionId, change.session);
      enqueue(change.record);
      return copy(change.session);
    },
    async stopSession(sessionId, stop) {
      const s = sessions.get(sessionId);
      if (!s || s.state === 'stopped') return copy(s);
      const stopped = stoppedSession(s, stop);
      sessions.set(sessionId, stopped);
      enqueue(stopRecord(stopped));
      const key = leaseKey({ tenantId: s.tenantId, poolId: s.poolId, ip: s.assignedIp });
      const lease = leases.get(key);
      if (lease) {
        const after = leaseAfterStop(lease, sessionId, stop.leaseGraceUntil);
        if (after) leases.set(key, after);
        else leases.delete(key);
      }
      return copy(stopped);
    },
    async markDisconnectRequested(sessionId, at, reason) {
      const s = sessions.get(sessionId);
      if (!s || s.state !== 'active') return copy(s);
      const marked = {
        ...s,
        disconnectRequestedAt: s.disconnectRequestedAt ?? at,
        ...(reason !== undefined || s.disconnectReason !== undefined ? { disconnectReason: s.disconnectReason ?? reason } : {}),
      };
      sessions.set(sessionId, marked);
      return copy(marked);
    },
    ...sessionListing(sessions),

    // --- agents --------------------------------------------------------------------------------
    async createAgent(agent) {
      create(agents, agent.agentId, agent, 'agent', agent.agentId);
    },
    getAgent: async (agentId) => get(agents, agentId),
    listAgents: async (page) => pageOf('agents', [...agents.values()], (a) => a.agentId, 'ascending', page),
    async updateAgent(agentId, changes) {
      const agent = agents.get(agentId);
      if (!agent) throw new NotFoundError('agent', agentId);
      const updated = { ...agent, ...copy(changes) };
      agents.set(agentId, updated);
      return copy(updated);
    },
    async transitionAgent(agentId, from, to) {
      const agent = agents.get(agentId);
      if (!agent || !from.includes(agent.state)) return undefined;
      const moved = { ...agent, state: to };
      agents.set(agentId, moved);
      return copy(moved);
    },
    async enqueueAgentCommand(agentId, command) {
      if (!agents.has(agentId)) throw new NotFoundError('agent', agentId);
      create(commands, k(agentId, command.commandId), command, 'agent command', command.commandId);
    },
    /** Oldest first (delivery order). */
    listAgentCommands: async (agentId) => inPartition(commands, agentId).map(copy).sort(byCreation((c) => c.commandId)),
    async ackAgentCommands(agentId, commandIds) {
      for (const id of commandIds) commands.delete(k(agentId, id));
    },

    // --- API keys and fleet settings -----------------------------------------------------------
    async createApiKey(key) {
      create(apiKeys, key.keyId, key, 'api key', key.keyId);
    },
    getApiKey: async (keyId) => get(apiKeys, keyId),
    listApiKeys: async (filter, page) => {
      const found = [...apiKeys.values()].filter((key) => filter.tenantId === undefined || key.tenantId === filter.tenantId);
      return pageOf(`api-keys:${filter.tenantId ?? ''}`, found, (key) => `${encodeURIComponent(key.tenantId ?? '')}#${encodeURIComponent(key.keyId)}`, 'ascending', page);
    },
    async revokeApiKey(keyId) {
      const key = apiKeys.get(keyId);
      if (!key) return false;
      apiKeys.set(keyId, { ...key, revoked: true });
      return true;
    },
    getIpsecSettings: async () => copy(ipsec),
    async putIpsecSettings(settings) {
      ipsec = copy(settings);
    },
    listWrappedDataKeys: async () => [...dataKeys.values()].map(copy).sort(byCreation((d) => d.keyId)),
    async putWrappedDataKey(key) {
      if (dataKeys.has(key.keyId)) return false;
      dataKeys.set(key.keyId, copy(key));
      return true;
    },

    // --- RADIUS accounting outbox --------------------------------------------------------------
    async listDueAccountingRecords(now, limit) {
      const due = [...outbox.values()].filter((r) => r.nextAttemptAt <= now && (r.claimedUntil === undefined || r.claimedUntil <= now));
      due.sort((a, b) => a.eventAt - b.eventAt || (a.recordId < b.recordId ? -1 : 1));
      return due.slice(0, Math.max(0, limit)).map(copy);
    },
    async claimAccountingRecord(recordId, now, until) {
      const r = outbox.get(recordId);
      if (!r || r.nextAttemptAt > now || (r.claimedUntil !== undefined && r.claimedUntil > now)) return undefined;
      const claimed = { ...r, claimedUntil: until };
      outbox.set(recordId, claimed);
      return copy(claimed);
    },
    async deferAccountingRecord(recordId, retry) {
      const r = outbox.get(recordId);
      if (!r) return;
      const { claimedUntil: _c, ...rest } = r;
      outbox.set(recordId, { ...rest, ...copy(retry) });
    },
    async deleteAccountingRecord(recordId) {
      outbox.delete(recordId);
    },
    async oldestAccountingRecord(sessionId) {
      const mine = [...outbox.values()].filter((r) => r.sessionId === sessionId).sort((a, b) => (a.recordId < b.recordId ? -1 : 1));
      return copy(mine[0]);
    },

    // --- audit log ---------------------------------------------------------------------------
    async putAuditEvent(event) {
      create(audit, event.eventId, event, 'audit event', event.eventId);
    },
    async listAuditEvents(filter, page) {
      const found = [...audit.values()].filter(
        (e) =>
          (filter.tenantId === undefined || e.tenantId === filter.tenantId) &&
          (filter.since === undefined || e.at >= filter.since) &&
          (filter.until === undefined || e.at < filter.until),
      );
      return pageOf(`audit:${filter.tenantId ?? ''}`, found, (e) => `${pad(e.at)}#${encodeURIComponent(e.eventId)}`, 'descending', page);
    },

    // --- idempotency ---------------------------------------------------------------------------
    async getIdempotencyRecord(scope, key) {
      const record = idempotency.get(k(scope, key));
      return record && record.expiresAt > clock.now() ? copy(record) : undefined;
    },
    async putIdempotencyRecord(record) {
      const existing = idempotency.get(k(record.scope, record.key));
      if (existing && existing.expiresAt > clock.now()) return false;
      idempotency.set(k(record.scope, record.key), copy(record));
      return true;
    },
  };
}
