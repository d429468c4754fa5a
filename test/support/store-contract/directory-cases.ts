/**
 * The Store contract, directory part: tenants, users and their authentication failures, pools,
 * agents and commands, API keys, fleet settings, idempotency records. Every Store runs it
 * (store-contract/index.ts).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AlreadyExistsError, InvalidCursorError, NotFoundError, PoolRegistryChangedError } from '../../../functions/src/domain/store-errors';
import { allPages } from '../../../functions/src/domain/all-pages';
import type { Agent, AgentCommand, AuthEvent } from '../../../functions/src/domain/types';
import type { AuthFailureWrite } from '../../../functions/src/domain/store';
import { agent, pool, tenant, user } from '../store-fixtures';
import type { OpenStore, StoreUnderTest } from './open-store';

export function directoryCases(open: OpenStore): void {
  let t: StoreUnderTest;
  let now = 50_000;
  before(async () => {
    t = await open({ clock: { now: () => now } });
  });
  after(() => t.close());

  describe('tenants', () => {
    test('create, get, duplicate, absent', async () => {
      await t.store.createTenant(tenant({ tenantId: 'ten-1', maxSessions: 5 }));
      assert.deepEqual(await t.store.getTenant('ten-1'), tenant({ tenantId: 'ten-1', maxSessions: 5 }));
      await assert.rejects(t.store.createTenant(tenant({ tenantId: 'ten-1' })), AlreadyExistsError);
      assert.equal(await t.store.getTenant('nobody'), undefined);
    });
    test('ids with separators do not collide with other keys', async () => {
      await t.store.createTenant(tenant({ tenantId: 'a#USER#b' }));
      assert.equal((await t.store.getTenant('a#USER#b'))?.tenantId, 'a#USER#b');
      assert.equal(await t.store.getTenant('a'), undefined);
    });
    test('listTenants pages through every tenant without repeats', async () => {
      for (let i = 0; i < 7; i++) await t.store.createTenant(tenant({ tenantId: `list-${i}` }));
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await t.store.listTenants({ limit: 3, ...(cursor ? { cursor } : {}) });
        assert.ok(page.items.length <= 3);
        seen.push(...page.items.map((x) => x.tenantId));
        cursor = page.cursor;
        pages++;
      } while (cursor);
      const listed = seen.filter((id) => id.startsWith('list-'));
      assert.deepEqual([...listed].sort(), ['list-0', 'list-1', 'list-2', 'list-3', 'list-4', 'list-5', 'list-6']);
      assert.equal(new Set(seen).size, seen.length);
      assert.ok(pages >= 3);
    });
    test('updateTenant sets and removes fields; deleteTenant reports whether it existed', async () => {
      await t.store.createTenant(tenant({ tenantId: 'upd-t', maxSessions: 5, maxSessionsPerUser: 2 }));
      const changed = await t.store.updateTenant('upd-t', { name: 'Renamed', maxSessions: null, authMethods: ['pap'], passwordPolicy: { minLength: 12, rejectUsername: false }, updatedAt: 9 });
      const expected = { ...tenant({ tenantId: 'upd-t', maxSessionsPerUser: 2 }), name: 'Renamed', authMethods: ['pap'] as const, passwordPolicy: { minLength: 12, rejectUsername: false }, updatedAt: 9 };
      assert.deepEqual(changed, expected);
      assert.deepEqual(await t.store.getTenant('upd-t'), expected);
      await assert.rejects(t.store.updateTenant('nobody', { name: 'x', updatedAt: 1 }), NotFoundError);
      assert.equal(await t.store.getTenant('nobody'), undefined, 'an update never creates');
      assert.equal(await t.store.deleteTenant('upd-t'), true);
      assert.equal(await t.store.deleteTenant('upd-t'), false);
      assert.equal(await t.store.getTenant('upd-t'), undefined);
      const listed = await allPages((page) => t.store.listTenants(page));
      assert.ok(!listed.some((x) => x.tenantId === 'upd-t'), 'a deleted tenant is not listed');
    });
    test('a foreign or garbled cursor is InvalidCursorError', async () => {
      await assert.rejects(t.store.listTenants({ limit: 2, cursor: 'not-base64-json' }), InvalidCursorError);
      const bogus = Buffer.from(JSON.stringify({ PK: { S: 'x' }, SK: { S: 'y' } })).toString('base64url');
      await assert.rejects(t.store.listTenants({ limit: 2, cursor: bogus }), InvalidCursorError);
    });
  });

  describe('users', () => {
    before(async () => {
      await t.store.createTenant(tenant({ tenantId: 'u-ten' }));
    });
    test('create needs the tenant; duplicate is AlreadyExists', async () => {
      await assert.rejects(t.store.createUser(user({ tenantId: 'missing' })), (e) => e instanceof NotFoundError && e.entity === 'tenant');
      await t.store.createUser(user({ tenantId: 'u-ten', username: 'bob', staticIp: '10.8.0.9' }));
      assert.deepEqual(await t.store.getUser('u-ten', 'bob'), user({ tenantId: 'u-ten', username: 'bob', staticIp: '10.8.0.9' }));
      await assert.rejects(t.store.createUser(user({ tenantId: 'u-ten', username: 'bob' })), AlreadyExistsError);
    });
    test('listUsers lists only users of that tenant (not pools, not the tenant)', async () => {
      await t.store.createTenant(tenant({ tenantId: 'lu' }));
      await t.store.createPool(pool({ tenantId: 'lu' }));
      for (const name of ['a', 'b', 'c']) await t.store.createUser(user({ tenantId: 'lu', username: name }));
      const first = await t.store.listUsers('lu', { limit: 2 });
      assert.deepEqual(first.items.map((u) => u.username), ['a', 'b']);
      assert.ok(first.cursor);
      const second = await t.store.listUsers('lu', { limit: 2, cursor: first.cursor });
      assert.deepEqual(second.items.map((u) => u.username), ['c']);
      assert.equal(second.cursor, undefined);
    });
    test('updateUser sets what it is given, removes a static address with null, needs the user', async () => {
      await t.store.createUser(user({ tenantId: 'u-ten', username: 'upd', staticIp: '10.8.0.7' }));
      const credentials = { ntHash: '1'.repeat(32) };
      const changed = await t.store.updateUser('u-ten', 'upd', { credentials, disabled: true, updatedAt: 5_000 });
      assert.deepEqual(changed, user({ tenantId: 'u-ten', username: 'upd', staticIp: '10.8.0.7', credentials, disabled: true, updatedAt: 5_000 }));
      const cleared = await t.store.updateUser('u-ten', 'upd', { staticIp: null, disabled: false, updatedAt: 6_000 });
      assert.equal(cleared.staticIp, undefined);
      assert.equal(cleared.disabled, false);
      assert.deepEqual(await t.store.getUser('u-ten', 'upd'), cleared);
      assert.equal((await t.store.updateUser('u-ten', 'upd', { staticIp: '10.8.0.8', updatedAt: 7_000 })).staticIp, '10.8.0.8');
      await assert.rejects(t.store.updateUser('u-ten', 'nobody', { disabled: true, updatedAt: 1 }), NotFoundError);
      assert.equal(await t.store.getUser('u-ten', 'nobody'), undefined, 'an update never creates');
    });
    test('deleteUser reports whether it existed', async () => {
      await t.store.createUser(user({ tenantId: 'u-ten', username: 'gone' }));
      assert.equal(await t.store.deleteUser('u-ten', 'gone'), true);
      assert.equal(await t.store.deleteUser('u-ten', 'gone'), false);
      assert.equal(await t.store.getUser('u-ten', 'gone'), undefined);
    });
    test('auth failures count atomically, lock, clear, and are listed newest first with ms TTL', async () => {
      await t.store.createUser(user({ tenantId: 'u-ten', username: 'carol' }));
      const event = (at: number, kind: AuthEvent['kind'] = 'failure'): AuthEvent => ({
        tenantId: 'u-ten',
        username: 'carol',
        at,
        kind,
        method: 'mschapv2',
        reason: 'bad response',
        agentId: 'agent-1',
        source: '198.51.100.4',
        expiresAt: now + 86_400_000,
      });
      const failure = (at: number, u: AuthFailureWrite['user'] = {}, kind?: AuthEvent['kind']): AuthFailureWrite => ({
        event: event(at, kind),
        user: u,
        throttles: [{ key: 'pair#carol', reset: false, expiresAt: now + 86_400_000 }],
      });
      await Promise.all([1, 2, 3, 4].map((i) => t.store.recordAuthFailure(failure(now + i, i === 1 ? { addSource: '198.51.100.4' } : {}))));
      await t.store.recordAuthFailure(failure(now + 5, { addSource: '203.0.113.9', lockUntil: now + 60_000 }, 'locked'));
      let u = await t.store.getUser('u-ten', 'carol');
      assert.equal(u?.failedAttempts, 5, 'ADD is atomic under concurrency');
      assert.equal(u?.lockedUntil, now + 60_000);
      assert.equal(u?.lockCount, 1);
      assert.deepEqual(u?.failureSources, ['198.51.100.4', '203.0.113.9']);
      assert.equal(u?.lastFailureReason, 'bad response');
      const throttle = await t.store.getAuthThrottle('pair#carol');
      assert.equal(throttle?.failures, 5);
      assert.equal(throttle?.key, 'pair#carol');
      assert.equal(throttle?.expiresAt, now + 86_400_000);
      await t.store.recordAuthFailure({ ...failure(now + 6), throttles: [{ key: 'pair#carol', reset: true, expiresAt: now + 1 }] });
      assert.equal((await t.store.getAuthThrottle('pair#carol'))?.failures, 1, 'reset starts again at 1');
      await t.store.deleteAuthThrottle('pair#carol');
      assert.equal(await t.store.getAuthThrottle('pair#carol'), undefined);
      const events = await t.store.listAuthEvents('u-ten', 'carol', { limit: 10 });
      assert.deepEqual(events.items.map((e) => e.at), [6, 5, 4, 3, 2, 1].map((i) => now + i));
      assert.deepEqual(events.items[1], event(now + 5, 'locked'));
      await t.store.clearAuthFailures('u-ten', 'carol');
      u = await t.store.getUser('u-ten', 'carol');
      assert.equal(u?.failedAttempts, 0);
      assert.equal(u?.lockedUntil, undefined);
      assert.equal(u?.lockCount, undefined);
      assert.equal(u?.failureSources, undefined);
      // A user that does not exist is not created: the same requests, nothing counted on a user item.
      await t.store.recordAuthFailure({ ...failure(now), event: { ...event(now), username: 'nobody' } });
      assert.equal(await t.store.getUser('u-ten', 'nobody'), undefined);
      await assert.rejects(t.store.clearAuthFailures('u-ten', 'nobody'), NotFoundError);
    });
    test('an outage event is written and listed, and counts nothing (RADIUS, issue 20)', async () => {
      await t.store.createUser(user({ tenantId: 'u-ten', username: 'olga' }));
      const outage: AuthEvent = { tenantId: 'u-ten', username: 'olga', at: now, kind: 'outage', method: 'pap', reason: 'radius-unavailable', agentId: 'agent-1', source: '198.51.100.7', expiresAt: now + 86_400_000 };
      await t.store.recordAuthEvent(outage);
      await t.store.recordAuthEvent({ ...outage, username: 'only-in-radius', at: now + 1 });
      assert.deepEqual((await t.store.listAuthEvents('u-ten', 'olga', { limit: 10 })).items, [outage]);
      assert.equal((await t.store.listAuthEvents('u-ten', 'only-in-radius', { limit: 10 })).items.length, 1);
      const u = await t.store.getUser('u-ten', 'olga');
      assert.equal(u?.failedAttempts, 0);
      assert.equal(u?.lastFailureAt, undefined);
      assert.equal(await t.store.getUser('u-ten', 'only-in-radius'), undefined, 'no user item is created');
    });
    test('credentials are replaced only while they are what the caller saw', async () => {
      await t.store.createUser(user({ tenantId: 'u-ten', username: 'erin' }));
      const before = (await t.store.getUser('u-ten', 'erin'))!.credentials;
      const sealed = { ntHashSealed: { keyId: 'k1', iv: 'aXY=', ciphertext: 'Y3Q=', tag: 'dGFn', v: 2 as const } };
      assert.equal(await t.store.replaceUserCredentials('u-ten', 'erin', sealed, { ntHash: 'f'.repeat(32) }), false, 'not what is stored');
      assert.equal(await t.store.replaceUserCredentials('u-ten', 'erin', sealed, before), true);
      assert.deepEqual((await t.store.getUser('u-ten', 'erin'))?.credentials, sealed);
      assert.equal(await t.store.replaceUserCredentials('u-ten', 'nobody', sealed, before), false);
    });
    test('expired auth events are not listed even before the TTL sweep', async () => {
      await t.store.createUser(user({ tenantId: 'u-ten', username: 'dave' }));
      const base = { tenantId: 'u-ten', username: 'dave', kind: 'failure', method: 'pap', reason: 'x' } as const;
      const write = (event: AuthEvent): AuthFailureWrite => ({ event, user: {}, throttles: [] });
      await t.store.recordAuthFailure(write({ ...base, at: now, expiresAt: now + 10 }));
      await t.store.recordAuthFailure(write({ ...base, at: now + 1, expiresAt: now + 1_000_000 }));
      now += 100;
      const events = await t.store.listAuthEvents('u-ten', 'dave', { limit: 10 });
      assert.deepEqual(events.items.map((e) => e.at), [now - 99]);
    });
  });

  describe('pools and leases', () => {
    test('create needs the tenant; get, list, duplicates', async () => {
      await t.store.createTenant(tenant({ tenantId: 'p-ten' }));
      await assert.rejects(t.store.createPool(pool({ tenantId: 'nope' })), NotFoundError);
      await t.store.createPool(pool({ tenantId: 'p-ten', poolId: 'a', exclude: [{ first: '10.8.0.2', last: '10.8.0.9' }] }));
      await t.store.createPool(pool({ tenantId: 'p-ten', poolId: 'b', cidr: '10.9.0.0/24', gateway: '10.9.0.1' }));
      await assert.rejects(t.store.createPool(pool({ tenantId: 'p-ten', poolId: 'a' })), AlreadyExistsError);
      assert.deepEqual(
        await t.store.getPool('p-ten', 'a'),
        pool({ tenantId: 'p-ten', poolId: 'a', exclude: [{ first: '10.8.0.2', last: '10.8.0.9' }] }),
      );
      assert.deepEqual((await t.store.listPools('p-ten')).map((p) => p.poolId), ['a', 'b']);
      assert.deepEqual(await t.store.listLeases('p-ten', 'a'), []);
    });
    test('updatePool and deletePool replace the registry claim under its revision rule', async () => {
      await t.store.createTenant(tenant({ tenantId: 'pr-ten' }));
      const read = async () => (await t.store.getPoolRegistry()) ?? { revision: 0, pools: [] };
      const p = pool({ tenantId: 'pr-ten', poolId: 'x', cidr: '10.40.0.0/24', gateway: '10.40.0.1' });
      await t.store.createPool(p, await read());
      const before = await read();
      const moved = { ...p, cidr: '10.40.0.0/23', dns: ['9.9.9.9'] };
      await t.store.updatePool(moved, before);
      assert.deepEqual(await t.store.getPool('pr-ten', 'x'), moved);
      const after = await read();
      assert.equal(after.revision, before.revision + 1);
      assert.deepEqual(after.pools.filter((c) => c.tenantId === 'pr-ten'), [{ tenantId: 'pr-ten', poolId: 'x', cidr: '10.40.0.0/23' }]);
      await assert.rejects(t.store.updatePool({ ...moved, cidr: '10.40.0.0/22' }, before), PoolRegistryChangedError);
      assert.equal((await t.store.getPool('pr-ten', 'x'))?.cidr, '10.40.0.0/23', 'a stale registry changes nothing');
      await assert.rejects(t.store.updatePool(pool({ tenantId: 'pr-ten', poolId: 'ghost' })), NotFoundError);
      await assert.rejects(t.store.deletePool('pr-ten', 'x', before), PoolRegistryChangedError);
      assert.equal(await t.store.deletePool('pr-ten', 'x', await read()), true);
      assert.equal(await t.store.getPool('pr-ten', 'x'), undefined);
      assert.deepEqual((await read()).pools.filter((c) => c.tenantId === 'pr-ten'), []);
      assert.equal(await t.store.deletePool('pr-ten', 'x', await read()), false);
    });
  });

  describe('agents and commands', () => {
    test('create, duplicate, update, not found', async () => {
      await t.store.createAgent(agent({ agentId: 'ag-1' }));
      await assert.rejects(t.store.createAgent(agent({ agentId: 'ag-1' })), AlreadyExistsError);
      const updated = await t.store.updateAgent('ag-1', {
        lastHeartbeatAt: 123,
        publicAddress: '198.51.100.7',
        counters: { bytesIn: 1, bytesOut: 2, packetsIn: 3, packetsOut: 4 },
        version: undefined,
      });
      assert.equal(updated.lastHeartbeatAt, 123);
      assert.equal(updated.publicAddress, '198.51.100.7');
      assert.deepEqual(updated.counters, { bytesIn: 1, bytesOut: 2, packetsIn: 3, packetsOut: 4 });
      assert.equal(updated.name, 'edge one');
      assert.deepEqual(await t.store.getAgent('ag-1'), updated);
      assert.equal(Object.keys(updated).some((k) => k.startsWith('GSI') || k === 'PK' || k === 'itemType'), false);
      await assert.rejects(t.store.updateAgent('ghost', { name: 'x' }), NotFoundError);
      await assert.rejects(t.store.updateAgent('ghost', {}), NotFoundError);
    });
    test('transitionAgent only from the given states', async () => {
      await t.store.createAgent(agent({ agentId: 'ag-2' }));
      assert.equal(await t.store.transitionAgent('ag-2', ['draining'], 'dead', 5), undefined);
      assert.equal((await t.store.transitionAgent('ag-2', ['active'], 'draining', 5))?.state, 'draining');
      assert.equal((await t.store.transitionAgent('ag-2', ['active', 'draining'], 'dead', 6))?.state, 'dead');
      assert.equal((await t.store.getAgent('ag-2'))?.state, 'dead');
      assert.equal(await t.store.transitionAgent('ghost', ['active'], 'dead', 6), undefined);
      assert.equal(await t.store.transitionAgent('ag-2', [], 'active', 6), undefined);
    });
    test('listAgents pages', async () => {
      const all: Agent[] = [];
      let cursor: string | undefined;
      do {
        const page = await t.store.listAgents({ limit: 1, ...(cursor ? { cursor } : {}) });
        all.push(...page.items);
        cursor = page.cursor;
      } while (cursor);
      assert.ok(['ag-1', 'ag-2'].every((id) => all.some((a) => a.agentId === id)));
      assert.equal(all.some((a) => 'tenantId' in a), false, 'only agents are listed');
    });
    test('commands: enqueue (agent must exist), list oldest first, ack idempotently', async () => {
      await t.store.createAgent(agent({ agentId: 'ag-3' }));
      const c1: AgentCommand = { commandId: 'c1', type: 'drain', deadline: 99, createdAt: 2 };
      const c2: AgentCommand = { commandId: 'c2', type: 'disconnect-session', sessionId: 's', createdAt: 1 };
      const c3: AgentCommand = { commandId: 'c3', type: 'reload-settings', createdAt: 3 };
      for (const c of [c1, c2, c3]) await t.store.enqueueAgentCommand('ag-3', c);
      await assert.rejects(t.store.enqueueAgentCommand('ag-3', c1), AlreadyExistsError);
      await assert.rejects(t.store.enqueueAgentCommand('ghost', c1), NotFoundError);
      assert.deepEqual(await t.store.listAgentCommands('ag-3'), [c2, c1, c3]);
      await t.store.ackAgentCommands('ag-3', ['c1', 'c3', 'unknown', 'c1']);
      assert.deepEqual(await t.store.listAgentCommands('ag-3'), [c2]);
      await t.store.ackAgentCommands('ag-3', []);
      assert.equal((await t.store.getAgent('ag-3'))?.agentId, 'ag-3', 'acks never touch the agent item');
    });
    test('acks of more than 25 commands are batched', async () => {
      await t.store.createAgent(agent({ agentId: 'ag-4' }));
      const ids = Array.from({ length: 30 }, (_, i) => `k${i}`);
      for (const id of ids) await t.store.enqueueAgentCommand('ag-4', { commandId: id, type: 'reload-settings', createdAt: 1 });
      await t.store.ackAgentCommands('ag-4', ids);
      assert.deepEqual(await t.store.listAgentCommands('ag-4'), []);
    });
  });

  describe('api keys, ipsec settings, idempotency', () => {
    test('api keys: create, duplicate, revoke', async () => {
      const key = { keyId: 'k1', scope: 'tenant', tenantId: 'acme', name: 'ci', secretHash: 'ab', revoked: false, createdAt: 1 } as const;
      await t.store.createApiKey(key);
      await assert.rejects(t.store.createApiKey(key), AlreadyExistsError);
      assert.deepEqual(await t.store.getApiKey('k1'), key);
      assert.equal(await t.store.revokeApiKey('k1'), true);
      assert.equal((await t.store.getApiKey('k1'))?.revoked, true);
      assert.equal(await t.store.revokeApiKey('nope'), false);
      assert.equal(await t.store.getApiKey('nope'), undefined);
    });
    test('api keys: listed by tenant or all, in pages, with their expiry', async () => {
      const base = { scope: 'tenant', name: 'n', secretHash: 'ab', revoked: false, createdAt: 1 } as const;
      for (const [keyId, tenantId] of [['la1', 'lk-a'], ['la2', 'lk-a'], ['la3', 'lk-a'], ['lb1', 'lk-b']] as const) {
        await t.store.createApiKey({ ...base, keyId, tenantId, ...(keyId === 'la2' ? { validUntil: 99_000 } : {}) });
      }
      await t.store.createApiKey({ keyId: 'lf1', scope: 'fleet', name: 'f', secretHash: 'cd', revoked: false, createdAt: 1 });
      const a = await allPages((page) => t.store.listApiKeys({ tenantId: 'lk-a' }, page), 2);
      assert.deepEqual(a.map((k) => k.keyId), ['la1', 'la2', 'la3']);
      assert.equal(a[1]?.validUntil, 99_000);
      const all = (await allPages((page) => t.store.listApiKeys({}, page), 2)).map((k) => k.keyId);
      for (const id of ['la1', 'la2', 'la3', 'lb1', 'lf1']) assert.ok(all.includes(id), id);
      assert.equal(new Set(all).size, all.length);
      assert.deepEqual((await t.store.listApiKeys({ tenantId: 'lk' }, { limit: 10 })).items, [], 'a tenant id is not a prefix of another');
    });
    test('audit events: per tenant and fleet-wide, newest first, since/until on their time', async () => {
      const ev = (eventId: string, at: number, tenantId?: string) => ({
        eventId, at, actor: 'admin', action: 'POST /v1/tenants', target: '/v1/tenants', fields: ['name'], status: 201, ...(tenantId ? { tenantId } : {}),
      });
      await t.store.putAuditEvent(ev('e1', 1_000, 'au-a'));
      await t.store.putAuditEvent(ev('e2', 2_000));
      await t.store.putAuditEvent(ev('e3', 3_000, 'au-b'));
      await t.store.putAuditEvent(ev('e4', 4_000, 'au-a'));
      await assert.rejects(t.store.putAuditEvent(ev('e4', 4_000, 'au-a')), AlreadyExistsError);
      assert.deepEqual((await t.store.listAuditEvents({ tenantId: 'au-a' }, { limit: 10 })).items, [ev('e4', 4_000, 'au-a'), ev('e1', 1_000, 'au-a')]);
      const fleet = await allPages((page) => t.store.listAuditEvents({}, page), 1);
      const ours = fleet.filter((e) => ['e1', 'e2', 'e3', 'e4'].includes(e.eventId)).map((e) => e.eventId);
      assert.deepEqual(ours, ['e4', 'e3', 'e2', 'e1']);
      const window = await t.store.listAuditEvents({ since: 2_000, until: 4_000 }, { limit: 10 });
      assert.deepEqual(window.items.filter((e) => e.eventId.startsWith('e')).map((e) => e.eventId), ['e3', 'e2'], 'since inclusive, until exclusive');
      assert.deepEqual((await t.store.listAuditEvents({ tenantId: 'au-a', since: 5_000 }, { limit: 10 })).items, []);
    });
    test('ipsec settings: absent, put, replace', async () => {
      assert.equal(await t.store.getIpsecSettings(), undefined);
      const s = { psk: { keyId: 'k', iv: 'aQ==', ciphertext: 'Yw==', tag: 'dA==' }, allowLegacyProposals: true, updatedAt: 1, revision: 1 };
      await t.store.putIpsecSettings(s);
      await t.store.putIpsecSettings({ ...s, revision: 2, allowLegacyProposals: false });
      assert.deepEqual(await t.store.getIpsecSettings(), { ...s, revision: 2, allowLegacyProposals: false });
    });
    test('idempotency: put once, expired records are absent and replaceable', async () => {
      const rec = { scope: 'agent:a', key: 'k', requestHash: 'h', status: 201, responseBody: '{"ok":true}', createdAt: now, expiresAt: now + 1000 };
      assert.equal(await t.store.putIdempotencyRecord(rec), true);
      assert.equal(await t.store.putIdempotencyRecord({ ...rec, requestHash: 'other' }), false);
      assert.deepEqual(await t.store.getIdempotencyRecord('agent:a', 'k'), rec);
      assert.equal(await t.store.getIdempotencyRecord('agent:a', 'other'), undefined);
      now += 2000;
      assert.equal(await t.store.getIdempotencyRecord('agent:a', 'k'), undefined);
      assert.equal(await t.store.putIdempotencyRecord({ ...rec, createdAt: now, expiresAt: now + 1000 }), true);
    });
    test('ping succeeds', async () => {
      await t.store.ping();
    });
  });
}
