/**
 * `npm start`: the whole product on one machine (scripts/lib/stack/stack.ts says what runs).
 *
 * Any way of stopping it stops all of it, in order: SIGINT (Ctrl-C), SIGTERM (to this process or
 * its group), SIGHUP (the terminal closed), and the death of its parent: `kill <npm's pid>` ends
 * npm and its shell but not this process, which notices that it was re-parented. Its children run
 * in their own process groups under watchdogs (scripts/lib/owned-process.ts), so a SIGKILL of this
 * process still ends them, and a Ctrl-C reaches them once, from here.
 */
import { parseStackSettings, SettingsError, stackHelpText } from './lib/stack/settings';
import { timestamped } from './lib/stack/log-streams';
import { JavaMissingError } from './lib/dynamodb-local';
import { createStack, StackStartError } from './lib/stack/stack';

// The SDK's notice that future releases need Node 22 is for maintainers (package.json engines),
// not for someone starting the local stack.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** Stopping must finish within this, whatever hangs. */
const STOP_DEADLINE_MS = 25_000;

// After SIGHUP the terminal is gone: writing to it must not kill the shutdown.
process.stdout.on('error', () => {});
process.stderr.on('error', () => {});
const print = timestamped((line) => process.stdout.write(`${line}\n`));

let settings;
try {
  settings = parseStackSettings(process.argv.slice(2), process.env);
} catch (error) {
  if (!(error instanceof SettingsError)) throw error;
  process.stderr.write(`npm start: ${error.message}\n`);
  process.exit(2);
}
if (settings === 'help') {
  process.stdout.write(`${stackHelpText()}\n`);
  process.exit(0);
}

const stack = createStack(settings, process.env, print);
let stopping: Promise<void> | undefined;

function shutdown(why: string, code = 0): Promise<void> {
  if (stopping) {
    print(`${why}: already stopping (it takes a few seconds)`);
    return stopping;
  }
  print(`${why}: stopping the local stack`);
  const deadline = setTimeout(() => {
    print(`not stopped within ${STOP_DEADLINE_MS / 1000} s: exiting (children end with this process)`);
    process.exit(1);
  }, STOP_DEADLINE_MS);
  deadline.unref();
  stopping = (async () => {
    await stack.stop();
    print('stopped');
    process.exit(code);
  })();
  return stopping;
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void shutdown(signal));
// npm forwards SIGTERM to its shell only, which dies and leaves us re-parented: that is our signal.
const parent = process.ppid;
const watchParent = setInterval(() => {
  if (process.ppid === parent) return;
  clearInterval(watchParent);
  void shutdown('parent process exited');
}, 500);
watchParent.unref();

try {
  await stack.start();
  if (!stopping) process.stdout.write(`\n${stack.banner()}\n\n`);
} catch (error) {
  if (error instanceof JavaMissingError || error instanceof StackStartError) process.stderr.write(`\nnpm start: ${error.message}\n\n`);
  else process.stderr.write(`\nnpm start: the local stack failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n\n`);
  await shutdown('start-up failed', 1);
}
// Keep running until a signal: the servers and timers hold the event loop open.
