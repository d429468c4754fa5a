/**
 * `edge-agent` command line: configuration from flags and environment (see --help), JSON logs on
 * stdout. Exit codes: 0 after a graceful shutdown (SIGTERM/SIGINT), 2 for a configuration error,
 * 1 for a setup failure (TUN permission, port in use, ...), each with one line on stderr.
 */
import pino from 'pino';
import { ConfigError, helpText, loadAgentConfig, parseArgs, type AgentConfig } from './config';
import { logDestination } from './io/log-destination';
import { launchAgent } from './runtime/launch';

function fail(code: number, message: string): never {
  process.stderr.write(`edge-agent: ${message}\n`);
  process.exit(code);
}

async function main(): Promise<void> {
  let config: AgentConfig;
  try {
    const args = parseArgs(process.argv.slice(2));
    if (args.help) {
      process.stdout.write(`${helpText()}\n`);
      process.exit(0);
    }
    config = loadAgentConfig(args, process.env);
  } catch (error) {
    if (error instanceof ConfigError) fail(2, error.message);
    throw error;
  }
  const logger = pino({ level: config.logLevel, base: { service: 'edge-agent' } }, logDestination(1));
  let agent;
  try {
    agent = await launchAgent(config, logger);
  } catch (error) {
    fail(1, error instanceof Error ? error.message : String(error));
  }
  let signals = 0;
  const stop = (signal: string) => {
    if (++signals > 1) fail(1, `second ${signal}: exiting without a clean shutdown`);
    logger.info({ signal }, 'shutdown requested');
    agent.shutdown().then(
      () => process.exit(0),
      (error) => fail(1, `shutdown failed: ${error instanceof Error ? error.message : String(error)}`),
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error) => fail(1, `unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`));
