/**
 * Issue 19, done means: `curl localhost:<port>/metrics` on a running agent shows its metrics, and
 * the broker's in the local stack. `npm start` runs the real broker and the built-in agent; the
 * simulator brings up sessions (and one with a wrong password); curl reads both endpoints and the
 * numbers must match what happened. Root only (the agent's TUN device).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { openTunnels } from '../../simulator';
import { fixturePassword } from '../../support/fixture-password';
import { connectSessions, FAST, freshNames, removeDataDir, seedTenant, startStackProcess, TENANT, type StackNames, type StackProcess } from '../local-stack/stack-process';

const skip = process.getuid?.() !== 0 ? 'needs root (the built-in agent opens a TUN device)' : undefined;

/** GET with curl, as an operator would. */
const curl = (url: string) => execFileSync('curl', ['-sS', '--max-time', '5', url], { encoding: 'utf8' });

/** The value of one sample, by name and exact label set (`{}` = none); undefined when absent. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[3] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (JSON.stringify(Object.entries(found).sort()) === JSON.stringify(Object.entries(labels).sort())) return Number(match[4]);
  }
  return undefined;
}

async function until<T>(probe: () => T | undefined, what: string, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('metrics of a running agent and broker (local stack)', { skip: skip ? `skipped: ${skip}` : false }, () => {
  let names: StackNames;
  let stack: StackProcess;
  before(async () => {
    names = await freshNames();
    stack = await startStackProcess({ names, env: FAST });
    await stack.waitForOutput(/Edge agent\s+agent-\S+ registered/);
    await seedTenant(stack, '10.93.0.0/24');
  });
  after(async () => {
    await stack?.stop();
    if (names) removeDataDir(names);
  });

  test('curl reads sessions, setups, failures, auth latency and broker health back from the agent; requests, verdicts and starts from the broker', async () => {
    const agentUrl = `http://127.0.0.1:${names.metricsPort}/metrics`;
    const before = curl(agentUrl);
    assert.equal(sample(before, 'edge_agent_sessions', { state: 'up' }), 0, before);
    assert.equal(sample(before, 'edge_agent_broker_up'), 1, 'registered and heartbeating');

    const server = { address: '127.0.0.1', port: names.l2tpPort };
    const run = await connectSessions(server, 3);
    const wrong = await openTunnels({
      server,
      tunnels: 1,
      sessionsPerTunnel: 1,
      credentials: () => ({ username: `alice@${TENANT}`, password: `${fixturePassword('alice')}-wrong`, method: 'mschapv2' }),
      timeouts: { setupMs: 20_000, closeMs: 2_000, echoIntervalMs: 0 },
    });
    try {
      assert.equal(run.up().length, 3, JSON.stringify(run.results()));
      assert.equal(wrong.up().length, 0);
      const during = await until(() => {
        const text = curl(agentUrl);
        return sample(text, 'edge_agent_session_setup_failures_total', { reason: 'auth-failure' }) === 1 ? text : undefined;
      }, 'the refused session counted');
      assert.equal(sample(during, 'edge_agent_sessions', { state: 'up' }), 3);
      assert.equal(sample(during, 'edge_agent_sessions_established_total'), 3);
      // Two tunnels: the three sessions' and the refused one's (its control connection outlives the call).
      assert.equal(sample(during, 'edge_agent_tunnels', { state: 'established' }), 2);
      assert.equal(sample(during, 'edge_agent_broker_auth_duration_seconds_count', { outcome: 'accepted' }), 3);
      assert.equal(sample(during, 'edge_agent_broker_auth_duration_seconds_count', { outcome: 'refused' }), 1);
      assert.ok((sample(during, 'edge_agent_broker_auth_duration_seconds_sum', { outcome: 'accepted' }) ?? 0) > 0, 'a latency was measured');
      assert.ok((sample(during, 'edge_agent_broker_heartbeats_total', { outcome: 'ok' }) ?? 0) >= 1);
      assert.equal(sample(during, 'edge_agent_broker_outbox_reports'), 0);
      assert.notEqual(sample(during, 'edge_agent_client_bytes_total', { direction: 'in' }), undefined);
      assert.notEqual(sample(during, 'edge_agent_data_drops_total', { reason: 'spoofed-source' }), undefined);

      const broker = curl(`${stack.url}/metrics`);
      assert.equal(sample(broker, 'broker_sessions_started_total'), 3, broker);
      assert.equal(sample(broker, 'broker_auth_results_total', { outcome: 'accepted' }), 3);
      assert.equal(sample(broker, 'broker_auth_results_total', { outcome: 'bad-credentials' }), 1);
      assert.equal(sample(broker, 'broker_http_requests_total', { method: 'POST', route: '/v1/agent/authenticate', status: '200' }), 4);
      assert.equal(sample(broker, 'broker_http_requests_total', { method: 'POST', route: '/v1/tenants/:tenantId/users', status: '201' }), 1, 'the route template, not the path');
      assert.ok((sample(broker, 'broker_http_request_duration_seconds_count', { method: 'POST', route: '/v1/agent/heartbeat' }) ?? 0) >= 1);
      assert.ok(!/alice|acme|10\.93\./.test(broker) && !/alice|acme|10\.93\./.test(during), 'no user, tenant or address in any label');
    } finally {
      await wrong.close();
      await run.close();
    }
    const ended = await until(() => {
      const text = curl(agentUrl);
      return sample(text, 'edge_agent_sessions_ended_total', { reason: 'user-request' }) === 3 ? text : undefined;
    }, 'the hung-up sessions counted as ended');
    assert.equal(sample(ended, 'edge_agent_sessions', { state: 'up' }), 0);
    const broker = await until(() => {
      const text = curl(`${stack.url}/metrics`);
      return sample(text, 'broker_session_stop_reports_total', { reason: 'user-request' }) === 3 ? text : undefined;
    }, 'the broker recorded the three stops');
    assert.ok(broker.includes('# TYPE broker_http_requests_total counter'));
  });
});
