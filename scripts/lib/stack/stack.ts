/**
 * The local stack: the whole product on one machine, on the same code paths as in AWS.
 *   1. DynamoDB Local (the official engine) in a network namespace of its own, reached through
 *      127.0.0.1; the table created/updated from the definition the CDK stack uses
 *   2. the broker API (the Hono app Lambda runs) on HOST:PORT, and on a Unix socket for agents in
 *      network namespaces
 *   3. the scheduled handlers AWS runs on EventBridge rules, at the same intervals: the reaper, and
 *      the autoscaler with the local scaling provider
 *   4. the built-in edge agent (root), optionally behind strongSwan's charon (--ipsec)
 * `stop()` takes it down in the order that loses nothing: schedules, agents (their sessions end
 * with agent-shutdown and the reports reach the broker), then the broker, then DynamoDB Local.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createApp } from '../../../functions/src/app';
import { parseAccountingSenderConfig, parseBrokerConfig, parseReaperConfig, parseScalingPolicy } from '../../../functions/src/config';
import { createSecretBox, staticKeyRing } from '../../../functions/src/domain/ppp-auth';
import { createAccountingSender, startAccountingPump } from '../../../functions/src/entry/radius-accounting';
import { SCHEDULED_JOBS } from '../../../functions/src/entry/schedules';
import { declareAgentDead, type ReapSummary } from '../../../functions/src/domain/reaper';
import { systemClock } from '../../../functions/src/domain/types';
import { startLocalServer, startLocalSocketServer } from '../../../functions/src/entry/local-server';
import { createPrometheusBrokerMetrics, mountMetricsRoute } from '../../../functions/src/entry/local-metrics';
import { createReaperHandler } from '../../../functions/src/entry/reaper';
import { createDynamoClient, createDynamoStore, ensureTable } from '../../../functions/src/store/dynamo';
import { bundleConsole } from '../../build-console';
import { startDynamoDbLocal, type DynamoDbLocal } from '../dynamodb-local';
import { startLocalAgent, type LocalAgent } from '../local-agent';
import { adminClient } from './admin-client';
import { ipsecUnavailableReason, startCharon, type Charon } from './charon';
import { stackLogger, type StackLog } from './log-streams';
import { startScheduledJob, type ScheduledJob } from './scheduled-job';
import type { StackSettings } from './settings';
import { startStackFleet, type StackFleet } from './stack-fleet';

export interface LocalStack {
  /** Starts every piece; resolves once all are up (or stop() was called meanwhile). */
  start(): Promise<void>;
  /** What runs where, a line each; printed once everything is up. */
  banner(): string;
  /**
   * Stops everything, also while start() is still running (it then stops after its current step);
   * resolves when all of it is down. Safe to call more than once.
   */
  stop(): Promise<void>;
}

/** The stack cannot start as configured; `message` says why and what to change. */
export class StackStartError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StackStartError';
  }
}

/** Reads a secret kept under the data directory, or generates and stores it (mode 600) the first time. */
function persistentSecret(dataDir: string, file: string, generate: () => string): { value: string; generated: boolean } {
  const path = join(dataDir, file);
  if (existsSync(path)) return { value: readFileSync(path, 'utf8').trim(), generated: false };
  const value = generate();
  writeFileSync(path, `${value}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
  return { value, generated: true };
}

async function isPortFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen(port, '127.0.0.1', () => server.close(() => done(true)));
  });
}

/** A line when the pass changed something (or on the first pass, so its start is visible). */
export function describeReap(summary: ReapSummary, previous: ReapSummary | undefined): string | undefined {
  if (summary.agentsMarkedDead.length > 0 || summary.sessionsStopped > 0) {
    const dead = summary.agentsMarkedDead.length > 0 ? `marked dead: ${summary.agentsMarkedDead.join(', ')}; ` : '';
    return `${dead}ended ${summary.sessionsStopped} session(s) with agent-lost (${summary.agentsChecked} agents checked)`;
  }
  return previous === undefined ? `first pass: ${summary.agentsChecked} agent(s) checked, none lost` : undefined;
}

/** Thrown between start-up steps once stop() was called. */
class StopRequested extends Error {}

export function createStack(settings: StackSettings, env: Readonly<Record<string, string | undefined>>, print: (line: string) => void): LocalStack {
  const stoppers: Array<{ name: string; stop: () => Promise<void> }> = [];
  let stopRequested = false;
  let starting: Promise<void> | undefined;
  let stopping: Promise<void> | undefined;
  let banner = '';
  const onStop = (name: string, stop: () => Promise<void>) => {
    stoppers.unshift({ name, stop });
    if (stopRequested) throw new StopRequested();
  };
  const stopAll = async () => {
    for (const { name, stop: one } of stoppers.splice(0)) {
      await one().catch((error: unknown) => print(`stopping ${name} failed: ${error instanceof Error ? error.message : String(error)}`));
    }
  };
  return {
    start: () =>
      (starting ??= startPieces(settings, env, print, onStop).then(
        (text) => void (banner = text),
        async (error: unknown) => {
          await stopAll();
          if (!(error instanceof StopRequested)) throw error;
        },
      )),
    banner: () => banner,
    stop: () =>
      (stopping ??= (async () => {
        stopRequested = true;
        await starting?.catch(() => undefined);
        await stopAll();
      })()),
  };
}

/** Starts the pieces in order, registering how to stop each; returns the banner. */
async function startPieces(
  settings: StackSettings,
  env: Readonly<Record<string, string | undefined>>,
  print: (line: string) => void,
  onStop: (name: string, stop: () => Promise<void>) => void,
): Promise<string> {
  const dataDir = settings.dataDir;
  const logsDir = join(dataDir, 'logs');
  const runDir = join(dataDir, 'run');
  for (const dir of [dataDir, logsDir, runDir]) mkdirSync(dir, { recursive: true, mode: 0o700 });
  const root = process.getuid?.() === 0;
  const brokerLog: StackLog = stackLogger({ file: join(logsDir, 'broker.log'), level: settings.logLevel, prefix: 'broker', print });
  onStop('logs', () => brokerLog.close());

  const dynamoPort = (await isPortFree(settings.dynamodbPort)) ? settings.dynamodbPort : 0;
  let dynamo: DynamoDbLocal;
  try {
    dynamo = await startDynamoDbLocal({
      port: dynamoPort,
      isolate: settings.dynamodbIsolation,
      ...(settings.inMemory ? {} : { dataDir: join(dataDir, 'dynamodb') }),
      onLog: (line) => brokerLog.logger.debug({ dynamodbLocal: line }, 'DynamoDB Local'),
    });
  } catch (error) {
    const hint = settings.dynamodbIsolation ? '\n  To run it without isolation (reachable from other hosts), set DYNAMODB_ISOLATION=off.' : '';
    throw new StackStartError(`${error instanceof Error ? error.message : String(error)}${hint}`, { cause: error });
  }
  onStop('DynamoDB Local', () => dynamo.stop());

  const admin = env.BROKER_ADMIN_TOKEN
    ? { value: env.BROKER_ADMIN_TOKEN, generated: false }
    : persistentSecret(dataDir, 'admin-token', () => `tbadmin_${randomBytes(24).toString('base64url')}`);
  const dataKeys = env.DATA_KEYS ? { value: env.DATA_KEYS, generated: false } : persistentSecret(dataDir, 'data-keys', () => `local1:${randomBytes(32).toString('base64')}`);
  // Each job reads its part of the broker configuration (functions/src/config), as in AWS.
  const config = parseBrokerConfig({ ...env, BROKER_ADMIN_TOKEN: admin.value, DATA_KEYS: dataKeys.value, DYNAMODB_ENDPOINT: dynamo.endpoint, LOG_LEVEL: settings.logLevel });
  const { tableName } = config.table;
  const client = createDynamoClient({ endpoint: dynamo.endpoint });
  const tableOutcome = await ensureTable(client, tableName);
  const store = createDynamoStore({ client, tableName });
  const metrics = createPrometheusBrokerMetrics();
  // Built at each start (esbuild, well under a second), so the console always matches the checkout.
  const consoleAssets = await bundleConsole();
  // RADIUS accounting: drained on the schedule AWS uses, and right after each session change that wrote a record.
  const accountingSender = createAccountingSender({
    store,
    clock: systemClock,
    secretBox: createSecretBox(staticKeyRing({ currentKeyId: config.dataKeys[0]!.keyId, keys: Object.fromEntries(config.dataKeys.map((k) => [k.keyId, k.keyBase64])) })),
    config: parseAccountingSenderConfig(env),
    log: brokerLog.logger.child({ job: 'radius-accounting' }),
  });
  const accounting = startAccountingPump(accountingSender, { intervalMs: SCHEDULED_JOBS.radiusAccounting.intervalMs, log: brokerLog.logger.child({ job: 'radius-accounting' }) });
  onStop('RADIUS accounting', async () => {
    await accounting.stop();
    await accountingSender.close();
  });
  const app = createApp({ store, clock: systemClock, logger: brokerLog.logger, config, metrics, consoleAssets, accountingKick: accounting.kick });
  mountMetricsRoute(app, metrics);

  let closeTcp: () => Promise<void>;
  try {
    closeTcp = await startLocalServer({ app, host: settings.host, port: settings.port });
  } catch (error) {
    const inUse = (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
    throw new StackStartError(
      inUse ? `the broker's port ${settings.host}:${settings.port} is in use (another stack?): set PORT, e.g. PORT=${settings.port + 10}` : `the broker cannot listen on ${settings.host}:${settings.port}: ${String(error)}`,
      { cause: error },
    );
  }
  onStop('broker API', closeTcp);
  const brokerSocket = join(runDir, 'broker.sock');
  onStop('broker socket', await startLocalSocketServer({ app, path: brokerSocket }));
  const apiUrl = `http://${settings.host.includes(':') ? `[${settings.host}]` : settings.host}:${settings.port}`;
  const localUrl = settings.host === '0.0.0.0' || settings.host === '::' ? `http://127.0.0.1:${settings.port}` : apiUrl;
  const adminApi = adminClient(localUrl, admin.value);

  // The scheduled handlers, as EventBridge runs them in AWS (functions/src/entry/schedules.ts).
  const reaperConfig = parseReaperConfig({ ...env, TABLE_NAME: tableName, DYNAMODB_ENDPOINT: dynamo.endpoint });
  const reaper: ScheduledJob<ReapSummary> = startScheduledJob({
    name: 'reaper',
    intervalMs: settings.reaperIntervalMs,
    run: createReaperHandler(reaperConfig, { store, log: brokerLog.logger.child({ job: 'reaper' }) }),
    describe: describeReap,
    print,
  });
  onStop('reaper', () => reaper.stop());

  let charon: Charon | undefined;
  if (settings.ipsec) {
    const why = ipsecUnavailableReason();
    if (why) throw new StackStartError(`--ipsec: ${why}`);
    charon = await startCharon({ dataDir });
    onStop('charon', charon.stop);
  }

  let agent: LocalAgent | undefined;
  let agentNote = 'not started (--no-agent)';
  if (settings.agent && !root) agentNote = 'not started: it needs root (CAP_NET_ADMIN) for its TUN device; run `sudo npm start` to include it';
  else if (settings.agent) {
    agent = await startLocalAgent({
      brokerUrl: localUrl,
      admin: adminApi,
      dataDir,
      l2tpListen: settings.agentL2tpListen,
      nudgePort: settings.agentNudgePort,
      metricsListen: settings.agentMetricsListen,
      tunName: settings.agentTunName,
      logLevel: settings.logLevel,
      print,
      ...(charon ? { viciSocket: charon.viciSocket } : {}),
      ...(env.AGENT_PUBLIC_ADDRESS ? { publicAddress: env.AGENT_PUBLIC_ADDRESS } : {}),
    });
    const builtIn = agent;
    onStop('built-in agent', async () => {
      await builtIn.stop();
      // Down until the next run registers it again: no endpoint answer offers it meanwhile.
      await declareAgentDead(store, builtIn.agentId, Date.now());
    });
  }

  const policy = parseScalingPolicy(env);
  const act = root && settings.autoscaleActions;
  const fleet: StackFleet = await startStackFleet({
    store,
    clock: systemClock,
    policy,
    intervalMs: settings.autoscalerIntervalMs,
    act,
    ...(act ? {} : { planReason: settings.autoscaleActions ? 'not root: agents in network namespaces need root' : '--no-autoscale' }),
    ...(agent ? { builtInAgentId: agent.agentId } : {}),
    admin: adminApi,
    brokerPort: settings.port,
    brokerSocket,
    dataDir,
    logLevel: settings.logLevel,
    log: brokerLog.logger.child({ job: 'autoscaler' }),
    print,
  });
  onStop('autoscaler', () => fleet.stop());

  const dynamoWhere = `${dynamo.endpoint}  (table ${tableName}, ${tableOutcome}; ${settings.inMemory ? 'in memory' : `data in ${join(dataDir, 'dynamodb')}`}; ${
    dynamo.isolated ? 'in a network namespace of its own: reachable from this host only' : 'DYNAMODB_ISOLATION=off: reachable from other hosts'
  })`;
  const adminLine = admin.generated
    ? `${admin.value}  (new; saved in ${join(dataDir, 'admin-token')})`
    : `from ${env.BROKER_ADMIN_TOKEN ? 'BROKER_ADMIN_TOKEN' : join(dataDir, 'admin-token')}`;
  return [
    'tunnel-broker local stack is running',
    `  DynamoDB Local   ${dynamoWhere}`,
    `  Broker API       ${apiUrl}  (docs ${localUrl}/docs; agents in namespaces use ${brokerSocket}); log ${brokerLog.file}`,
    `  Web console      ${localUrl}/console/  (sign in with the admin token or an API key; docs/console.md)`,
    `  Admin token      ${adminLine}`,
    `  Metrics          ${localUrl}/metrics (broker, this host only)${agent && settings.agentMetricsListen !== 'off' ? `; built-in agent http://${settings.agentMetricsListen}/metrics` : ''}  (docs/metrics.md)`,
    `  Edge agent       ${agent ? agent.describe() : agentNote}`,
    ...(charon ? [`  charon           ${charon.owner === 'system' ? `the system's, at ${charon.viciSocket}` : `started by the stack, VICI ${charon.viciSocket}, log ${charon.logFile}`}`] : []),
    `  Reaper           every ${settings.reaperIntervalMs / 1000} s; agents silent for ${reaperConfig.heartbeatTimeoutMs / 1000} s are dead, their addresses free ${reaperConfig.leaseGraceMs / 1000} s later`,
    `  Autoscaler       ${fleet.describe()}`,
    '',
    'Next: in another terminal, follow README.md "Try it":',
    `  export TOKEN=$(cat ${join(dataDir, 'admin-token')}) B=${localUrl}`,
    `  curl -s $B/healthz`,
    'Ctrl-C (or SIGTERM, or closing the terminal) stops everything.',
  ].join('\n');
}
