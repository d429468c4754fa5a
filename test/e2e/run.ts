/**
 * `npm run test:e2e`: real L2TP/IPsec clients (strongSwan, xl2tpd, pppd) against the project's
 * agents, all inside one guest kernel (User-Mode Linux where it boots, else QEMU: lib/backend.ts),
 * with the broker and DynamoDB Local on the host reached over a per-run TAP device. See docs/e2e.md.
 *
 *   tsx test/e2e/run.ts [--ipsec=agent|harness|off] [--only=name,name] [--keep]
 *   env: E2E_BACKEND=auto|uml|qemu  E2E_QEMU_ACCEL=auto|kvm|tcg  E2E_TIME_SCALE=<n>  E2E_REQUIRED=1
 *
 * Exit code 0 only when no scenario failed (1: a scenario failed, or with E2E_REQUIRED=1 was
 * skipped; 2: setup failed; 130: interrupted).
 * Every TAP device, guest and process made here is removed in `finally`, and on SIGINT/SIGTERM;
 * the run directory (logs) is kept on failure or with --keep.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLiveBroker, type LiveBroker } from '../support/live-broker';
import { describeBackend, kvmUsable, parseBackendChoice, resolveAccel, timeScaleOf, type GuestBackend } from './lib/backend';
import { createCloudAgent, type CloudAgent } from './lib/cloud-agent';
import { E2eError } from './lib/errors';
import { bootGuest, type Guest } from './lib/guest';
import { BACKEND_PACKAGES, ensurePackages, findUmlKernel, umlUnsupportedReason } from './lib/host-prereqs';
import { ensureQemuKernel } from './lib/qemu-kernel';
import { qemuUnsupportedReason } from './lib/qemu-probe';
import { formatResult, runScenarios, type ScenarioResult } from './lib/runner';
import { startServer, stopAgent, type IpsecMode } from './lib/server';
import { createTap, type HostTap } from './lib/tap';
import { POOL_CIDR, POOL_GATEWAY, type GuestNamespace } from './lib/topology';
import { cloudNatScenarios, connectScenarios, failureScenarios, nat1701Scenarios, natScenarios, radiusScenarios, tcpDownloadScenarios, tcpUploadScenarios, type E2eContext } from './scenarios';

interface Options {
  readonly ipsec: IpsecMode;
  readonly only: readonly string[];
  readonly keep: boolean;
}

const USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'gina'];
const ALL = [...connectScenarios, ...tcpDownloadScenarios, ...tcpUploadScenarios, ...failureScenarios, ...radiusScenarios, ...natScenarios, ...nat1701Scenarios, ...cloudNatScenarios];
/** Whole-run budget at time scale 1 (UML; QEMU with KVM): scenarios not started by then are reported SKIP. */
const RUN_BUDGET_MS = 15 * 60_000;
/** Upper bound for one scenario attempt at time scale 1. */
const SCENARIO_TIMEOUT_MS = 100_000;
const NAMESPACES: GuestNamespace[] = ['server', 'c1', 'c2', 'c3', 'nat', 'n1', 'n2', 'n3', 'igw', 'cloud'];

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

/**
 * UML when its boot probe runs Node (or E2E_BACKEND=uml, which then must work), else QEMU with
 * Debian's kernel, KVM when /dev/kvm is usable. Installs what the chosen backend needs.
 */
function chooseBackend(runDir: string): GuestBackend {
  const choice = parseBackendChoice(process.env);
  if (choice.backend !== 'qemu') {
    ensurePackages(say, BACKEND_PACKAGES.uml);
    const kernel = findUmlKernel();
    const unsupported = umlUnsupportedReason(kernel, runDir);
    if (!unsupported) return { name: 'uml', kernel, timeScale: timeScaleOf(choice, 'uml') };
    if (choice.backend === 'uml') throw new E2eError(`E2E_BACKEND=uml, but User-Mode Linux ${kernel.version} cannot run real clients on this host: ${unsupported}`);
    say(`e2e: User-Mode Linux ${kernel.version} cannot run here (${unsupported}); using QEMU (docs/e2e.md, "Backends")`);
  }
  ensurePackages(say, BACKEND_PACKAGES.qemu);
  const kernel = ensureQemuKernel(say);
  const accel = resolveAccel(choice, kvmUsable());
  const qemu = { name: 'qemu', kernel, accel, smp: 2, timeScale: timeScaleOf(choice, 'qemu', accel) } as const;
  if (accel === 'tcg') return qemu;
  const unsupported = qemuUnsupportedReason(qemu, runDir);
  if (!unsupported) return qemu;
  if (choice.accel === 'kvm') throw new E2eError(`E2E_QEMU_ACCEL=kvm, but QEMU with KVM cannot boot the guest here: ${unsupported}`);
  say(`e2e: QEMU with KVM cannot boot the guest here (${unsupported}); using TCG emulation`);
  return { ...qemu, accel: 'tcg', timeScale: timeScaleOf(choice, 'qemu', 'tcg') };
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  const t0 = Date.now();
  const required = process.env.E2E_REQUIRED === '1';
  ensurePackages(say);
  const runDir = mkdtempSync(join(tmpdir(), 'tb-e2e-'));
  const backend = chooseBackend(runDir);
  const scale = backend.timeScale;
  let tap: HostTap | undefined;
  let broker: LiveBroker | undefined;
  let guest: Guest | undefined;
  let cloud: CloudAgent | undefined;
  let results: ScenarioResult[] = [];
  let failed = true;
  let cleaning: Promise<void> | undefined;
  const cleanup = () =>
    (cleaning ??= (async () => {
      if (guest) {
        await stopAgent(guest).catch(() => undefined);
        await cloud?.stop().catch(() => undefined);
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
    const guestBooting = bootGuest({ backend, runDir, tap });
    [broker, guest] = await Promise.all([brokerStarting, guestBooting]);
    say(`e2e: broker ${broker.url}, guest up in ${(guest.bootMs / 1000).toFixed(1)}s (${describeBackend(backend)})`);

    const tenantId = 'acme';
    const psk = `psk-${Math.random().toString(36).slice(2, 12)}`;
    await broker.seedTenant(tenantId, { cidr: POOL_CIDR, gateway: POOL_GATEWAY, users: USERS, authMethods: ['mschapv2', 'chap-md5', 'pap'] });
    // The only place the PSK goes: the broker. In agent mode the agent fetches it and loads it into charon.
    const ipsecReply = await broker.admin('PUT', '/v1/ipsec', { psk });
    if (ipsecReply.status !== 200) throw new E2eError(`PUT /v1/ipsec: ${ipsecReply.status} ${JSON.stringify(ipsecReply.body)}`);
    const agent = await broker.enrolAgent('e2e-server');
    const launch = { brokerUrl: broker.url, agentId: agent.agentId, agentToken: agent.token, ipsec: options.ipsec, psk };
    const selected = options.only.length > 0 ? ALL.filter((s) => options.only.includes(s.name)) : ALL;
    if (options.ipsec === 'agent' && selected.some((s) => s.cloudAgent)) {
      const enrolled = await broker.enrolAgent('e2e-cloud');
      // UML's kernel has no nftables NAT for IPv4: there the agent uses iptables-legacy; QEMU's
      // Debian kernel runs the system's default `iptables` (the nft back end), as a fleet VM does.
      const iptables = backend.name === 'uml' ? 'iptables-legacy' : 'iptables';
      cloud = createCloudAgent(guest, { ...launch, agentId: enrolled.agentId, agentToken: enrolled.token }, iptables);
    }
    const g = guest;
    const [server, cloudMs] = await Promise.all([startServer(g, launch), cloud?.ensure('on')]);
    if (server.crashedAtStart) say(`e2e: server agent: ${server.crashedAtStart}`);
    say(
      `e2e: agent listening in ${(server.agentReadyMs / 1000).toFixed(1)}s` +
        `${cloudMs === undefined ? '' : `, cloud agent (CLOUD_NAT=on, ${cloud?.iptables}) in ${(cloudMs / 1000).toFixed(1)}s`}; running scenarios`,
    );

    const serverAgent = {
      async restart(env: Readonly<Record<string, string>>) {
        await stopAgent(g);
        const restarted = await startServer(g, { ...launch, env });
        if (restarted.crashedAtStart) say(`e2e: server agent: ${restarted.crashedAtStart}`);
        return restarted.agentReadyMs;
      },
    };
    const ctx: E2eContext = { guest, broker, tenantId, psk, ipsec: options.ipsec, server: serverAgent, ...(cloud ? { cloud } : {}) };
    const budget = { deadline: t0 + RUN_BUDGET_MS * scale, perScenarioTimeoutMs: SCENARIO_TIMEOUT_MS * scale, retries: 1, stopped: () => signals > 0 };
    // Plain-L2TP scenarios need the agent with ALLOW_PLAIN_L2TP=true: they run last, after a restart.
    const needRestart = options.ipsec !== 'off' && options.ipsec !== 'harness';
    const first = needRestart ? selected.filter((s) => !s.plainAgent) : selected;
    const last = needRestart ? selected.filter((s) => s.plainAgent) : [];
    results = await runScenarios(first, ctx, say, budget);
    if (last.length > 0 && signals === 0) {
      await stopAgent(guest);
      const plain = await startServer(guest, { ...launch, ipsec: 'off' });
      say(`e2e: agent restarted with IPSEC=off ALLOW_PLAIN_L2TP=true in ${(plain.agentReadyMs / 1000).toFixed(1)}s${plain.crashedAtStart ? ` (${plain.crashedAtStart})` : ''}`);
      results = [...results, ...(await runScenarios(last, { ...ctx, ipsec: 'off' }, say, budget))];
    }
    // In CI (E2E_REQUIRED=1) a scenario that did not run is a failure, not a quiet pass.
    failed = results.some((r) => r.outcome === 'FAIL' || (required && r.outcome === 'SKIP'));
  } catch (error) {
    say(`e2e: setup failed: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    await cleanup();
  }
  const counts = (o: string) => results.filter((r) => r.outcome === o).length;
  say(`\n=== e2e report (IPsec: ${options.ipsec}; ${describeBackend(backend)}) ===`);
  for (const result of results) say(formatResult(result));
  const retried = results.filter((r) => r.retried).length;
  say(`${counts('PASS')} passed${retried > 0 ? ` (${retried} after a retry)` : ''}, ${counts('FAIL')} failed, ${counts('SKIP')} skipped in ${since(t0)}`);
  if (required && counts('SKIP') > 0) say('e2e: E2E_REQUIRED=1: skipped scenarios count as failures');
  // Visible, not hidden by the one repeat: an agent start that crashed (docs/e2e.md).
  for (const crash of cloud?.crashes ?? []) say(`e2e: cloud agent: ${crash}`);
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
