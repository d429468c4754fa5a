/**
 * `npx tsx test/simulator/cli.ts --server 127.0.0.1:1701 --tunnels 2 --sessions 3 --user alice@acme --password pw
 *  --method mschapv2 --ping 10.8.0.1`: opens the tunnels and sessions, optionally pings, prints a per-session table
 * and one summary JSON line, hangs up, and exits non-zero when any session failed (or lost every ping).
 */
import { parseArgs } from 'node:util';
import { AUTH_METHODS, type AuthMethod } from '../../functions/src/domain/types';
import { openTunnels } from './open-tunnels';
import type { PingResult, SessionResult } from './types';

const HELP = `Usage: tsx test/simulator/cli.ts --server HOST:PORT [options]
  --tunnels N          L2TP tunnels (default 1)
  --sessions M         PPP sessions per tunnel (default 1)
  --user NAME          user name; "{i}" is replaced by the session index (default alice)
  --password PW        password; "{i}" replaced too (default pw-<user>)
  --method M           pap | chap-md5 | mschapv2 (default mschapv2)
  --ping ADDR          ping this address from every session that came up
  --count N            pings per session (default 3)
  --local-address A    source address to bind (default 0.0.0.0)
  --local-port P       share one source port for all tunnels (clients behind one NAT)
  --hold SECONDS       stay connected this long before hanging up (default 0)
  --timeout MS         setup timeout per session (default 30000)
  --concurrency N      tunnels setting up at once (default all)
  --secret S           L2TP tunnel secret
  --json               print only the summary JSON line`;

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      server: { type: 'string' },
      tunnels: { type: 'string', default: '1' },
      sessions: { type: 'string', default: '1' },
      user: { type: 'string', default: 'alice' },
      password: { type: 'string' },
      method: { type: 'string', default: 'mschapv2' },
      ping: { type: 'string' },
      count: { type: 'string', default: '3' },
      'local-address': { type: 'string' },
      'local-port': { type: 'string' },
      hold: { type: 'string', default: '0' },
      timeout: { type: 'string', default: '30000' },
      concurrency: { type: 'string' },
      secret: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help || !values.server) {
    process.stdout.write(`${HELP}\n`);
    return values.help ? 0 : 2;
  }
  const server = /^(.+):(\d+)$/.exec(values.server);
  const method = values.method as AuthMethod;
  if (!server || !(AUTH_METHODS as readonly string[]).includes(method)) {
    process.stderr.write(`bad --server or --method\n${HELP}\n`);
    return 2;
  }
  const fill = (template: string, i: number) => template.replaceAll('{i}', String(i));
  const started = Date.now();
  const run = await openTunnels({
    server: { address: server[1] as string, port: Number(server[2]) },
    tunnels: positive(values.tunnels, 'tunnels'),
    sessionsPerTunnel: positive(values.sessions, 'sessions'),
    credentials: (i) => {
      const username = fill(values.user, i);
      return { username, password: values.password === undefined ? `pw-${username}` : fill(values.password, i), method };
    },
    ...(values['local-address'] ? { localAddress: values['local-address'] } : {}),
    ...(values['local-port'] ? { localPort: Number(values['local-port']) } : {}),
    ...(values.concurrency ? { concurrency: positive(values.concurrency, 'concurrency') } : {}),
    ...(values.secret ? { tunnelSecret: values.secret } : {}),
    timeouts: { setupMs: positive(values.timeout, 'timeout') },
  });
  const setupWallMs = Date.now() - started;
  const pings = new Map<number, PingResult>();
  if (values.ping) {
    const target = values.ping;
    const count = positive(values.count, 'count');
    await Promise.all(run.up().map(async (s) => pings.set(s.index, await s.ping(target, { count, intervalMs: 200 }))));
  }
  if (Number(values.hold) > 0) await new Promise((resolve) => setTimeout(resolve, Number(values.hold) * 1000));
  const results = run.results();
  await run.close();

  if (!values.json) process.stdout.write(table(results, pings));
  const ok = results.filter((r) => r.ok);
  const setup = ok.map((r) => r.setupMs ?? 0).sort((a, b) => a - b);
  const rtts = [...pings.values()].flatMap((p) => p.rttMs).sort((a, b) => a - b);
  const pingFailures = [...pings.values()].filter((p) => p.received === 0).length;
  const summary = {
    sessions: results.length,
    ok: ok.length,
    failed: results.length - ok.length,
    failures: countBy(results.filter((r) => !r.ok).map((r) => r.reason ?? 'unknown')),
    setupWallMs,
    setupMs: { p50: pct(setup, 0.5), p95: pct(setup, 0.95), max: setup.at(-1) ?? null },
    ...(values.ping
      ? {
          ping: {
            sent: [...pings.values()].reduce((n, p) => n + p.sent, 0),
            received: [...pings.values()].reduce((n, p) => n + p.received, 0),
            rttMs: { p50: pct(rtts, 0.5), p95: pct(rtts, 0.95), max: rtts.at(-1) ?? null },
            sessionsWithoutReply: pingFailures,
          },
        }
      : {}),
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  return ok.length === results.length && pingFailures === 0 ? 0 : 1;
}

function table(results: readonly SessionResult[], pings: ReadonlyMap<number, PingResult>): string {
  const rows = [['#', 'tunnel', 'user', 'method', 'status', 'address', 'dns', 'setup ms', 'ping']];
  for (const r of results) {
    const p = pings.get(r.index);
    rows.push([
      String(r.index),
      `${r.localTunnelId}/${r.peerTunnelId}`,
      r.username,
      r.method,
      r.ok ? 'up' : `FAILED ${r.reason ?? ''}`,
      r.address ?? '-',
      r.dns?.join(',') || '-',
      r.setupMs === undefined ? '-' : r.setupMs.toFixed(1),
      p ? `${p.received}/${p.sent}${p.rttMs.length ? ` ${(p.rttMs.reduce((a, b) => a + b, 0) / p.rttMs.length).toFixed(2)}ms` : ''}` : '-',
    ]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => (row[c] ?? '').length)));
  return `${rows.map((row) => row.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join('  ').trimEnd()).join('\n')}\n`;
}

function positive(text: string, name: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
  return n;
}

function pct(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return Number((sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number).toFixed(2));
}

function countBy(items: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) out[item] = (out[item] ?? 0) + 1;
  return out;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  },
);
