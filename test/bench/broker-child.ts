/**
 * The broker under test in a process of its own: the production app over HTTP on DynamoDB Local
 * (test/support/live-broker), driven over IPC by the benchmark (seed tenants, enrol agents, read
 * the sessions it recorded). Reads DYNAMODB_ENDPOINT like every test store.
 */
import { startLiveBroker } from '../support/live-broker';
import { serveRpc } from './child-rpc';

// The disconnect figure runs a broker of its own with the production heartbeat (30 s): BENCH_HEARTBEAT_SECONDS.
const broker = await startLiveBroker({ env: { HEARTBEAT_INTERVAL_SECONDS: process.env.BENCH_HEARTBEAT_SECONDS ?? '5' } });

/** DynamoDB requests the broker sent, by operation: where its store work goes in each phase. */
const storeCalls: Record<string, number> = {};
broker.testStore.client.middlewareStack.add(
  (next, context) => (args) => {
    const op = (context.commandName ?? '?').replace(/Command$/, '');
    const input = args.input as { TransactItems?: unknown[]; RequestItems?: Record<string, { Keys?: unknown[] }> };
    // Items as well as requests: DynamoDB Local's cost is per item (its one SQLite thread).
    const items = input.TransactItems?.length ?? Object.values(input.RequestItems ?? {}).reduce((n, r) => n + (r.Keys?.length ?? 0), 0);
    storeCalls[op] = (storeCalls[op] ?? 0) + 1;
    if (items > 0) storeCalls[`${op} items`] = (storeCalls[`${op} items`] ?? 0) + items;
    return next(args);
  },
  { step: 'initialize', name: 'benchStoreCallCounter' },
);

serveRpc(
  {
    info: () => ({ url: broker.url, adminToken: broker.adminToken, tableName: broker.testStore.tableName, endpoint: broker.testStore.endpoint }),
    seed: async (a) => {
      await broker.seedTenant(String(a.tenantId), { cidr: String(a.cidr), users: a.users as string[], authMethods: ['mschapv2', 'chap-md5', 'pap'] });
      return true;
    },
    enrol: (a) => broker.enrolAgent(String(a.name ?? 'bench-agent')),
    /** An operator call with the admin token (e.g. PUT /v1/tenants/{id}/auth). */
    admin: (a) => broker.admin(String(a.method), String(a.path), a.body),
    /** Active sessions of a tenant: count and how many addresses are held by more than one. */
    activeSessions: async (a) => {
      const seen = new Map<string, number>();
      let cursor: string | undefined;
      let count = 0;
      do {
        const page = await broker.testStore.store.listSessions({ tenantId: String(a.tenantId), state: 'active' }, { limit: 1000, ...(cursor ? { cursor } : {}) });
        for (const s of page.items) {
          count++;
          seen.set(s.assignedIp, (seen.get(s.assignedIp) ?? 0) + 1);
        }
        cursor = page.cursor;
      } while (cursor);
      const duplicates = [...seen.values()].filter((n) => n > 1).reduce((sum, n) => sum + n - 1, 0);
      return { count, duplicates };
    },
    /** Active sessions of a tenant: id and address (the disconnect figure DELETEs them). */
    activeSessionIds: async (a) => {
      const out: { sessionId: string; assignedIp: string }[] = [];
      let cursor: string | undefined;
      do {
        const page = await broker.testStore.store.listSessions({ tenantId: String(a.tenantId), state: 'active' }, { limit: 1000, ...(cursor ? { cursor } : {}) });
        for (const s of page.items) out.push({ sessionId: s.sessionId, assignedIp: s.assignedIp });
        cursor = page.cursor;
      } while (cursor);
      return out;
    },
    memory: () => process.memoryUsage(),
    storeCalls: () => ({ ...storeCalls }),
  },
  () => broker.close(),
);
