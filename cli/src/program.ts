/**
 * The command tree and the one place that turns what happened into an exit code and a message.
 * `runCli` takes its I/O and environment as arguments, so tests run it in-process as well as
 * through bin/tunnel-broker.js.
 */
import { Command, CommanderError } from 'commander';
import { createApiClient, type ApiClient, type FetchLike } from './api-client';
import { agentsCommand } from './commands/agents';
import { apiKeysCommand } from './commands/api-keys';
import { poolsCommand } from './commands/pools';
import { pskCommand } from './commands/psk';
import { sessionsCommand } from './commands/sessions';
import { tenantsCommand } from './commands/tenants';
import { usersCommand } from './commands/users';
import { resolveConfig, type ConfigFileReader } from './config';
import type { CliContext, CliIo } from './context';
import { ApiError, CliError } from './errors';
import { EXIT, type ExitCode } from './exit-codes';

export interface CliEnvironment {
  readonly io: CliIo;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly homeDir: string;
  readonly files: ConfigFileReader;
  readonly fetch?: FetchLike;
}

const EXIT_HELP = `
Configuration: BROKER_URL and TUNNEL_BROKER_TOKEN from the environment, else the config file
(TUNNEL_BROKER_CONFIG, default ~/.config/tunnel-broker/config.json, mode 0600). Never on the command line.

Exit codes: 0 ok, 1 the broker answered with an error, 2 usage error, 3 cannot reach the broker,
4 no usable configuration, 5 a --wait timed out, 6 some rows of a bulk import failed.
Docs: docs/cli.md`;

/** The whole command tree; `ctx.client()` is only called by commands that talk to the broker. */
export function buildProgram(ctx: CliContext): Command {
  const program = new Command('tunnel-broker')
    .description('operate a tunnel-broker fleet: tenants, pools, users, sessions, agents, API keys and the IPsec PSK')
    .option('--json', 'print JSON for scripts instead of tables')
    .showHelpAfterError('(add --help for usage)')
    .addHelpText('after', EXIT_HELP);
  for (const make of [tenantsCommand, poolsCommand, usersCommand, sessionsCommand, agentsCommand, apiKeysCommand, pskCommand]) {
    program.addCommand(make(ctx));
  }
  return program;
}

/** Every command of a tree as its word path (`users import`), for help tests and docs checks. */
export function commandPaths(command: Command, prefix: string[] = []): string[][] {
  return command.commands.flatMap((c) => {
    const path = [...prefix, c.name()];
    return c.commands.length ? commandPaths(c, path) : [path];
  });
}

/** Runs one command line (`argv` without node and the script) and returns its exit code. */
export async function runCli(argv: readonly string[], environment: CliEnvironment): Promise<ExitCode> {
  const { io } = environment;
  let client: ApiClient | undefined;
  const ctx: CliContext = {
    io,
    client: () => {
      client ??= createApiClient({ ...resolveConfig(environment.env, environment.homeDir, environment.files), ...(environment.fetch ? { fetch: environment.fetch } : {}) });
      return client;
    },
  };
  const program = buildProgram(ctx);
  const applyOutput = (cmd: Command) => {
    cmd.exitOverride().configureOutput({
      writeOut: (text) => void io.stdout.write(text),
      writeErr: (text) => void io.stderr.write(text),
    });
    cmd.commands.forEach(applyOutput);
  };
  applyOutput(program);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    return report(io, error);
  }
}

function report(io: CliIo, error: unknown): ExitCode {
  if (error instanceof CommanderError) {
    // Help ends through exitOverride too (exit code 0); a parse error, or a command group given no
    // subcommand (its help is printed as an error), has already been printed: a usage error.
    return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  if (error instanceof CliError) {
    io.stderr.write(`error: ${error.message}\n`);
    if (error instanceof ApiError && error.requestId) io.stderr.write(`request id: ${error.requestId}\n`);
    if (error.hint) io.stderr.write(`hint: ${error.hint}\n`);
    return error.exitCode;
  }
  io.stderr.write(`error: unexpected fault: ${error instanceof Error ? error.stack ?? error.message : String(error)}\nhint: this is a bug in the CLI; please report it\n`);
  return EXIT.apiError;
}
