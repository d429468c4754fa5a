/**
 * Domain rules of issue 18's operator actions, on the in-memory store: the reason a broker-asked
 * disconnect is recorded with, ending a user's sessions through the one disconnect command, a
 * pool's block moving only around its leases, a tenant deleted only when empty or by cascade.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deletePool, updatePool } from '../../../../functions/src/domain/pools';
import { disconnectActive, recordedReason } from '../../../../functions/src/domain/sessions-service';
import { deleteTenant } from '../../../../functions/src/domain/tenant-deletion';
import { ConflictError } from '../../../../functions/src/errors';
import { agent, leaseFor, pool, session, tenant } from '../../../support/store-fixtures';
import { domainContext } from '../../../support/domain/domain-context';

test('recordedReason: the broker\'s reason replaces the agent\'s admin-disconnect, nothing else', () => {
  const s = session({ disconnectReason: 'user-deleted' });
  assert.equal(recordedReason(s, 'admin-disconnect'), 'user-deleted');
  assert.equal(recordedReason(s, 'lcp-timeout'), 'lcp-timeout', 'a session that ended on its own keeps its reason');
  assert.equal(recordedReason(session(), 'admin-disconnect'), 'admin-disconnect');
});

test('disconnectActive queues one disconnect-session per active session, once', async () => {
  const ctx = domainContext();
  await ctx.store.createTenant(tenant());
  await ctx.store.createAgent(agent());
  const a = session({ assignedIp: '10.8.0.10' });
  const b = session({ assignedIp: '10.8.0.11' });
  const other = session({ assignedIp: '10.8.0.12', username: 'bob' });
  for (const s of [a, b, other]) await ctx.store.startSession(s, leaseFor(s));
  assert.equal(await disconnectActive(ctx, { tenantId: 'acme', username: 'alice' }, 'user-disabled'), 2);
  assert.equal(await disconnectActive(ctx, { tenantId: 'acme', username: 'alice' }, 'user-deleted'), 2, 'repeatable');
  const commands = await ctx.store.listAgentCommands('agent-1');
  assert.deepEqual(commands.map((c) => c.type === 'disconnect-session' && c.sessionId).sort(), [a.sessionId, b.sessionId].sort());
  assert.equal((await ctx.store.getSession(a.sessionId))?.disconnectReason, 'user-disabled', 'the first reason stays');
  assert.equal((await ctx.store.getSession(other.sessionId))?.disconnectRequestedAt, undefined);
});

test('a pool moves only around its leases, and is deleted only when none is held', async () => {
  const ctx = domainContext();
  await ctx.store.createTenant(tenant());
  await ctx.store.createAgent(agent());
  await ctx.store.createPool(pool({ cidr: '10.8.0.0/24' }), { revision: 0, pools: [] });
  const s = session({ assignedIp: '10.8.0.200' });
  await ctx.store.startSession(s, leaseFor(s));
  await assert.rejects(updatePool(ctx, 'acme', 'main', { cidr: '10.8.0.0/25' }), (e) => e instanceof ConflictError && e.code === 'pool-range-has-leases');
  await assert.rejects(updatePool(ctx, 'acme', 'main', { gateway: '10.8.0.200' }), (e) => e instanceof ConflictError && e.code === 'pool-range-has-leases');
  assert.equal((await updatePool(ctx, 'acme', 'main', { dns: ['9.9.9.9'] })).dns[0], '9.9.9.9');
  await assert.rejects(deletePool(ctx, 'acme', 'main'), (e) => e instanceof ConflictError && e.code === 'pool-in-use');
  await ctx.store.stopSession(s.sessionId, { reason: 'user-request', at: ctx.clock.now() });
  assert.equal((await updatePool(ctx, 'acme', 'main', { cidr: '10.8.0.0/25' })).cidr, '10.8.0.0/25');
  assert.deepEqual((await ctx.store.getPoolRegistry())?.pools, [{ tenantId: 'acme', poolId: 'main', cidr: '10.8.0.0/25' }]);
  await deletePool(ctx, 'acme', 'main');
  assert.deepEqual((await ctx.store.getPoolRegistry())?.pools, []);
});

test('a tenant goes only when empty, or by cascade once its sessions have ended', async () => {
  const ctx = domainContext();
  await ctx.store.createTenant(tenant());
  await ctx.store.createAgent(agent());
  await ctx.store.createPool(pool(), { revision: 0, pools: [] });
  const s = session({ assignedIp: '10.8.0.20' });
  await ctx.store.startSession(s, leaseFor(s));
  await assert.rejects(deleteTenant(ctx, 'acme', { cascade: false }), (e) => e instanceof ConflictError && e.code === 'tenant-not-empty');
  assert.deepEqual(await deleteTenant(ctx, 'acme', { cascade: true }), { deleted: false, activeSessions: 1, pools: 1 });
  assert.equal((await ctx.store.getSession(s.sessionId))?.disconnectReason, 'tenant-deleted');
  await ctx.store.stopSession(s.sessionId, { reason: 'tenant-deleted', at: ctx.clock.now() });
  assert.deepEqual(await deleteTenant(ctx, 'acme', { cascade: true }), { deleted: true });
  assert.equal(await ctx.store.getTenant('acme'), undefined);
  assert.deepEqual(await ctx.store.listPools('acme'), []);
});
