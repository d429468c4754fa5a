/** The `tunnel-broker` executable: wires the process (stdio, env, files, signals) to runCli. */
import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { runCli } from './program';

// Ctrl-C ends a --watch: the loop and its pending sleep stop, and the command exits 0.
const stop = new AbortController();
let interrupted: Promise<void> | undefined;
const onInterrupt = () =>
  (interrupted ??= new Promise((resolve) =>
    process.once('SIGINT', () => {
      stop.abort();
      resolve();
    }),
  ));

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    stop.signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

const code = await runCli(process.argv.slice(2), {
  io: {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    readFile: (path) => readFileSync(path, 'utf8'),
    sleep,
    now: () => Date.now(),
    interrupted: onInterrupt,
  },
  // The process environment is read here, at the entry point, and nowhere else.
  env: process.env,
  homeDir: homedir(),
  files: {
    read(path) {
      try {
        return { text: readFileSync(path, 'utf8'), mode: statSync(path).mode };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
    },
  },
});
process.exitCode = code;
