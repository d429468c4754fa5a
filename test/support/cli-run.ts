/**
 * Runs the operator CLI in-process (cli/src/program.ts's runCli) with captured output, a given
 * environment and stdin text: the same code as bin/tunnel-broker.js but for the process wiring.
 */
import { Readable } from 'node:stream';
import { runCli } from '../../cli/src/program';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliRunOptions {
  readonly env?: Record<string, string | undefined>;
  readonly stdin?: string;
  /** Files the CLI may read (`users import`, the config file), by path. */
  readonly files?: Record<string, { text: string; mode?: number }>;
  /** Resolves to end a `--watch` as Ctrl-C does. */
  readonly interrupt?: Promise<void>;
  readonly onStdout?: (text: string) => void;
}

export async function runCliCaptured(argv: string[], options: CliRunOptions = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const files = options.files ?? {};
  const code = await runCli(argv, {
    io: {
      stdout: { write: (t: string) => { stdout += t; options.onStdout?.(t); } },
      stderr: { write: (t: string) => void (stderr += t) },
      stdin: Readable.from(options.stdin === undefined ? [] : [options.stdin]) as never,
      readFile: (path) => {
        const f = files[path];
        if (!f) throw new Error(`ENOENT: no such file, open '${path}'`);
        return f.text;
      },
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      now: () => Date.now(),
      interrupted: () => options.interrupt ?? new Promise(() => {}),
    },
    env: options.env ?? {},
    homeDir: '/nonexistent-home',
    files: { read: (path) => (files[path] ? { text: files[path]!.text, mode: files[path]!.mode ?? 0o100600 } : undefined) },
  });
  return { code, stdout, stderr };
}
