/**
 * Reads and transactions of one event-loop turn are merged into fewer DynamoDB requests
 * (read-batcher.ts, transact-batcher.ts), on DynamoDB Local: each caller still gets exactly the
 * answer it would have got alone.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createDynamoStore } from '../../../functions/src/store/dynamo';
import { AlreadyExistsError } from '../../../functions/src/domain/store-errors';
import { createTestStore, type TestStore } from '../../support/test-store';
import { agent, session, tenant, user } from '../../support/store-fixtures';
import type { Lease, Session } from '../../../functions/src/domain/types';

let t: TestStore;
const sent: string[] = [];
before(async () => {
  t = await createTestStore();
  t.client.middlewareStack.add(
    (next, context) => (args) => {
      sent.push(context.commandName ?? '?');
      return next(args);
    },
    { step: 'initialize', name: 'coalescingTestCounter' },
  );
  await t.store.createTenant(tenant({ tenantId: 'co' }));
  for (let i = 0; i < 5; i++) await t.store.createUser(user({ tenantId: 'co', username: `u${i}` }));
  await t.store.createAgent(agent({ agentId: 'co-agent' }));
});
after(() => t.close());
beforeEach(() => {
  sent.length = 0;
});

const count = (op: string) => sent.filter((s) => s === op).length;
let address = 0;
const fresh = (o: Partial<Session> = {}) => {
  const s = session({ tenantId: 'co', agentId: 'co-agent', assignedIp: `10.77.${address >> 8}.${address++ & 0xff}`, ...o });
  const lease: Lease = { tenantId: s.tenantId, poolId: s.poolId, ip: s.assignedIp, sessionId: s.sessionId, leasedAt: s.startedAt };
  return { s, lease };
};

describe('read coalescing', () => {
  test('concurrent reads of existing, missing and repeated keys share one BatchGetItem', async () => {
    const names = ['u0', 'u1', 'nobody', 'u2', 'u1', 'u3', 'ghost', 'u4'];
    const users = await Promise.all(names.map((n) => t.store.getUser('co', n)));
    assert.deepEqual(
      users.map((u) => u?.username),
      ['u0', 'u1', undefined, 'u2', 'u1', 'u3', undefined, 'u4'],
    );
    assert.equal(count('BatchGetItemCommand'), 1);
    assert.equal(count('GetItemCommand'), 0);
  });

  test('a lone read is a plain GetItem', async () => {
    assert.equal((await t.store.getUser('co', 'u0'))?.username, 'u0');
    assert.deepEqual(sent, ['GetItemCommand']);
  });

  test('a read issued after another one completed sees that one write (consistent reads)', async () => {
    const { s, lease } = fresh();
    await t.store.startSession(s, lease);
    const [a, b] = await Promise.all([t.store.getSession(s.sessionId), t.store.getSession('missing')]);
    assert.equal(a?.sessionId, s.sessionId);
    assert.equal(b, undefined);
  });

  test('with coalescing off, every read is its own GetItem', async () => {
    const plain = createDynamoStore({ client: t.client, tableName: t.tableName, coalesce: false });
    await Promise.all(['u0', 'u1', 'u2'].map((n) => plain.getUser('co', n)));
    assert.equal(count('GetItemCommand'), 3);
    assert.equal(count('BatchGetItemCommand'), 0);
  });
});

describe('transaction coalescing', () => {
  test('independent starts of one turn go out as one TransactWriteItems and all land', async () => {
    const starts = Array.from({ length: 20 }, () => fresh());
    const results = await Promise.all(starts.map(({ s, lease }) => t.store.startSession(s, lease)));
    assert.ok(results.every((r) => r.outcome === 'created'));
    assert.equal(count('TransactWriteItemsCommand'), 1);
    const stored = await Promise.all(starts.map(({ s }) => t.store.getSession(s.sessionId)));
    assert.ok(stored.every((s) => s?.state === 'active'));
  });

  test("a caller whose condition fails gets its own outcome; the others still land", async () => {
    const holder = fresh();
    await t.store.startSession(holder.s, holder.lease);
    const loser = fresh({ assignedIp: holder.s.assignedIp });
    const retry = { s: { ...holder.s, updatedAt: holder.s.updatedAt + 1 }, lease: { ...fresh().lease, sessionId: holder.s.sessionId } };
    const others = Array.from({ length: 5 }, () => fresh());
    sent.length = 0;
    const [lost, repeated, ...rest] = await Promise.all([
      t.store.startSession(loser.s, { ...loser.lease, ip: holder.s.assignedIp }),
      t.store.startSession(retry.s, retry.lease),
      ...others.map(({ s, lease }) => t.store.startSession(s, lease)),
    ]);
    assert.equal(lost?.outcome, 'address-taken');
    assert.equal(repeated?.outcome, 'exists'); // same agentSessionRef as the holder
    assert.ok(rest.every((r) => r.outcome === 'created'));
    assert.equal(await t.store.getSession(loser.s.sessionId), undefined);
    // The merged request was cancelled, then the five innocent starts went again, together.
    assert.equal(count('TransactWriteItemsCommand'), 2);
  });

  test('two transactions on one item in one turn are not merged, and both resolve correctly', async () => {
    const { s, lease } = fresh();
    await t.store.startSession(s, lease);
    sent.length = 0;
    const at = s.startedAt + 10;
    const [a, b] = await Promise.all([t.store.stopSession(s.sessionId, { reason: 'user-request', at }), t.store.stopSession(s.sessionId, { reason: 'user-request', at })]);
    assert.equal(a?.state, 'stopped');
    assert.equal(b?.state, 'stopped');
    assert.equal((await t.store.getSession(s.sessionId))?.endReason, 'user-request');
  });

  test('a creation that collides is reported to its caller alone', async () => {
    await t.store.createUser(user({ tenantId: 'co', username: 'taken' }));
    const results = await Promise.allSettled([
      t.store.createUser(user({ tenantId: 'co', username: 'taken' })),
      t.store.createUser(user({ tenantId: 'co', username: 'new-1' })),
      t.store.createUser(user({ tenantId: 'co', username: 'new-2' })),
    ]);
    assert.equal(results[0].status, 'rejected');
    assert.ok(results[0].status === 'rejected' && results[0].reason instanceof AlreadyExistsError);
    assert.deepEqual(results.slice(1).map((r) => r.status), ['fulfilled', 'fulfilled']);
    assert.equal((await t.store.getUser('co', 'new-2'))?.username, 'new-2');
  });

  test('stops and starts of one turn merge and the leases follow', async () => {
    const running = Array.from({ length: 10 }, () => fresh());
    await Promise.all(running.map(({ s, lease }) => t.store.startSession(s, lease)));
    sent.length = 0;
    const next = Array.from({ length: 10 }, () => fresh());
    await Promise.all([
      ...running.map(({ s }) => t.store.stopSession(s.sessionId, { reason: 'tunnel-closed', at: s.startedAt + 5 })),
      ...next.map(({ s, lease }) => t.store.startSession(s, lease)),
    ]);
    const leases = await t.store.listLeases('co', 'main');
    const held = new Set(leases.map((l) => l.sessionId));
    assert.ok(running.every(({ s }) => !held.has(s.sessionId)));
    assert.ok(next.every(({ s }) => held.has(s.sessionId)));
    assert.ok(count('TransactWriteItemsCommand') < 20, `sent ${count('TransactWriteItemsCommand')} transactions for 20`);
  });
});
