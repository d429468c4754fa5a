/**
 * The concurrency requirement: 4 processes x 50 concurrent allocations against one pool
 * of 150 addresses on DynamoDB Local. No address may be handed out twice, the 50 that cannot be
 * served get PoolExhaustedError, and once every session is stopped every address is free again.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createTestStore, type TestStore } from '../../support/test-store';
import { candidateAddresses, parsePool, parsePools, startSessionWithAddress } from '../../../functions/src/domain/ip-allocation';
import { formatIpv4 } from '../../../contract/src/ipv4';
import { systemClock } from '../../../functions/src/domain/types';
import { agent, pool, tenant, user } from '../../support/store-fixtures';

const WORKERS = 4;
const PER_WORKER = 50;
// 10.20.0.0/24 without .0, .255, the gateway .1 and .2-.104: 150 usable addresses.
const POOL = pool({ tenantId: 'conc', poolId: 'main', cidr: '10.20.0.0/24', gateway: '10.20.0.1', exclude: [{ first: '10.20.0.2', last: '10.20.0.104' }] });
const USABLE = candidateAddresses(parsePool(POOL)!).map(formatIpv4);

type Outcome =
  | { kind: 'created'; sessionId: string; ip: string; created: boolean }
  | { kind: 'exhausted'; message: string; tenantId: string; poolIds: string[] }
  | { kind: 'error'; message: string };

let t: TestStore;
before(async () => {
  t = await createTestStore();
  await t.store.createTenant(tenant({ tenantId: 'conc' }));
  await t.store.createPool(POOL);
  await t.store.createAgent(agent({ agentId: 'conc-agent', capacity: 1000 }));
});
after(() => t.close());

function runWorker(worker: number): Promise<Outcome[]> {
  const script = fileURLToPath(new URL('./allocation-worker.ts', import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      env: {
        ...process.env,
        DYNAMODB_ENDPOINT: t.endpoint,
        TABLE_NAME: t.tableName,
        WORKER: String(worker),
        COUNT: String(PER_WORKER),
        TENANT: 'conc',
        AGENT: 'conc-agent',
        NODE_NO_WARNINGS: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`worker ${worker} exited ${code}: ${err}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()!) as Outcome[]);
      } catch (error) {
        reject(new Error(`worker ${worker} printed no result: ${out} ${err}`, { cause: error }));
      }
    });
  });
}

test('4 processes x 50 concurrent allocations: no duplicates, exhaustion is clean, stop frees all', async () => {
  assert.equal(USABLE.length, 150);
  const outcomes = (await Promise.all(Array.from({ length: WORKERS }, (_, w) => runWorker(w)))).flat();
  const errors = outcomes.filter((o) => o.kind === 'error');
  assert.deepEqual(errors, [], 'no unexpected errors');
  const created = outcomes.filter((o): o is Extract<Outcome, { kind: 'created' }> => o.kind === 'created');
  const exhausted = outcomes.filter((o): o is Extract<Outcome, { kind: 'exhausted' }> => o.kind === 'exhausted');
  assert.equal(created.length, 150);
  assert.equal(exhausted.length, 50);
  assert.ok(created.every((c) => c.created));
  for (const e of exhausted) {
    assert.equal(e.tenantId, 'conc');
    assert.equal(e.message, 'no free address for tenant conc');
    assert.deepEqual(e.poolIds, ['main']);
  }
  const ips = created.map((c) => c.ip);
  assert.equal(new Set(ips).size, ips.length, 'no address handed out twice');
  assert.deepEqual([...ips].sort(), [...USABLE].sort(), 'only usable addresses, all of them');

  // The lease items agree: one per address, each held by the session that got it.
  const leases = await t.store.listLeases('conc', 'main');
  assert.equal(leases.length, 150);
  const bySession = new Map(created.map((c) => [c.sessionId, c.ip]));
  for (const lease of leases) assert.equal(bySession.get(lease.sessionId), lease.ip);
  const active = await t.store.listSessions({ agentId: 'conc-agent', state: 'active' }, { limit: 1000 });
  assert.equal(active.items.length, 150);

  // Stop everything (concurrently): every address is free, no session of the agent is active.
  await Promise.all(created.map((c) => t.store.stopSession(c.sessionId, { reason: 'user-request', at: Date.now() })));
  assert.deepEqual(await t.store.listLeases('conc', 'main'), []);
  assert.equal((await t.store.listSessions({ agentId: 'conc-agent', state: 'active' }, { limit: 1000 })).items.length, 0);

  // And really reusable: 150 new concurrent allocations all succeed, again without duplicates.
  const tenantRecord = (await t.store.getTenant('conc'))!;
  const again = await Promise.all(
    USABLE.map((_, i) =>
      startSessionWithAddress(t.store, systemClock, {
        tenant: tenantRecord,
        user: user({ tenantId: 'conc', username: `again-${i}` }),
        pools: parsePools([POOL]),
        agentId: 'conc-agent',
        agentSessionRef: `again-${i}`,
        tunnelId: 9,
        l2tpSessionId: i + 1,
        authMethod: 'pap',
      }),
    ),
  );
  assert.equal(new Set(again.map((r) => r.session.assignedIp)).size, 150);
});

test('concurrent retries of one start create exactly one session', async () => {
  await t.store.createTenant(tenant({ tenantId: 'conc-idem' }));
  const p = pool({ tenantId: 'conc-idem' });
  await t.store.createPool(p);
  const input = {
    tenant: (await t.store.getTenant('conc-idem'))!,
    user: user({ tenantId: 'conc-idem' }),
    pools: parsePools([p]),
    agentId: 'conc-agent',
    agentSessionRef: 'same-ref',
    tunnelId: 1,
    l2tpSessionId: 1,
    authMethod: 'mschapv2' as const,
  };
  const results = await Promise.all(Array.from({ length: 10 }, () => startSessionWithAddress(t.store, systemClock, input)));
  assert.equal(results.filter((r) => r.created).length, 1);
  assert.equal(new Set(results.map((r) => r.session.sessionId)).size, 1);
  assert.equal((await t.store.listLeases('conc-idem', 'main')).length, 1);
});
