import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { DEFAULT_NUDGE_PORT } from '../../contract/src/command-nudge';
import { isCidrError, parseCidr } from '../../contract/src/ipv4';

/**
 * The agent's settings. Every setting is both a flag (`--broker-url`) and an environment variable
 * (`BROKER_URL`); a flag wins. Parsed once at the entry point; modules receive the typed result.
 */
export interface AgentConfig {
  readonly brokerUrl: string;
  /** Unix socket of a broker on this host (BROKER_URL then only names it); TCP when undefined. */
  readonly brokerSocket?: string;
  readonly agentId: string;
  /** From AGENT_TOKEN / --agent-token, or read from AGENT_TOKEN_FILE / --agent-token-file. */
  readonly agentToken: string;
  readonly agentTokenFile?: string;
  readonly l2tpListen: { readonly address: string; readonly port: number };
  readonly publicAddress?: string;
  readonly tunName: string;
  readonly mtu: number;
  readonly ipsec: 'strongswan' | 'off';
  readonly viciSocket: string;
  readonly stateDir: string;
  readonly capacity: number;
  readonly logLevel: string;
  /** Optional L2TP tunnel secret (RFC 2661 §5.1.1); most built-in clients use none. */
  readonly tunnelSecret?: string;
  /** Accept L2TP that did not arrive through an IPsec SA (plain-L2TP deployments, tests). */
  readonly allowPlainL2tp: boolean;
  /** Interim accounting period per session (counters to the broker mid-session); 0 disables. */
  readonly interimIntervalSeconds: number;
  /** End a session after this long without data packets either way (0 = never; LCP echo still catches dead peers). */
  readonly idleTimeoutSeconds: number;
  /** Broker requests on the wire at once; the rest queue in the agent (broker/http-transport.ts). */
  readonly brokerMaxInFlight: number;
  /** Networks of this host's environment besides its interfaces' own (e.g. the VPC): no pool may overlap them. */
  readonly hostNetworks: readonly string[];
  /** Cloud 1:1 NAT mode (edge-agent/src/cloud-nat/): auto = on when PUBLIC_ADDRESS is not a local address. */
  readonly cloudNat: 'auto' | 'on' | 'off';
  /** iptables program for the cloud NAT rules (`iptables`: the system's back end, nft or legacy). */
  readonly cloudNatIptables: string;
  /** UDP port for the broker's command nudges, on the L2TP listen address (0 = off: commands come with heartbeats). */
  readonly commandNudgePort: number;
  /** Where GET /metrics (Prometheus text) is served; 'off' = not at all. Loopback by default. */
  readonly metricsListen: { readonly address: string; readonly port: number } | 'off';
  /** Per-datagram packet marks on the L2TP socket (several clients behind one NAT on one port): auto or off. */
  readonly l2tpMarks: 'auto' | 'off';
  /** TUN offloads (TCP/UDP super-packets the agent segments itself): auto (what the kernel takes) or off. */
  readonly tunOffload: 'auto' | 'off';
  /** UDP GSO on the marked L2TP socket (runs of datagrams to one client in one send): auto or off. */
  readonly udpGso: 'auto' | 'off';
}

interface SettingSpec {
  readonly flag: string;
  readonly env: string;
  readonly help: string;
  readonly defaultValue?: string;
}

/** Loopback: the metrics carry no credential check, so only this host (or a scraper it forwards to) reads them. */
export const DEFAULT_METRICS_LISTEN = '127.0.0.1:9469';

/** One table drives parsing and --help, so they cannot disagree. */
export const AGENT_SETTINGS = {
  brokerUrl: { flag: 'broker-url', env: 'BROKER_URL', help: 'Broker API base URL, e.g. http://127.0.0.1:8787' },
  brokerSocket: { flag: 'broker-socket', env: 'BROKER_SOCKET', help: 'Reach a broker on this host over this Unix socket (BROKER_URL still names it)' },
  agentId: { flag: 'agent-id', env: 'AGENT_ID', help: 'This agent\'s id (from POST /v1/agents)' },
  agentToken: {
    flag: 'agent-token',
    env: 'AGENT_TOKEN',
    help: 'This agent\'s credential (from POST /v1/agents). Put it in the environment or in --agent-token-file: a command-line value is visible to every local user in /proc/<pid>/cmdline',
  },
  agentTokenFile: {
    flag: 'agent-token-file',
    env: 'AGENT_TOKEN_FILE',
    help: 'File holding this agent\'s credential (mode 0600), instead of AGENT_TOKEN',
  },
  l2tpListen: { flag: 'l2tp-listen', env: 'L2TP_LISTEN', help: 'UDP address:port for L2TP', defaultValue: '0.0.0.0:1701' },
  publicAddress: { flag: 'public-address', env: 'PUBLIC_ADDRESS', help: 'Address clients connect to (reported to the broker)' },
  tunName: { flag: 'tun-name', env: 'TUN_NAME', help: 'TUN device carrying client traffic', defaultValue: 'tbr0' },
  mtu: { flag: 'mtu', env: 'MTU', help: 'PPP MTU/MRU and TUN MTU (1280-1500)', defaultValue: '1400' },
  ipsec: { flag: 'ipsec', env: 'IPSEC', help: 'strongswan (drive charon over VICI) or off', defaultValue: 'strongswan' },
  viciSocket: { flag: 'vici-socket', env: 'VICI_SOCKET', help: 'strongSwan VICI socket', defaultValue: '/var/run/charon.vici' },
  stateDir: { flag: 'state-dir', env: 'STATE_DIR', help: 'Directory for the outbox of undelivered reports', defaultValue: '/var/lib/edge-agent' },
  capacity: { flag: 'capacity', env: 'CAPACITY', help: 'Maximum concurrent sessions', defaultValue: '10000' },
  logLevel: { flag: 'log-level', env: 'LOG_LEVEL', help: 'pino level: debug, info, warn, error', defaultValue: 'info' },
  tunnelSecret: { flag: 'tunnel-secret', env: 'L2TP_SECRET', help: 'Optional L2TP tunnel secret' },
  allowPlainL2tp: { flag: 'allow-plain-l2tp', env: 'ALLOW_PLAIN_L2TP', help: 'Accept L2TP outside IPsec (true/false)', defaultValue: 'false' },
  interimIntervalSeconds: {
    flag: 'interim-interval-seconds',
    env: 'INTERIM_INTERVAL_SECONDS',
    help: 'Seconds between a session\'s interim counter reports (0 = off)',
    defaultValue: '60',
  },
  idleTimeoutSeconds: {
    flag: 'idle-timeout-seconds',
    env: 'IDLE_TIMEOUT_SECONDS',
    help: 'End a session after this long without data traffic (0 = never)',
    defaultValue: '0',
  },
  brokerMaxInFlight: {
    flag: 'broker-max-in-flight',
    env: 'BROKER_MAX_IN_FLIGHT',
    help: 'Broker requests on the wire at once (a reconnect storm queues the rest in the agent)',
    defaultValue: '128',
  },
  hostNetworks: {
    flag: 'host-networks',
    env: 'HOST_NETWORKS',
    help: 'Comma-separated IPv4 networks of this host\'s environment (e.g. the VPC CIDR) that client pools must never overlap; the interfaces\' own networks are added automatically',
    defaultValue: '',
  },
  cloudNat: {
    flag: 'cloud-nat',
    env: 'CLOUD_NAT',
    help: 'Behind a cloud 1:1 NAT, make PUBLIC_ADDRESS local so Windows sees no server-side NAT: auto (on when PUBLIC_ADDRESS is not local), on, off',
    defaultValue: 'auto',
  },
  cloudNatIptables: {
    flag: 'cloud-nat-iptables',
    env: 'CLOUD_NAT_IPTABLES',
    help: 'iptables program for the cloud NAT rules (e.g. iptables-legacy)',
    defaultValue: 'iptables',
  },
  commandNudgePort: {
    flag: 'command-nudge-port',
    env: 'COMMAND_NUDGE_PORT',
    help: 'UDP port (on the L2TP listen address) where the broker nudges this agent to fetch a queued command, e.g. a disconnect, at once; 0 = off (commands wait for the heartbeat)',
    defaultValue: String(DEFAULT_NUDGE_PORT),
  },
  metricsListen: {
    flag: 'metrics-listen',
    env: 'METRICS_LISTEN',
    help: 'TCP address:port serving Prometheus metrics at /metrics (docs/metrics.md), or off. Keep it on loopback or a private address: the metrics need no credential',
    defaultValue: DEFAULT_METRICS_LISTEN,
  },
  l2tpMarks: {
    flag: 'l2tp-marks',
    env: 'L2TP_MARKS',
    help: 'Tell IPsec clients behind one NAT apart by their SA\'s packet mark (needs Linux >= 5.19 and CAP_NET_ADMIN): auto (when the host can) or off',
    defaultValue: 'auto',
  },
  tunOffload: {
    flag: 'tun-offload',
    env: 'TUN_OFFLOAD',
    help: 'Let the kernel hand the TUN reader TCP and UDP super-packets (TSO/USO, as a NIC\'s GRO merged them) that the agent cuts into packets itself, one read for dozens of packets: auto (what the kernel supports) or off',
    defaultValue: 'auto',
  },
  udpGso: {
    flag: 'udp-gso',
    env: 'UDP_GSO',
    help: 'Send the datagrams of one TUN super-packet to a client as one UDP GSO send (the kernel cuts them apart again) where the route allows it (not IPsec: those go one by one): auto or off',
    defaultValue: 'auto',
  },
} as const satisfies Record<keyof AgentConfig, SettingSpec>;

type SettingName = keyof typeof AGENT_SETTINGS;

const hostPort = z
  .string()
  .regex(/^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]|[a-zA-Z0-9.-]+):\d{1,5}$/, 'expected address:port')
  .transform((value) => {
    const cut = value.lastIndexOf(':');
    return { address: value.slice(0, cut).replace(/^\[|\]$/g, ''), port: Number(value.slice(cut + 1)) };
  })
  .refine((v) => v.port > 0 && v.port < 65536, 'port out of range');

const booleanText = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const schema = z.object({
  brokerUrl: z.url({ protocol: /^https?$/ }).transform((u) => u.replace(/\/+$/, '')),
  brokerSocket: z.string().startsWith('/', 'must be an absolute path').optional(),
  agentId: z.string().min(1),
  agentToken: z.string().min(8),
  agentTokenFile: z.string().min(1).optional(),
  l2tpListen: hostPort,
  publicAddress: z.string().min(1).optional(),
  tunName: z.string().regex(/^[a-zA-Z0-9_.-]{1,15}$/, 'interface names are 1-15 letters, digits, _ . -'),
  mtu: z.coerce.number().int().min(1280).max(1500),
  ipsec: z.enum(['strongswan', 'off']),
  viciSocket: z.string().min(1),
  stateDir: z.string().min(1),
  capacity: z.coerce.number().int().min(1).max(100_000),
  logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']),
  tunnelSecret: z.string().min(1).optional(),
  allowPlainL2tp: booleanText,
  interimIntervalSeconds: z.coerce.number().int().min(0).max(86_400),
  idleTimeoutSeconds: z.coerce.number().int().min(0).max(7 * 86_400),
  brokerMaxInFlight: z.coerce.number().int().min(1).max(1024),
  hostNetworks: z
    .string()
    .transform((text) => text.split(',').map((part) => part.trim()).filter((part) => part !== ''))
    .pipe(z.array(z.string().refine((cidr) => !isCidrError(parseCidr(cidr)), 'expected IPv4 networks a.b.c.d/n with host bits zero, comma-separated')).max(32)),
  cloudNat: z.enum(['auto', 'on', 'off']),
  cloudNatIptables: z.string().regex(/^[a-zA-Z0-9_./-]+$/, 'a program name or path'),
  commandNudgePort: z.coerce.number().int().min(0).max(65535),
  metricsListen: z.union([z.literal('off'), hostPort]),
  l2tpMarks: z.enum(['auto', 'off']),
  tunOffload: z.enum(['auto', 'off']),
  udpGso: z.enum(['auto', 'off']),
});

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export type ParsedArgs = { readonly help: boolean; readonly values: Partial<Record<SettingName, string>> };

/** Splits argv into known settings (`--name value` or `--name=value`) and --help. */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const byFlag = new Map<string, SettingName>(Object.entries(AGENT_SETTINGS).map(([name, spec]) => [spec.flag, name as SettingName] as const));
  const values: Partial<Record<SettingName, string>> = {};
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    const match = /^--([a-z0-9-]+)(?:=(.*))?$/.exec(arg);
    const name = match ? byFlag.get(match[1] ?? '') : undefined;
    if (!match || !name) throw new ConfigError(`unknown argument ${arg} (see --help)`);
    const value = match[2] ?? argv[++i];
    if (value === undefined) throw new ConfigError(`--${match[1]} needs a value`);
    values[name] = value;
  }
  return { help, values };
}

/**
 * Flag, else environment variable, else default; then validated. Errors name the flag and variable.
 * The credential comes from AGENT_TOKEN or from the file AGENT_TOKEN_FILE names (one of the two),
 * read with `readFile` (injected by tests).
 */
export function loadAgentConfig(
  args: ParsedArgs,
  env: Readonly<Record<string, string | undefined>>,
  readFile: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): AgentConfig {
  const raw: Record<string, string | undefined> = {};
  for (const [name, spec] of Object.entries(AGENT_SETTINGS) as [SettingName, SettingSpec][]) {
    raw[name] = args.values[name] ?? nonEmpty(env[spec.env]) ?? spec.defaultValue;
  }
  const tokenFile = raw.agentTokenFile;
  if (tokenFile !== undefined) {
    if (raw.agentToken !== undefined) throw new ConfigError('invalid configuration: give --agent-token / AGENT_TOKEN or --agent-token-file / AGENT_TOKEN_FILE, not both');
    try {
      raw.agentToken = readFile(tokenFile).trim();
    } catch (error) {
      throw new ConfigError(`invalid configuration: --agent-token-file / AGENT_TOKEN_FILE ${tokenFile} cannot be read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const spec = AGENT_SETTINGS[issue.path[0] as SettingName];
      const what = raw[issue.path[0] as string] === undefined ? 'is required' : issue.message;
      if (issue.path[0] === 'agentToken') {
        const source = tokenFile !== undefined ? `the file ${tokenFile} (--agent-token-file / AGENT_TOKEN_FILE)` : '--agent-token / AGENT_TOKEN (or --agent-token-file / AGENT_TOKEN_FILE)';
        return `${source} ${raw.agentToken === undefined ? 'is required' : 'does not hold a credential'}`;
      }
      return spec ? `--${spec.flag} / ${spec.env} ${what}` : issue.message;
    });
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  return parsed.data;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/** The --help text, generated from the settings table. */
export function helpText(): string {
  const lines = [
    'Usage: edge-agent [options]',
    '',
    'Every option can also be set by its environment variable.',
    'The credential belongs in AGENT_TOKEN or in a file named by --agent-token-file, never on the command line',
    '(arguments are readable by every local user in /proc/<pid>/cmdline).',
    '',
  ];
  const specs = Object.values(AGENT_SETTINGS) as SettingSpec[];
  // Columns as wide as the longest flag and variable, so long names never run into the next column.
  const flagWidth = Math.max(...specs.map((spec) => spec.flag.length)) + 14;
  const envWidth = Math.max(...specs.map((spec) => spec.env.length)) + 2;
  for (const spec of specs) {
    const left = `  --${spec.flag} <value>`.padEnd(flagWidth);
    const def = spec.defaultValue ? ` (default ${spec.defaultValue})` : '';
    lines.push(`${left}${spec.env.padEnd(envWidth)}${spec.help}${def}`);
  }
  lines.push('  -h, --help');
  return lines.join('\n');
}
