/**
 * The accounting sender on the in-memory store with a scripted transport: a record is deleted only
 * after an acknowledgement, a failure is counted and backed off, a session's records go in order,
 * records of a tenant that turned accounting off are dropped, and the delay sent is the record's age.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSecretBox, staticKeyRing } from '../../../../../functions/src/domain/ppp-auth';
import { putTenantAccounting, deleteTenantAccounting } from '../../../../../functions/src/domain/radius-accounting/settings';
import {
  drainAccountingOutbox,
  retryDelayMs,
  accountingUserName,
  type AccountingServerEndpoint,
  type AccountingTransport,
  type DeliveryResult,
} from '../../../../../functions/src/domain/radius-accounting/sender';
import type { AccountingRecord } from '../../../../../functions/src/domain/types';
import { createInMemoryStore } from '../../../../../functions/src/store/memory';
import { leaseFor, session, tenant } from '../../../../support/store-fixtures';

const FAR = Number.MAX_SAFE_INTEGER;

function setup() {
  let now = 1_000_000;
  const clock = { now: () => now, advance: (ms: number) => void (now += ms) };
  const store = createInMemoryStore({ clock });
  const secretBox = createSecretBox(staticKeyRing({ currentKeyId: 'k1', keys: { k1: Buffer.alloc(32, 3).toString('base64') } }));
  const sent: { record: AccountingRecord; delay: number; userName: string; servers: readonly AccountingServerEndpoint[] }[] = [];
  let answer: (r: AccountingRecord) => DeliveryResult = () => ({ delivered: true, server: 'x' });
  const transport: AccountingTransport = {
    async deliver(servers, record, options) {
      sent.push({ record, delay: options.delaySeconds, userName: options.userName, servers });
      return answer(record);
    },
  };
  const ctx = { store, clock, secretBox };
  return { ctx, store, clock, sent, transport, answer: (f: typeof answer) => void (answer = f) };
}

async function accountedTenant(t: ReturnType<typeof setup>, tenantId = 'acme') {
  await t.store.createTenant(tenant({ tenantId }));
  await putTenantAccounting(t.ctx, tenantId, { servers: [{ host: '192.0.2.1', secret: 'first-secret' }, { host: '192.0.2.2', port: 1646, secret: 'second-secret' }] });
}

async function startAccounted(t: ReturnType<typeof setup>, ip: string) {
  const s = session({ assignedIp: ip, startedAt: t.clock.now(), updatedAt: t.clock.now(), accounting: { interimIntervalSeconds: 60 } });
  await t.store.startSession(s, leaseFor(s));
  return s;
}

const pending = (t: ReturnType<typeof setup>) => t.store.listDueAccountingRecords(FAR, 1000);

test('delivered records are deleted; the transport gets the servers in order with their secrets opened', async () => {
  const t = setup();
  await accountedTenant(t);
  await startAccounted(t, '10.8.0.2');
  assert.deepEqual(await drainAccountingOutbox(t.ctx, t.transport), { delivered: 1, deferred: 0, dropped: 0 });
  assert.deepEqual(await pending(t), []);
  assert.deepEqual(
    t.sent[0]!.servers.map((s) => [s.host, s.port, Buffer.from(s.secret).toString()]),
    [['192.0.2.1', 1813, 'first-secret'], ['192.0.2.2', 1646, 'second-secret']],
  );
});

test('an unacknowledged record stays, counted and backed off; its Acct-Delay-Time grows with its age', async () => {
  const t = setup();
  await accountedTenant(t);
  const s = await startAccounted(t, '10.8.0.3');
  t.answer(() => ({ delivered: false, reason: '192.0.2.1:1813 timeout' }));
  t.clock.advance(2_500);
  assert.deepEqual(await drainAccountingOutbox(t.ctx, t.transport), { delivered: 0, deferred: 1, dropped: 0 });
  let [r] = await pending(t);
  assert.deepEqual([r?.attempts, r?.nextAttemptAt, r?.lastError], [1, t.clock.now() + retryDelayMs(1), '192.0.2.1:1813 timeout']);
  assert.deepEqual(await drainAccountingOutbox(t.ctx, t.transport), { delivered: 0, deferred: 0, dropped: 0 }, 'not before its next attempt');
  t.clock.advance(retryDelayMs(1));
  await drainAccountingOutbox(t.ctx, t.transport);
  [r] = await pending(t);
  assert.equal(r?.attempts, 2);
  t.answer(() => ({ delivered: true, server: 'back' }));
  t.clock.advance(retryDelayMs(2));
  assert.deepEqual(await drainAccountingOutbox(t.ctx, t.transport), { delivered: 1, deferred: 0, dropped: 0 });
  assert.deepEqual(await pending(t), []);
  assert.deepEqual(t.sent.map((x) => x.record.sessionId), [s.sessionId, s.sessionId, s.sessionId], 'the same session id each time');
  assert.deepEqual(t.sent.map((x) => x.delay), [2, 2 + 5, 2 + 5 + 10], 'seconds since the start, growing');
});

test('the backoff doubles up to its cap', () => {
  assert.deepEqual([1, 2, 3, 4].map((n) => retryDelayMs(n)), [5_000, 10_000, 20_000, 40_000]);
  assert.equal(retryDelayMs(30), 300_000);
  assert.equal(retryDelayMs(3, { baseBackoffMs: 1_000, maxBackoffMs: 3_000 }), 3_000);
});

test("a session's Stop is not sent while its Start is still unacknowledged", async () => {
  const t = setup();
  await accountedTenant(t);
  const s = await startAccounted(t, '10.8.0.4');
  t.clock.advance(1_000);
  await t.store.stopSession(s.sessionId, { reason: 'user-request', at: t.clock.now() });
  t.answer((r) => (r.status === 'start' ? { delivered: false, reason: 'timeout' } : { delivered: true, server: 'x' }));
  assert.deepEqual(await drainAccountingOutbox(t.ctx, t.transport), { delivered: 0, deferred: 1, dropped: 0 });
  assert.deepEqual(t.sent.map((x) => x.record.status), ['start']);
  t.answer(() => ({ delivered: true, server: 'x' }));
  t.clock.advance(retryDelayMs(1));
  assert.deepEqual(await drainAccountingOutbox(t.ctx, t.transport), { delivered: 2, deferred: 0, dropped: 0 });
  assert.deepEqual(t.sent.map((x) => x.record.status), ['start', 'start', 'stop']);
});

test("a Stop never overtakes its backed-off Start, even when only the Stop is due", async () => {
  const t = setup();
  await accountedTenant(t);
  const s = await startAccounted(t, '10.8.0.9');
  t.answer(() => ({ delivered: false, reason: 'timeout' }));
  await drainAccountingOutbox(t.ctx, t.transport); // the Start: backed off for 5 s
  t.clock.advance(1_000);
  await t.store.stopSession(s.sessionId, { reason: 'user-request', at: t.clock.now() });
  t.answer(() => ({ delivered: true, server: 'x' }));
  assert.deepEqual((await t.store.listDueAccountingRecords(t.clock.now(), 100)).map((r) => r.status), ['stop'], 'only the Stop is due');
  assert.deepEqual(await drainAccountingOutbox(t.ctx, t.transport), { delivered: 0, deferred: 0, dropped: 0 });
  assert.deepEqual(t.sent.map((x) => x.record.status), ['start']);
  t.clock.advance(retryDelayMs(1));
  assert.deepEqual(await drainAccountingOutbox(t.ctx, t.transport), { delivered: 2, deferred: 0, dropped: 0 });
  assert.deepEqual(t.sent.map((x) => x.record.status), ['start', 'start', 'stop']);
});

test('a record another sender holds is left alone', async () => {
  const t = setup();
  await accountedTenant(t);
  await startAccounted(t, '10.8.0.5');
  const [r] = await pending(t);
  await t.store.claimAccountingRecord(r!.recordId, t.clock.now(), t.clock.now() + 60_000);
  assert.deepEqual(await drainAccountingOutbox(t.ctx, t.transport), { delivered: 0, deferred: 0, dropped: 0 });
  assert.deepEqual(t.sent, []);
});

test('a transport that throws counts as a failed attempt, never as a delivery', async () => {
  const t = setup();
  await accountedTenant(t);
  await startAccounted(t, '10.8.0.6');
  t.answer(() => {
    throw new TypeError('boom');
  });
  assert.deepEqual(await drainAccountingOutbox(t.ctx, t.transport), { delivered: 0, deferred: 1, dropped: 0 });
  assert.equal((await pending(t))[0]?.lastError, 'TypeError');
});

test('records of a tenant that turned accounting off are dropped, not sent', async () => {
  const t = setup();
  await accountedTenant(t);
  await startAccounted(t, '10.8.0.7');
  await deleteTenantAccounting(t.ctx, 'acme');
  assert.deepEqual(await drainAccountingOutbox(t.ctx, t.transport), { delivered: 0, deferred: 0, dropped: 1 });
  assert.deepEqual(t.sent, []);
  assert.deepEqual(await pending(t), []);
});

test('the secrets are sealed for their tenant: a blob copied to another tenant does not open', async () => {
  const t = setup();
  await accountedTenant(t, 'acme');
  await t.store.createTenant(tenant({ tenantId: 'other' }));
  const stolen = (await t.store.getTenant('acme'))!.accounting!;
  assert.doesNotThrow(() => t.ctx.secretBox.decrypt(stolen.servers[0]!.secret, 'radius-accounting:acme'));
  assert.throws(() => t.ctx.secretBox.decrypt(stolen.servers[0]!.secret, 'radius-accounting:other'));
});

test('User-Name: user@tenant, or the user part alone where the tenant\'s RADIUS authentication sends it so', async () => {
  const t = setup();
  await accountedTenant(t);
  await startAccounted(t, '10.8.0.8');
  await drainAccountingOutbox(t.ctx, t.transport);
  assert.equal(t.sent[0]?.userName, 'alice@acme');
  const blob = t.ctx.secretBox.encrypt('x', 'unused');
  const server = { host: '192.0.2.9', port: 1812, secret: blob, timeoutMs: 1000, retries: 1 };
  assert.equal(accountingUserName({ authSource: { kind: 'radius', servers: [server], userName: 'without-realm' } }, { username: 'alice', tenantId: 'acme' }), 'alice');
  assert.equal(accountingUserName({ authSource: { kind: 'radius', servers: [server], userName: 'as-sent' } }, { username: 'alice', tenantId: 'acme' }), 'alice@acme');
  assert.equal(accountingUserName({}, { username: 'alice', tenantId: 'acme' }), 'alice@acme');
});
