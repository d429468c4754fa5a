/**
 * The real edge agent as a child process (bin/edge-agent.js: the CLI operators run), plus what the
 * benchmark reads from outside: RSS and CPU time from /proc, TUN counters from sysfs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../scripts/lib/dynamodb-local';
import { sleep } from './stats';

export interface AgentProcess {
  readonly pid: number;
  readonly port: number;
  readonly tunName: string;
  /** Resident set size in bytes (VmRSS). */
  rss(): number;
  /** User + system CPU seconds consumed so far. */
  cpuSeconds(): number;
  /** The reason the agent logged for an L2TP socket without packet marks (node:dgram), if it did. */
  l2tpWithoutMarks(): string | undefined;
  stop(): Promise<void>;
}

export async function startAgentProcess(options: {
  brokerUrl: string;
  agentId: string;
  token: string;
  tunName: string;
  capacity?: number;
  nodeArgs?: readonly string[];
  /** COMMAND_NUDGE_PORT; 0 (off) unless a figure measures nudges. */
  nudgePort?: number;
  /** More agent settings (e.g. L2TP_MARKS, LOG_LEVEL). */
  env?: Readonly<Record<string, string>>;
  /** Run the agent of another checkout of this repository (its bin/edge-agent.js); default this one. */
  checkout?: string;
  /** Write the agent's log (stdout) into this file instead of a pipe the bench reads (cheaper when it logs per tunnel). */
  logFile?: string;
}): Promise<AgentProcess> {
  const port = await freePort();
  const stateDir = mkdtempSync(join(tmpdir(), 'bench-agent-'));
  const bin = options.checkout ? join(options.checkout, 'bin/edge-agent.js') : new URL('../../bin/edge-agent.js', import.meta.url).pathname;
  const logFd = options.logFile ? openSync(options.logFile, 'a') : undefined;
  const child: ChildProcess = spawn(process.execPath, [...(options.nodeArgs ?? []), bin], {
    env: {
      ...process.env,
      BROKER_URL: options.brokerUrl,
      AGENT_ID: options.agentId,
      AGENT_TOKEN: options.token,
      L2TP_LISTEN: `127.0.0.1:${port}`,
      PUBLIC_ADDRESS: '127.0.0.1',
      TUN_NAME: options.tunName,
      IPSEC: 'off',
      ALLOW_PLAIN_L2TP: 'true',
      STATE_DIR: stateDir,
      CAPACITY: String(options.capacity ?? 20_000),
      COMMAND_NUDGE_PORT: String(options.nudgePort ?? 0),
      LOG_LEVEL: 'warn',
      METRICS_LISTEN: 'off',
      ...options.env,
    },
    stdio: ['ignore', logFd ?? 'pipe', 'inherit'],
  });
  if (logFd !== undefined) closeSync(logFd);
  // The log (pino JSON lines on stdout, warnings and up) is read only for the start-up warning of
  // an L2TP socket without marks, so a comparison of the two sockets cannot silently measure one.
  let withoutMarks: string | undefined;
  let partial = '';
  const readLines = (lines: string[]) => {
    for (const line of lines) {
      if (!line.includes('L2TP socket without packet marks')) continue;
      try {
        withoutMarks = String((JSON.parse(line) as { reason?: unknown }).reason);
      } catch {
        withoutMarks = line;
      }
    }
  };
  child.stdout?.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop()!;
    readLines(lines);
  });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const pid = child.pid!;
  // Listening = the TUN exists and the agent holds its UDP port; give the loader time first.
  const deadline = Date.now() + 30_000;
  while (!tunExists(options.tunName)) {
    if (child.exitCode !== null) throw new Error(`edge-agent exited during start-up (${child.exitCode})`);
    if (Date.now() > deadline) throw new Error('edge-agent did not create its TUN within 30 s');
    await sleep(100);
  }
  await sleep(1000);
  const ticks = 100; // USER_HZ on Linux
  return {
    pid,
    port,
    tunName: options.tunName,
    rss: () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024,
    l2tpWithoutMarks: () => {
      if (options.logFile) readLines(readFileSync(options.logFile, 'utf8').split('\n'));
      return withoutMarks;
    },
    cpuSeconds: () => {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return (Number(fields[11]) + Number(fields[12])) / ticks; // utime, stime (fields 14, 15)
    },
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

function tunExists(name: string): boolean {
  try {
    readFileSync(`/sys/class/net/${name}/ifindex`);
    return true;
  } catch {
    return false;
  }
}

/**
 * A TUN's kernel counter: rx = packets the process wrote into the kernel, tx = what the process read
 * (per read: a super-packet of a TUN with offloads counts once), tx_dropped = what its full queue refused.
 */
export function tunCounter(name: string, counter: 'rx_packets' | 'tx_packets' | 'tx_bytes' | 'tx_dropped' | 'rx_dropped'): number {
  return Number(readFileSync(`/sys/class/net/${name}/statistics/${counter}`, 'utf8'));
}
