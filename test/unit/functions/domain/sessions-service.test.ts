/**
 * The session service (functions/src/domain/sessions-service.ts) on the in-memory store: starts
 * with their grants, refusals, retries (it is the one place a retried start is looked up), interim
 * reports, stops and operator disconnects. The same flows over HTTP on DynamoDB Local:
 * test/integration/api/agent-protocol.test.ts.
 */
import { beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConflictError, ForbiddenError, NotFoundError, QuotaExceededError } from '../../../../functions/src/errors';
import { PoolExhaustedError } from '../../../../functions/src/domain/ip-allocation';
import { disconnectCommandId, reportInterim, requestDisconnect, startSession, stopSession, type StartSessionInput } from '../../../../functions/src/domain/sessions-service';
import type { Agent, Tenant } from '../../../../functions/src/domain/types';
import { agent as agentRecord, pool, tenant, user } from '../../../support/store-fixtures';
import { domainContext, type DomainContext } from '../../../support/domain/domain-context';

let ctx: DomainContext;
let agent: Agent;
let ref = 0;

async function seed(t: Partial<Tenant> = {}, cidr = '10.8.0.0/29') {
  await ctx.store.createTenant(tenant(t));
  await ctx.store.createPool(pool({ cidr, gateway: cidr.replace(/\.0\/\d+$/, '.1') }));
  await ctx.store.createUser(user());
}

beforeEach(async () => {
  ctx = domainContext();
  agent = agentRecord({ agentId: 'agent-1' });
  await ctx.store.createAgent(agent);
});

/** A start as the agent sends it, with the grant authentication issued for it. */
const start = (o: Partial<StartSessionInput> = {}): StartSessionInput => {
  const agentSessionRef = o.agentSessionRef ?? `ref-${ref++}`;
  const base = { tenantId: 'acme', username: 'alice', authMethod: 'mschapv2' as const, ...o };
  return {
    agentSessionRef,
    tunnelId: 1,
    l2tpSessionId: ref,
    peerAddress: '198.51.100.7',
    grant: ctx.grant(agent.agentId, base.tenantId, base.username, agentSessionRef, base.authMethod),
    ...base,
  };
};

describe('startSession', () => {
  test('a granted start records the session and hands back its pool, parsed once', async () => {
    await seed();
    const started = await startSession(ctx, agent, start());
    assert.equal(started.created, true);
    assert.equal(started.session.state, 'active');
    assert.equal(started.session.peerAddress, '198.51.100.7');
    assert.equal(started.pool.pool.poolId, 'main');
    assert.deepEqual([started.pool.block.prefix, started.pool.block.size], [29, 8]);
    assert.deepEqual(await ctx.store.getSession(started.session.sessionId), started.session);
  });

  test('without its own grant nothing starts: 403 grant-invalid', async () => {
    await seed();
    const good = start();
    for (const bad of [{ ...good, grant: 'x.y.z' }, { ...good, grant: start().grant }, { ...good, username: 'bob' }, { ...good, authMethod: 'pap' as const }]) {
      await assert.rejects(startSession(ctx, agent, bad), (e) => e instanceof ForbiddenError && e.code === 'grant-invalid');
    }
    await assert.rejects(startSession(ctx, agentRecord({ agentId: 'agent-2' }), good), (e) => e instanceof ForbiddenError && e.code === 'grant-invalid');
    assert.equal((await ctx.store.listSessions({}, { limit: 10 })).items.length, 0);
  });

  test('a retry returns the same session, created false, after its grant expired, and counts no new lease', async () => {
    await seed();
    const input = start();
    const first = await startSession(ctx, agent, input);
    ctx.clock.advance(61_000);
    const retry = await startSession(ctx, agent, input);
    assert.deepEqual([retry.created, retry.session], [false, first.session]);
    assert.equal(retry.pool.pool.poolId, 'main');
    assert.equal((await ctx.store.listLeases('acme', 'main')).length, 1);
  });

  test('a retry that meets a full pool gets its session: looked up once, by the service alone', async () => {
    await seed({}, '10.8.0.0/30'); // one client address, .2
    const input = start();
    const first = await startSession(ctx, agent, input);
    ctx.calls.clear();
    const retry = await startSession(ctx, agent, { ...input, grant: ctx.grant(agent.agentId, 'acme', 'alice', input.agentSessionRef) });
    assert.deepEqual([retry.created, retry.session.sessionId], [false, first.session.sessionId]);
    assert.equal(ctx.calls.get('getSession'), 1, 'one look-up of the retried start');
  });

  test('a new start on a full pool is PoolExhaustedError (503 pool-exhausted), after the one retry look-up', async () => {
    await seed({}, '10.8.0.0/30');
    await ctx.store.createUser(user({ username: 'bob' }));
    await startSession(ctx, agent, start());
    ctx.calls.clear();
    await assert.rejects(startSession(ctx, agent, start({ username: 'bob' })), (e) => {
      assert.ok(e instanceof PoolExhaustedError);
      assert.equal(e.message, 'no free address for tenant acme');
      return true;
    });
    assert.equal(ctx.calls.get('getSession'), 1);
  });

  test('quotas, methods, tenants and agents refuse with their codes', async () => {
    await seed({ maxSessionsPerUser: 1, authMethods: ['mschapv2'] });
    await startSession(ctx, agent, start());
    await assert.rejects(startSession(ctx, agent, start()), (e) => e instanceof QuotaExceededError && e.field === 'maxSessionsPerUser');
    await assert.rejects(startSession(ctx, agent, start({ authMethod: 'pap' })), (e) => e instanceof ForbiddenError && e.code === 'method-not-allowed');
    await assert.rejects(startSession(ctx, agent, start({ tenantId: 'nowhere' })), (e) => e instanceof NotFoundError && e.entity === 'tenant');
    const draining = { ...agent, state: 'draining' as const };
    await assert.rejects(startSession(ctx, draining, start()), (e) => e instanceof ConflictError && e.code === 'agent-draining');
  });

  test('a late retry of a session that has ended is refused: its address may be someone else\'s now', async () => {
    await seed();
    const input = start();
    const { session } = await startSession(ctx, agent, input);
    await stopSession(ctx, agent, session.sessionId, { reason: 'user-request' });
    await assert.rejects(startSession(ctx, agent, input), (e) => e instanceof ConflictError && e.code === 'session-stopped');
  });
});

describe('interim, stop and disconnect', () => {
  test('interim counters only grow; another agent\'s session is not found', async () => {
    await seed();
    const { session } = await startSession(ctx, agent, start());
    await reportInterim(ctx, agent, session.sessionId, { bytesIn: 10, bytesOut: 20, packetsIn: 1, packetsOut: 2 });
    const after = await reportInterim(ctx, agent, session.sessionId, { bytesIn: 5, bytesOut: 30, packetsIn: 1, packetsOut: 2 });
    assert.deepEqual([after.bytesIn, after.bytesOut], [10, 30]);
    await assert.rejects(reportInterim(ctx, agentRecord({ agentId: 'agent-2' }), session.sessionId, after), NotFoundError);
  });

  test('a stop frees the address at once (and the hint of it), once; a repeated stop returns the same', async () => {
    await seed();
    const { session } = await startSession(ctx, agent, start());
    const stopped = await stopSession(ctx, agent, session.sessionId, { reason: 'user-request', counters: { bytesIn: 1, bytesOut: 2, packetsIn: 3, packetsOut: 4 } });
    assert.deepEqual([stopped.state, stopped.endReason, stopped.bytesOut], ['stopped', 'user-request', 2]);
    assert.deepEqual(await ctx.store.listLeases('acme', 'main'), []);
    assert.deepEqual(await stopSession(ctx, agent, session.sessionId, { reason: 'error' }), stopped);
    await assert.rejects(stopSession(ctx, agent, 'nope', { reason: 'error' }), NotFoundError);
  });

  test('an operator disconnect marks the session and queues one command, however often it is asked', async () => {
    await seed();
    const { session } = await startSession(ctx, agent, start());
    const marked = await requestDisconnect(ctx, session);
    ctx.clock.advance(5_000);
    await requestDisconnect(ctx, session);
    assert.equal((await ctx.store.getSession(session.sessionId))?.disconnectRequestedAt, marked.disconnectRequestedAt);
    assert.deepEqual((await ctx.store.listAgentCommands(agent.agentId)).map((c) => c.commandId), [disconnectCommandId(session.sessionId)]);
    const stopped = await stopSession(ctx, agent, session.sessionId, { reason: 'admin-disconnect' });
    await assert.rejects(requestDisconnect(ctx, stopped), (e) => e instanceof ConflictError && e.code === 'session-stopped');
  });
});
