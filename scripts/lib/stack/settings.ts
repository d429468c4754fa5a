/**
 * The local stack's settings: every port, name and directory that can collide with another stack,
 * and the scheduled jobs' intervals. One table drives parsing and `npm start -- --help`, so the
 * two cannot disagree. Parsed once by scripts/local-stack.ts from argv and the environment.
 */
import { DEFAULT_NUDGE_PORT } from '../../../contract/src/command-nudge';
import { resolve } from 'node:path';
import { z } from 'zod';
import { SCHEDULED_JOBS } from '../../../functions/src/entry/schedules';

/** Prefix of the network namespaces of agents the autoscaler runs: `tbl-<stack pid>-<agent>-<tag>`. */
export const STACK_NETNS_PREFIX = 'tbl';

export interface StackSettings {
  readonly host: string;
  readonly port: number;
  /** Preferred port; a free one is used when it is taken. */
  readonly dynamodbPort: number;
  /** false: DynamoDB Local runs unisolated (reachable from other hosts). */
  readonly dynamodbIsolation: boolean;
  readonly dataDir: string;
  readonly inMemory: boolean;
  readonly agent: boolean;
  readonly agentL2tpListen: string;
  /** The built-in agent's command-nudge UDP port, on its L2TP listen address (0 = off). */
  readonly agentNudgePort: number;
  readonly agentTunName: string;
  /** The built-in agent's Prometheus endpoint (its METRICS_LISTEN), or 'off'. */
  readonly agentMetricsListen: string;
  readonly ipsec: boolean;
  /** false (--no-autoscale): the autoscaler evaluates and logs what it would do, and does nothing. */
  readonly autoscaleActions: boolean;
  readonly reaperIntervalMs: number;
  readonly autoscalerIntervalMs: number;
  readonly logLevel: string;
}

interface Setting {
  readonly env: string;
  readonly help: string;
  readonly defaultText: string;
}

/** Environment settings, in --help order. */
export const STACK_ENV = {
  host: { env: 'HOST', help: 'address the broker API listens on (0.0.0.0: every interface)', defaultText: '127.0.0.1' },
  port: { env: 'PORT', help: 'broker API TCP port', defaultText: '8787' },
  dynamodbPort: { env: 'DYNAMODB_PORT', help: 'DynamoDB Local on 127.0.0.1 (a free port when taken)', defaultText: '8000' },
  dynamodbIsolation: {
    env: 'DYNAMODB_ISOLATION',
    help: 'on: DynamoDB Local in a network namespace of its own; off: it listens on every interface',
    defaultText: 'on',
  },
  dataDir: { env: 'DATA_DIR', help: 'data, secrets, agent state and logs', defaultText: './.data' },
  agentL2tpListen: { env: 'AGENT_L2TP_LISTEN', help: 'built-in agent\'s L2TP UDP address:port', defaultText: '127.0.0.1:1701 (0.0.0.0:1701 with --ipsec)' },
  agentNudgePort: {
    env: 'AGENT_COMMAND_NUDGE_PORT',
    help: 'built-in agent\'s UDP port for the broker\'s command nudges, on its L2TP address (0 = off)',
    defaultText: String(DEFAULT_NUDGE_PORT),
  },
  agentTunName: { env: 'AGENT_TUN_NAME', help: 'built-in agent\'s TUN device', defaultText: 'tbr0' },
  agentMetricsListen: { env: 'AGENT_METRICS_LISTEN', help: 'built-in agent\'s Prometheus /metrics TCP address:port, or off', defaultText: '127.0.0.1:9469' },
  reaperInterval: { env: 'REAPER_INTERVAL_SECONDS', help: 'reaper period', defaultText: `${SCHEDULED_JOBS.reaper.intervalMs / 1000} (as in AWS)` },
  autoscalerInterval: { env: 'AUTOSCALER_INTERVAL_SECONDS', help: 'autoscaler period', defaultText: `${SCHEDULED_JOBS.autoscaler.intervalMs / 1000} (as in AWS)` },
  logLevel: { env: 'LOG_LEVEL', help: 'level of the JSON logs in <DATA_DIR>/logs', defaultText: 'info' },
} as const satisfies Record<string, Setting>;

const FLAGS = {
  '--in-memory': 'keep DynamoDB data in memory (default: persisted under <DATA_DIR>/dynamodb)',
  '--no-agent': 'do not start the built-in edge agent',
  '--no-autoscale': 'the autoscaler evaluates and logs what it would do, and does nothing',
  '--ipsec': 'the built-in agent requires IPsec: starts charon (root and strongSwan needed)',
  '--help': 'this text',
} as const;

export class SettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SettingsError';
  }
}

const hostPort = z.string().regex(/^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]):\d{1,5}$/, 'expected address:port, e.g. 127.0.0.1:1702');
const port = z.coerce.number().int().min(1).max(65_535);
const seconds = (fallbackMs: number) => z.coerce.number().positive().default(fallbackMs / 1000);

const schema = z.object({
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: port.default(8787),
  DYNAMODB_PORT: port.default(8000),
  DYNAMODB_ISOLATION: z.enum(['on', 'off']).default('on'),
  DATA_DIR: z.string().min(1).default('.data'),
  AGENT_L2TP_LISTEN: hostPort.optional(),
  AGENT_COMMAND_NUDGE_PORT: z.coerce.number().int().min(0).max(65535).default(DEFAULT_NUDGE_PORT),
  AGENT_TUN_NAME: z.string().regex(/^[a-zA-Z0-9_.-]{1,15}$/, 'interface names are 1-15 letters, digits, _ . -').default('tbr0'),
  AGENT_METRICS_LISTEN: z.union([z.literal('off'), hostPort]).default('127.0.0.1:9469'),
  REAPER_INTERVAL_SECONDS: seconds(SCHEDULED_JOBS.reaper.intervalMs),
  AUTOSCALER_INTERVAL_SECONDS: seconds(SCHEDULED_JOBS.autoscaler.intervalMs),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
});

/** Flags and environment to settings; a bad value or unknown flag is a SettingsError naming it. */
export function parseStackSettings(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): StackSettings | 'help' {
  const flags = new Set<string>();
  for (const arg of argv) {
    if (arg === '-h' || arg === '--help') return 'help';
    if (!(arg in FLAGS)) throw new SettingsError(`unknown argument ${arg} (see npm start -- --help)`);
    flags.add(arg);
  }
  const cleaned = Object.fromEntries(Object.keys(schema.shape).flatMap((key) => (env[key] ? [[key, env[key]]] : [])));
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${String(i.path[0])}: ${i.message}`);
    throw new SettingsError(`invalid settings: ${problems.join('; ')}`);
  }
  const e = parsed.data;
  const ipsec = flags.has('--ipsec');
  return {
    host: e.HOST,
    port: e.PORT,
    dynamodbPort: e.DYNAMODB_PORT,
    dynamodbIsolation: e.DYNAMODB_ISOLATION === 'on',
    dataDir: resolve(e.DATA_DIR),
    inMemory: flags.has('--in-memory'),
    agent: !flags.has('--no-agent'),
    // Plain L2TP carries PAP passwords in clear: only loopback unless IPsec protects it.
    agentL2tpListen: e.AGENT_L2TP_LISTEN ?? (ipsec ? '0.0.0.0:1701' : '127.0.0.1:1701'),
    agentNudgePort: e.AGENT_COMMAND_NUDGE_PORT,
    agentTunName: e.AGENT_TUN_NAME,
    agentMetricsListen: e.AGENT_METRICS_LISTEN,
    ipsec,
    autoscaleActions: !flags.has('--no-autoscale'),
    reaperIntervalMs: e.REAPER_INTERVAL_SECONDS * 1000,
    autoscalerIntervalMs: e.AUTOSCALER_INTERVAL_SECONDS * 1000,
    logLevel: e.LOG_LEVEL,
  };
}

/** `npm start -- --help`. */
export function stackHelpText(): string {
  const lines = ['Usage: npm start [-- options]', '', 'Options:'];
  for (const [flag, help] of Object.entries(FLAGS)) lines.push(`  ${flag.padEnd(16)}${help}`);
  lines.push('', 'What can collide with another stack on this host, and how to change it (environment):');
  const settings = Object.values(STACK_ENV) as Setting[];
  const width = Math.max(...settings.map((s) => s.env.length)) + 2;
  for (const s of settings) lines.push(`  ${s.env.padEnd(width)}${s.help} (default ${s.defaultText})`);
  lines.push(
    `  ${'(namespaces)'.padEnd(width)}agents the autoscaler starts run in network namespaces ${STACK_NETNS_PREFIX}-<pid>-<name>-<tag>, linked to`,
    `  ${''.padEnd(width)}this host over 10.231.<n>.0/30 (n unused on this host); named by the stack's pid, they never collide`,
    '',
    'Also read: BROKER_ADMIN_TOKEN, DATA_KEYS, HEARTBEAT_INTERVAL_SECONDS and the broker\'s other settings (docs/deploy.md);',
    'the reaper\'s HEARTBEAT_TIMEOUT_MS (90000) and LEASE_GRACE_MS (300000); the autoscaler\'s MIN_AGENTS (1), MAX_AGENTS (10),',
    'AGENT_CAPACITY (100), TARGET_UTILIZATION and the rest of its policy (docs/placement-and-scaling.md).',
    '',
    'A second stack beside the first needs its own PORT, DATA_DIR, AGENT_L2TP_LISTEN, AGENT_COMMAND_NUDGE_PORT and AGENT_TUN_NAME, e.g.',
    '  PORT=8797 DATA_DIR=.data-2 AGENT_L2TP_LISTEN=127.0.0.1:1702 AGENT_COMMAND_NUDGE_PORT=1718 AGENT_TUN_NAME=tbr1 npm start',
  );
  return lines.join('\n');
}
