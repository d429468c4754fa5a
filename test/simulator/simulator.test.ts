/**
 * The simulator against a minimal in-process LNS (the agent's own engines) over loopback UDP: no root, no broker.
 * Pins what the e2e tests and benchmarks rely on: setup results, ping RTTs, shared source port, server-side
 * teardown seen as link-down, orderly disconnect, auth failure and an unreachable server.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { openTunnels } from './index';
import { startMiniLns, type MiniLns } from '../support/simulator/mini-lns';
import type { AuthMethod } from '../../functions/src/domain/types';

const METHODS: AuthMethod[] = ['pap', 'chap-md5', 'mschapv2'];
const CLI = fileURLToPath(new URL('./cli.ts', import.meta.url));

/** Runs the CLI; resolves with its exit code and output (execFile rejects on non-zero, which is data here). */
async function runCli(args: string[]): Promise<{ code: number; stdout: string }> {
  try {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', CLI, ...args], { timeout: 60_000 });
    return { code: 0, stdout };
  } catch (error) {
    const e = error as { code?: number; stdout?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '' };
  }
}

describe('simulator against a loopback LNS', () => {
  let lns: MiniLns;
  before(async () => {
    lns = await startMiniLns();
  });
  after(async () => {
    await lns.close();
  });

  test('2 tunnels x 3 sessions with every auth method come up, ping the gateway and hang up cleanly', async () => {
    const run = await openTunnels({
      server: { address: '127.0.0.1', port: lns.port },
      tunnels: 2,
      sessionsPerTunnel: 3,
      localAddress: '127.0.0.1',
      credentials: (i) => ({ username: `user${i}`, password: `pw-user${i}`, method: METHODS[i % 3] as AuthMethod }),
    });
    try {
      const results = run.results();
      assert.deepEqual(results.map((r) => [r.index, r.ok, r.reason]), [0, 1, 2, 3, 4, 5].map((i) => [i, true, undefined]));
      assert.equal(new Set(results.map((r) => r.address)).size, 6, 'distinct addresses');
      for (const r of results) {
        assert.match(r.address ?? '', /^10\.99\.0\.\d+$/);
        assert.equal(r.gateway, '10.99.0.1');
        assert.deepEqual(r.dns, ['192.0.2.53']);
        assert.ok((r.setupMs ?? -1) > 0);
      }
      assert.notEqual(results[0]?.peerTunnelId, results[3]?.peerTunnelId, 'two tunnels');
      assert.equal(results[0]?.peerTunnelId, results[2]?.peerTunnelId, 'sessions 0-2 share tunnel 0');
      const pings = await Promise.all(run.sessions.map((s) => s.ping('10.99.0.1', { count: 3, intervalMs: 20 })));
      for (const p of pings) {
        assert.equal(p.sent, 3);
        assert.equal(p.received, 3);
        assert.ok(p.rttMs.every((rtt) => rtt >= 0 && rtt < 2000));
      }
      assert.equal(run.sessions[0]?.counters.packetsIn, 3);
      const down = await run.sessions[0]!.disconnect();
      assert.equal(down.by, 'local');
      assert.equal(down.reason, 'user-request');
    } finally {
      await run.close();
    }
    assert.ok(run.tunnels.every((t) => t.phase === 'closed'), 'StopCCN acknowledged');
  });

  test('tunnels sharing one source port are told apart by tunnel id', async () => {
    const run = await openTunnels({
      server: { address: '127.0.0.1', port: lns.port },
      tunnels: 3,
      sessionsPerTunnel: 1,
      localAddress: '127.0.0.1',
      localPort: 0,
      credentials: () => ({ username: 'nat', password: 'pw-nat', method: 'mschapv2' }),
    });
    try {
      const results = run.results();
      assert.ok(results.every((r) => r.ok), JSON.stringify(results));
      assert.deepEqual(results.map((r) => r.localTunnelId), [1, 2, 3]);
      assert.equal(new Set(results.map((r) => r.peerTunnelId)).size, 3);
      const pings = await Promise.all(run.sessions.map((s) => s.ping('10.99.0.1', { count: 2, intervalMs: 10 })));
      assert.deepEqual(pings.map((p) => p.received), [2, 2, 2]);
    } finally {
      await run.close();
    }
  });

  test('on the batched native socket (root): sessions come up, ping and hang up as on node:dgram', { skip: process.getuid?.() !== 0 ? 'the batched socket sets SO_MARK: needs root' : false }, async () => {
    const run = await openTunnels({
      server: { address: '127.0.0.1', port: lns.port },
      tunnels: 2,
      sessionsPerTunnel: 2,
      localAddress: '127.0.0.1',
      shareSocket: true,
      batchedSocket: true,
      credentials: (i) => ({ username: `b${i}`, password: `pw-b${i}`, method: 'mschapv2' }),
    });
    try {
      const results = run.results();
      assert.ok(results.every((r) => r.ok), JSON.stringify(results));
      const pings = await Promise.all(run.sessions.map((s) => s.ping('10.99.0.1', { count: 3, intervalMs: 5 })));
      assert.deepEqual(pings.map((p) => p.received), [3, 3, 3, 3]);
    } finally {
      await run.close();
    }
  });

  test('a server-side close is seen as link-down with the CDN result; the other session keeps working', async () => {
    const run = await openTunnels({
      server: { address: '127.0.0.1', port: lns.port },
      tunnels: 1,
      sessionsPerTunnel: 2,
      localAddress: '127.0.0.1',
      credentials: (i) => ({ username: `del${i}`, password: `pw-del${i}`, method: 'chap-md5' }),
    });
    try {
      const [victim, other] = run.sessions;
      assert.ok(victim && other && victim.address);
      assert.ok(lns.terminate(victim.address));
      const info = await victim.waitForLinkDown(5000);
      assert.equal(info.by, 'peer');
      assert.equal(info.reason, 'user-request');
      assert.equal(info.cdn?.resultCode, 3);
      assert.equal(victim.phase, 'down');
      assert.equal((await other.ping('10.99.0.1')).received, 1);
      await assert.rejects(other.waitForLinkDown(50), /still up/);
    } finally {
      await run.close();
    }
  });

  test('the CLI prints a table and a summary line, and exits 1 when a session failed', async () => {
    const server = `127.0.0.1:${lns.port}`;
    const good = await runCli(['--server', server, '--tunnels', '2', '--sessions', '2', '--user', 'cli{i}', '--method', 'pap', '--ping', '10.99.0.1', '--count', '2']);
    assert.equal(good.code, 0, good.stdout);
    const lines = good.stdout.trim().split('\n');
    assert.equal(lines.length, 1 + 4 + 1, good.stdout);
    assert.match(lines[1] ?? '', /^0\s+\S+\s+cli0\s+pap\s+up\s+10\.99\.0\.\d+\s+192\.0\.2\.53\s+[\d.]+\s+2\/2/);
    const summary = JSON.parse(lines.at(-1) ?? '');
    assert.equal(summary.ok, 4);
    assert.equal(summary.ping.received, 8);
    const bad = await runCli(['--server', server, '--user', 'cli', '--password', 'nope', '--method', 'chap-md5', '--json']);
    assert.equal(bad.code, 1);
    assert.deepEqual(JSON.parse(bad.stdout.trim()).failures, { 'auth-failure': 1 });
  });

  test('a wrong password fails the session with auth-failure', async () => {
    const run = await openTunnels({
      server: { address: '127.0.0.1', port: lns.port },
      tunnels: 1,
      sessionsPerTunnel: 2,
      localAddress: '127.0.0.1',
      credentials: (i) => ({ username: `bad${i}`, password: i === 0 ? 'wrong' : `pw-bad${i}`, method: (['pap', 'mschapv2'] as const)[i] as AuthMethod }),
    });
    try {
      const [bad, good] = run.results();
      assert.equal(bad?.ok, false);
      assert.equal(bad?.reason, 'auth-failure');
      assert.equal(good?.ok, true);
    } finally {
      await run.close();
    }
  });
});

test('an unreachable server fails every session with timeout', async () => {
  const run = await openTunnels({
    server: { address: '127.0.0.1', port: 9 },
    tunnels: 1,
    sessionsPerTunnel: 2,
    localAddress: '127.0.0.1',
    credentials: () => ({ username: 'x', password: 'pw-x', method: 'pap' }),
    timeouts: { setupMs: 300, closeMs: 200 },
  });
  await run.close();
  assert.deepEqual(run.results().map((r) => [r.ok, r.reason]), [[false, 'timeout'], [false, 'timeout']]);
});
