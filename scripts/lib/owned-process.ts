/**
 * A child process that never outlives its owner. The command runs under a small `sh` watchdog in
 * its own process group:
 *  - its own group, so a Ctrl-C in the terminal reaches only the owner, which then stops the child
 *    once, in order (a child that got SIGINT from the terminal and SIGTERM from its owner used to
 *    take the second signal as "exit without a clean shutdown");
 *  - the watchdog polls the owner every half second and sends the child SIGTERM when the owner is
 *    gone, even after a SIGKILL that gave the owner no chance to clean up.
 * SIGTERM to the watchdog is passed on to the child; the watchdog exits with the child's status.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';

export interface OwnedProcessOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly stdio?: StdioOptions;
  /** The process whose death stops the child. @default this process */
  readonly ownerPid?: number;
}

export interface OwnedProcess {
  /** The watchdog shell (its pid is the process group id). */
  readonly child: ChildProcess;
  /** Resolves once the watchdog (and so the command) has exited: its exit code, or 128 + signal. */
  readonly exited: Promise<number>;
  /** True once exited. */
  readonly gone: () => boolean;
  /** SIGTERM, then SIGKILL to the whole group after `graceMs`; resolves with the exit code. */
  stop(graceMs: number): Promise<number>;
}

const WATCHDOG = [
  '"$@" & C=$!',
  // A signal arrives while `sleep` runs; the trap runs after it: at most half a second late.
  `trap 'kill -TERM $C 2>/dev/null; wait $C; exit $?' TERM INT HUP`,
  'while kill -0 "$OWNER" 2>/dev/null && kill -0 $C 2>/dev/null; do sleep 0.5; done',
  'kill -TERM $C 2>/dev/null',
  'wait $C',
].join('\n');

const SIGNAL_NUMBERS: Readonly<Record<string, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

/** Starts `command args` owned by `ownerPid` (this process by default). */
export function spawnOwned(command: string, args: readonly string[], options: OwnedProcessOptions = {}): OwnedProcess {
  const child = spawn('sh', ['-c', WATCHDOG, 'owned', command, ...args], {
    detached: true,
    stdio: options.stdio ?? ['ignore', 'pipe', 'pipe'],
    ...(options.cwd ? { cwd: options.cwd } : {}),
    env: { ...(options.env ?? process.env), OWNER: String(options.ownerPid ?? process.pid) },
  });
  let done = false;
  const exited = new Promise<number>((resolve) => {
    child.once('exit', (code, signal) => {
      done = true;
      resolve(code ?? 128 + (SIGNAL_NUMBERS[signal ?? ''] ?? 0));
    });
    child.once('error', () => {
      done = true;
      resolve(127);
    });
  });
  const signalGroup = (signal: NodeJS.Signals) => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // the group is already gone
    }
  };
  return {
    child,
    exited,
    gone: () => done,
    async stop(graceMs) {
      if (!done) child.kill('SIGTERM');
      const killer = setTimeout(() => signalGroup('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(killer);
      // Anything the command left behind in its group (a grandchild) goes with it; ESRCH when none.
      signalGroup('SIGKILL');
      return code;
    },
  };
}
