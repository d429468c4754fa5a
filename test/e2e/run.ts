/**
 * `npm run test:e2e`: real L2TP/IPsec clients (strongSwan, xl2tpd, pppd) against the project's
 * agent, all inside one User-Mode Linux guest, with the broker and DynamoDB Local on the host
 * reached over a per-run TAP device. See docs/e2e.md.
 *
 *   tsx test/e2e/run.ts [--ipsec=agent|harness|off] [--only=name,name] [--keep]
 *
 * Exit code 0 only when no scenario failed (1: a scenario failed, 2: setup failed, 130: interrupted).
 * Every TAP device, guest and process made here is removed in `finally`, and on SIGINT/SIGTERM;
 * the run directory (logs) is kept on failure or with --keep.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLiveBroker, type LiveBroker } from '../support/live-broker';
import { E2eError } from './lib/errors';
import { bootGuest, type Guest } from './lib/guest';
import { ensurePackages, findUmlKernel, umlUnsupportedReason } from './lib/host-prereqs';
import { formatResult, runScenarios, type ScenarioResult } from './lib/runner';
import { startServer, stopAgent, type IpsecMode } from './lib/server';
import { createTap, type HostTap } from './lib/tap';
import { POOL_CIDR, POOL_GATEWAY, type GuestNamespace } from './lib/topology';
import { connectScenarios, failureScenarios, natScenarios, type E2eContext } from './scenarios';

interface Options {
  readonly ipsec: IpsecMode;
  readonly only: readonly string[];
  readonly keep: boolean;
}

const USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'];
const ALL = [...connectScenarios, ...failureScenarios, ...natScenarios];
/** Whole-run budget (CI: < 10 min): scenarios not started by then are reported SKIP. */
const RUN_BUDGET_MS = 9 * 60_000;
/** Upper bound for one scenario, retry included. */
const SCENARIO_TIMEOUT_MS = 100_000;
const NAMESPACES: GuestNamespace[] = ['server', 'c1', 'c2', 'c3', 'nat', 'n1', 'n2'];

function parseOptions(argv: readonly string[]): Options {
  let ipsec: IpsecMode = 'agent';
  let only: string[] = [];
  let keep = false;
  for (const arg of argv) {
    const [key, value = ''] = arg.split('=', 2);
    if (key === '--ipsec' && (value === 'harness' || value === 'agent' || value === 'off')) ipsec = value;
    else if (key === '--only') only = value.split(',').filter(Boolean);
    else if (key === '--keep') keep = true;
    else throw new E2eError(`unknown argument ${arg}; usage: run.ts [--ipsec=agent|harness|off] [--only=a,b] [--keep]`);
  }
  const unknown = only.filter((name) => !ALL.some((s) => s.name === name));
  if (unknown.length > 0) throw new E2eError(`unknown scenario(s) ${unknown.join(', ')}; known: ${ALL.map((s) => s.name).join(', ')}`);
  return { ipsec, only, keep };
}

const say = (line: string) => process.stdout.write(`${line}\n`);
const since = (t: number) => `${((Date.now() - t) / 1000).toFixed(1)}s`;

async function collectLogs(guest: Guest, runDir: string): Promise<void> {
  for (const ns of NAMESPACES) {
    mkdirSync(join(runDir, 'logs', ns), { recursive: true });
    await guest.sh(ns, `cp /run/log/* /mnt/e2e/logs/${ns}/ 2>/dev/null; ip -s xfrm state > /mnt/e2e/logs/${ns}/xfrm-state.txt 2>&1; true`).catch(() => undefined);
  }
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  const t0 = Date.now();
  ensurePackages(say);
  const kernel = findUmlKernel();
  const runDir = mkdtempSync(join(tmpdir(), 'tb-e2e-'));
  const unsupported = umlUnsupportedReason(kernel, runDir);
  if (unsupported) {
    // A host limit, not a product failure: said loudly, and an error where the run is required.
    say(`e2e: SKIPPED: this host cannot run real clients in User-Mode Linux ${kernel.version}: ${unsupported}`);
    say('e2e: see docs/e2e.md, "Hosts that cannot run it"; set E2E_REQUIRED=1 to make this an error');
    return process.env.E2E_REQUIRED === '1' ? 1 : 0;
  }
  let tap: HostTap | undefined;
  let broker: LiveBroker | undefined;
  let guest: Guest | undefined;
  let results: ScenarioResult[] = [];
  let failed = true;
  let cleaning: Promise<void> | undefined;
  const cleanup = () =>
    (cleaning ??= (async () => {
      if (guest) {
        await stopAgent(guest).catch(() => undefined);
        await collectLogs(guest, runDir);
        await guest.shutdown();
      }
      await broker?.close().catch(() => undefined);
      tap?.remove();
    })());
  // Ctrl-C / CI cancel: the guest runs in its own process group and would outlive us.
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (++signals > 1) {
      guest?.kill();
      tap?.remove();
      process.exit(130);
    }
    say(`\ne2e: ${signal}: interrupted, cleaning up (send again to force)`);
    void cleanup().finally(() => {
      say(`e2e: interrupted after ${since(t0)}; logs: ${runDir}/logs`);
      process.exit(130);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    tap = createTap();
    say(`e2e: run dir ${runDir}, TAP ${tap.name} ${tap.hostAddress} <-> guest ${tap.guestCidr}, IPsec owned by: ${options.ipsec}`);
    const brokerStarting = startLiveBroker({ host: tap.hostAddress });
    const guestBooting = bootGuest({ kernel, runDir, tap });
    [broker, guest] = await Promise.all([brokerStarting, guestBooting]);
    say(`e2e: broker ${broker.url}, guest up in ${(guest.bootMs / 1000).toFixed(1)}s (UML ${kernel.version})`);

    const tenantId = 'acme';
    const psk = `psk-${Math.random().toString(36).slice(2, 12)}`;
    await broker.seedTenant(tenantId, { cidr: POOL_CIDR, gateway: POOL_GATEWAY, users: USERS, authMethods: ['mschapv2', 'chap-md5', 'pap'] });
    // The only place the PSK goes: the broker. In agent mode the agent fetches it and loads it into charon.
    const ipsecReply = await broker.admin('PUT', '/v1/ipsec', { psk });
    if (ipsecReply.status !== 200) throw new E2eError(`PUT /v1/ipsec: ${ipsecReply.status} ${JSON.stringify(ipsecReply.body)}`);
    const agent = await broker.enrolAgent('e2e-uml');
    const launch = { brokerUrl: broker.url, agentId: agent.agentId, agentToken: agent.token, ipsec: options.ipsec, psk };
    const server = await startServer(guest, launch);
    say(`e2e: agent listening in ${(server.agentReadyMs / 1000).toFixed(1)}s; running scenarios`);

    const ctx: E2eContext = { guest, broker, tenantId, psk, ipsec: options.ipsec };
    const selected = options.only.length > 0 ? ALL.filter((s) => options.only.includes(s.name)) : ALL;
    const budget = { deadline: t0 + RUN_BUDGET_MS, perScenarioTimeoutMs: SCENARIO_TIMEOUT_MS, retries: 1, stopped: () => signals > 0 };
    // Plain-L2TP scenarios need the agent with ALLOW_PLAIN_L2TP=true: they run last, after a restart.
    const needRestart = options.ipsec !== 'off' && options.ipsec !== 'harness';
    const first = needRestart ? selected.filter((s) => !s.plainAgent) : selected;
    const last = needRestart ? selected.filter((s) => s.plainAgent) : [];
    results = await runScenarios(first, ctx, say, budget);
    if (last.length > 0 && signals === 0) {
      await stopAgent(guest);
      const plain = await startServer(guest, { ...launch, ipsec: 'off' });
      say(`e2e: agent restarted with IPSEC=off ALLOW_PLAIN_L2TP=true in ${(plain.agentReadyMs / 1000).toFixed(1)}s`);
      results = [...results, ...(await runScenarios(last, { ...ctx, ipsec: 'off' }, say, budget))];
    }
    failed = results.some((r) => r.outcome === 'FAIL');
  } catch (error) {
    say(`e2e: setup failed: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    await cleanup();
  }
  const counts = (o: string) => results.filter((r) => r.outcome === o).length;
  say(`\n=== e2e report (IPsec: ${options.ipsec}) ===`);
  for (const result of results) say(formatResult(result));
  const retried = results.filter((r) => r.retried).length;
  say(`${counts('PASS')} passed${retried > 0 ? ` (${retried} after a retry)` : ''}, ${counts('FAIL')} failed, ${counts('SKIP')} skipped in ${since(t0)}`);
  if (failed || options.keep) say(`logs: ${runDir}/logs (per namespace: charon.log, xl2tpd.log, pppd.log, agent.log)`);
  else rmSync(runDir, { recursive: true, force: true });
  return results.length === 0 ? 2 : failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`e2e: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  },
);
