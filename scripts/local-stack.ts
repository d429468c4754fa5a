/**
 * `npm start`: the whole product on one machine.
 *   1. DynamoDB Local (the official engine), data under ./.data/dynamodb (or --in-memory)
 *   2. the table, created/updated from the same definition the CDK stack uses
 *   3. the broker API (the same Hono app Lambda runs) on http://127.0.0.1:8787 (HOST/PORT override)
 *   4. one edge agent enrolled with that broker (needs root for its TUN device; --no-agent skips it)
 * Ctrl-C or SIGTERM stops everything, the JVM and the agent included.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pino from 'pino';
import { createApp } from '../functions/src/app';
import { parseConfig } from '../functions/src/config';
import { startLocalServer } from '../functions/src/entry/local-server';
import { systemClock } from '../functions/src/domain/types';
import { createDynamoClient } from '../functions/src/store/dynamo/client';
import { ensureTable } from '../functions/src/store/dynamo/ensure-table';
import { DynamoStore } from '../functions/src/store/dynamo';
import { DEFAULT_TABLE_NAME } from '../functions/src/store/table-definition';
import { freePort, JavaMissingError, startDynamoDbLocal, type DynamoDbLocal } from './lib/dynamodb-local';
import { startLocalAgent, type LocalAgent } from './lib/local-agent';

// The SDK's notice that future releases need Node 22 is for maintainers (package.json engines),
// not for someone starting the local stack.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const args = new Set(process.argv.slice(2));
if (args.has('--help') || args.has('-h')) {
  console.log(`Usage: npm start [-- --in-memory] [-- --no-agent]

  --in-memory   keep DynamoDB data in memory (default: persisted under ./.data/dynamodb)
  --no-agent    do not start the local edge agent

Environment: HOST (default 127.0.0.1), PORT (default 8787), BROKER_ADMIN_TOKEN, DATA_KEYS,
DYNAMODB_PORT (default 8000, or a free port when taken), LOG_LEVEL.`);
  process.exit(0);
}

const dataDir = resolve(process.env.DATA_DIR ?? '.data');
mkdirSync(dataDir, { recursive: true });
const logger = pino({ level: process.env.LOG_LEVEL ?? 'info' });

/** Reads a secret kept under .data, or generates and stores it (mode 600) the first time. */
function persistentSecret(file: string, generate: () => string): { value: string; generated: boolean } {
  const path = join(dataDir, file);
  if (existsSync(path)) return { value: readFileSync(path, 'utf8').trim(), generated: false };
  const value = generate();
  writeFileSync(path, `${value}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
  return { value, generated: true };
}

let dynamo: DynamoDbLocal | undefined;
let closeServer: (() => Promise<void>) | undefined;
let agent: LocalAgent | undefined;
let stopping = false;

async function shutdown(signal: string, code = 0): Promise<never> {
  if (!stopping) {
    stopping = true;
    logger.info({ signal }, 'stopping the local stack');
    await agent?.stop().catch((error: unknown) => logger.warn({ err: error }, 'agent stop failed'));
    await closeServer?.().catch(() => {});
    await dynamo?.stop();
  }
  process.exit(code);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));

try {
  const inMemory = args.has('--in-memory');
  const requestedPort = Number(process.env.DYNAMODB_PORT ?? 8000);
  dynamo = await startDynamoDbLocal({
    port: (await isPortFree(requestedPort)) ? requestedPort : await freePort(),
    ...(inMemory ? {} : { dataDir: join(dataDir, 'dynamodb') }),
  });

  const admin = process.env.BROKER_ADMIN_TOKEN
    ? { value: process.env.BROKER_ADMIN_TOKEN, generated: false }
    : persistentSecret('admin-token', () => `tbadmin_${randomBytes(24).toString('base64url')}`);
  const dataKeys = process.env.DATA_KEYS
    ? { value: process.env.DATA_KEYS, generated: false }
    : persistentSecret('data-keys', () => `local1:${randomBytes(32).toString('base64')}`);

  const config = parseConfig({
    ...process.env,
    BROKER_ADMIN_TOKEN: admin.value,
    DATA_KEYS: dataKeys.value,
    DYNAMODB_ENDPOINT: dynamo.endpoint,
    TABLE_NAME: process.env.TABLE_NAME ?? DEFAULT_TABLE_NAME,
  });
  const client = createDynamoClient({ endpoint: dynamo.endpoint });
  const tableOutcome = await ensureTable(client, config.tableName);
  const store = new DynamoStore({ client, tableName: config.tableName });
  const app = createApp({ store, clock: systemClock, logger, config });

  const host = process.env.HOST ?? '127.0.0.1';
  const port = Number(process.env.PORT ?? 8787);
  closeServer = await startLocalServer({ app, host, port });
  const apiUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const reachableUrl = host === '0.0.0.0' ? `http://127.0.0.1:${port}` : apiUrl;

  if (!args.has('--no-agent')) {
    agent = await startLocalAgent({ brokerUrl: reachableUrl, adminToken: admin.value, dataDir, logger });
  }

  console.log(`
tunnel-broker local stack is running
  DynamoDB Local   ${dynamo.endpoint}  (table ${config.tableName}, ${tableOutcome}; ${inMemory ? 'in memory' : `data in ${join(dataDir, 'dynamodb')}`})
  Broker API       ${apiUrl}  (docs: ${reachableUrl}/docs)
  Admin token      ${admin.generated ? `${admin.value}  (new; saved in ${join(dataDir, 'admin-token')})` : `from ${process.env.BROKER_ADMIN_TOKEN ? 'BROKER_ADMIN_TOKEN' : join(dataDir, 'admin-token')}`}
  Edge agent       ${agent ? agent.describe() : 'not started (--no-agent)'}

Next: in another terminal, follow README.md "Try it" to create a tenant, a pool and a user:
  export TOKEN=$(cat ${join(dataDir, 'admin-token')})
  curl -s ${reachableUrl}/healthz
Press Ctrl-C to stop everything.
`);
} catch (error) {
  if (error instanceof JavaMissingError) {
    console.error(`\n${error.message}\n`);
  } else {
    logger.fatal({ err: error }, 'local stack failed to start');
  }
  await shutdown('startup-failure', 1);
}

async function isPortFree(port: number): Promise<boolean> {
  const { createServer } = await import('node:net');
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen(port, '127.0.0.1', () => server.close(() => done(true)));
  });
}
