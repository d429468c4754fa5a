/**
 * The autoscaler of the local stack: the same runner the AWS function uses
 * (functions/src/entry/autoscaler.ts `createAutoscalerRunner`), on its schedule, with the local
 * scaling provider. As root it launches and stops agents in network namespaces (they reach the
 * broker over its Unix socket); otherwise, or with --no-autoscale, it only plans: it evaluates and
 * prints what it would do. The built-in agent serves and counts as capacity, but the autoscaler
 * never drains it (it is not the provider's).
 *
 * Agents it launched are recorded in <DATA_DIR>/local-fleet.json until they are stopped: after a
 * run that ended without stopping them (SIGKILL, power loss) the next run declares them dead at
 * once, so the endpoint never offers an agent that is gone.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { LocalScalingProvider, type LocalAgentLauncher, type ScalingAction, type ScalingPolicy, type ScalingProvider } from '../../../functions/src/domain/autoscaling';
import { declareAgentDead } from '../../../functions/src/domain/reaper';
import type { Agent, Clock } from '../../../functions/src/domain/types';
import { createAutoscalerRunner, type AutoscalerRun } from '../../../functions/src/entry/autoscaler';
import type { Store } from '../../../functions/src/domain/store';
import { createNetns, removeStaleNamespaces } from '../netns';
import { NetnsAgentLauncher } from '../netns-agent-launcher';
import { enrolAgent, type AdminClient } from './admin-client';
import { startScheduledJob, type ScheduledJob } from './scheduled-job';
import { STACK_NETNS_PREFIX } from './settings';

export interface StackFleetOptions {
  readonly store: Store;
  readonly clock: Clock;
  readonly policy: ScalingPolicy;
  readonly intervalMs: number;
  /** Launch and stop agents (root, actions on); false: plan only. */
  readonly act: boolean;
  /** Why it only plans, for the banner. */
  readonly planReason?: string;
  readonly builtInAgentId?: string;
  readonly admin: AdminClient;
  readonly brokerPort: number;
  readonly brokerSocket: string;
  readonly dataDir: string;
  readonly logLevel: string;
  readonly log: Logger;
  readonly print: (line: string) => void;
}

export interface StackFleet {
  readonly job: ScheduledJob<AutoscalerRun>;
  describe(): string;
  /** Stops the schedule, then every launched agent (sessions end with agent-shutdown), and marks them dead. */
  stop(): Promise<void>;
}

interface FleetRecord {
  readonly agents: { readonly agentId: string; readonly name: string; readonly launchedAt: number }[];
}

const recordFile = (dataDir: string) => join(dataDir, 'local-fleet.json');

function readRecord(dataDir: string): FleetRecord {
  if (!existsSync(recordFile(dataDir))) return { agents: [] };
  try {
    return JSON.parse(readFileSync(recordFile(dataDir), 'utf8')) as FleetRecord;
  } catch {
    return { agents: [] };
  }
}

const writeRecord = (dataDir: string, record: FleetRecord) => writeFileSync(recordFile(dataDir), `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });

/** Agents an earlier run launched and never stopped are gone (their namespaces died with it): dead now. */
async function retireLeftovers(options: StackFleetOptions): Promise<string[]> {
  const leftovers = readRecord(options.dataDir).agents;
  const retired: string[] = [];
  for (const agent of leftovers) {
    if (await declareAgentDead(options.store, agent.agentId, options.clock.now())) retired.push(agent.agentId);
  }
  writeRecord(options.dataDir, { agents: [] });
  return retired;
}

/** Each agent is recorded from its enrolment (before it runs) until it is stopped. */
function recordEnrolment(dataDir: string, name: string, agentId: string): void {
  writeRecord(dataDir, { agents: [...readRecord(dataDir).agents, { agentId, name, launchedAt: Date.now() }] });
}

function recordingLauncher(inner: LocalAgentLauncher, dataDir: string): LocalAgentLauncher {
  const update = (change: (agents: FleetRecord['agents']) => FleetRecord['agents']) => writeRecord(dataDir, { agents: change(readRecord(dataDir).agents) });
  return {
    async launch(name) {
      const agent = await inner.launch(name);
      return {
        ...agent,
        stop: async () => {
          await agent.stop();
          update((agents) => agents.filter((a) => a.agentId !== agent.agentId));
        },
      };
    },
  };
}

/** Without root (or with --no-autoscale) nothing is ever carried out; the runner is told not to act. */
const planOnly: ScalingProvider = {
  setDesiredCapacity: () => Promise.reject(new Error('the local autoscaler only plans')),
  terminate: () => Promise.reject(new Error('the local autoscaler only plans')),
};

function actionText(action: ScalingAction): string {
  switch (action.type) {
    case 'set-desired-capacity':
      return `set the provider's fleet to ${action.desired} agent(s)`;
    case 'drain':
      return `drain ${action.agentId} (deadline ${new Date(action.deadline).toISOString()})`;
    case 'release':
      return `release ${action.agentId} (${action.cause}${action.endSessions ? ', ending its sessions' : ''})`;
  }
}

/** A line when the run acted (or would have), or when the fleet's picture changed; undefined otherwise. */
export function describeRun(run: AutoscalerRun, previous: AutoscalerRun | undefined, act: boolean): string | undefined {
  const s = run.summary;
  const picture = `${s.serving} serving, ${s.draining} draining, ${s.sessions} sessions (${Math.round(s.utilization * 100)} %), desired ${s.desired}`;
  if (run.actions.length > 0) {
    if (!act) {
      // Nothing is carried out, so the same plan comes back every tick: say it when it changes.
      const plan = run.actions.map(actionText).join('; ');
      const before = previous?.actions.map(actionText).join('; ');
      return plan === before ? undefined : `plan only, would ${plan} (${picture})`;
    }
    const done = run.outcomes.map((o) => (o.ok ? actionText(o.action) : `FAILED to ${actionText(o.action)}: ${o.error}`));
    return `${s.decision}: ${done.join('; ')} (${picture})`;
  }
  const p = previous?.summary;
  if (p && p.serving === s.serving && p.draining === s.draining && p.desired === s.desired && p.note === s.note) return undefined;
  return `hold: ${picture}${s.note ? `; ${s.note}` : ''}`;
}

export async function startStackFleet(options: StackFleetOptions): Promise<StackFleet> {
  const retired = await retireLeftovers(options);
  if (retired.length > 0) {
    options.print(`autoscaler: ${retired.length} agent(s) an earlier run left behind are gone: marked dead (${retired.join(', ')}); the reaper ends their sessions`);
  }
  let provider: LocalScalingProvider | undefined;
  if (options.act) {
    await removeStaleNamespaces(STACK_NETNS_PREFIX); // of runs that were killed before they could
    const stateRoot = join(options.dataDir, 'scaled-agents');
    mkdirSync(stateRoot, { recursive: true, mode: 0o700 });
    const launcher = new NetnsAgentLauncher({
      createNamespace: (label) => createNetns(label, { prefix: STACK_NETNS_PREFIX }),
      enrol: async (name) => {
        const enrolled = await enrolAgent(options.admin, { name, capacity: options.policy.agentCapacity });
        recordEnrolment(options.dataDir, name, enrolled.agentId);
        return enrolled;
      },
      brokerPort: options.brokerPort,
      brokerSocket: options.brokerSocket,
      stateRoot,
      logDir: join(options.dataDir, 'logs'),
      capacity: options.policy.agentCapacity,
      env: { LOG_LEVEL: options.logLevel },
      readyTimeoutMs: 60_000,
      onLog: (agentId, line) => {
        if (Number(line.level ?? 0) >= 40) options.print(`agent ${agentId}: ${String(line.msg ?? '')}${line.err ? ` (${String(line.err)})` : ''}`);
      },
    });
    provider = new LocalScalingProvider({ launcher: recordingLauncher(launcher, options.dataDir), namePrefix: 'scaled', hardLimit: options.policy.maxAgents });
  }
  const runs = provider;
  const managed = runs
    ? (agent: Agent) => runs.agents().some((a) => a.agentId === agent.agentId)
    : (agent: Agent) => agent.agentId !== options.builtInAgentId;
  const evaluate = createAutoscalerRunner({
    store: options.store,
    clock: options.clock,
    provider: provider ?? planOnly,
    policy: options.policy,
    log: options.log,
    managed,
    act: options.act,
  });
  const job = startScheduledJob<AutoscalerRun>({
    name: 'autoscaler',
    intervalMs: options.intervalMs,
    run: evaluate,
    describe: (run, previous) => describeRun(run, previous, options.act),
    print: options.print,
  });
  const p = options.policy;
  return {
    job,
    describe: () =>
      `every ${options.intervalMs / 1000} s; ${options.act ? `launches agents in network namespaces ${STACK_NETNS_PREFIX}-${process.pid}-*` : `plan only (${options.planReason ?? 'actions off'})`}; ` +
      `min ${p.minAgents}, max ${p.maxAgents}, ${p.agentCapacity} sessions each, target ${Math.round(p.targetUtilization * 100)} %`,
    async stop() {
      await job.stop();
      if (!provider) return;
      const launched = provider.agents();
      await provider.close();
      for (const agent of launched) await declareAgentDead(options.store, agent.agentId, options.clock.now());
    },
  };
}
