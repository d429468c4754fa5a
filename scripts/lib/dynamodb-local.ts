/**
 * Starts and stops DynamoDB Local, the official engine shipped in the amplify-dynamodb-simulator
 * package. Used by the local stack (`npm start`) and by the test run (`npm test`).
 *
 * Java runs under the owned-process watchdog (scripts/lib/owned-process.ts), so no orphaned JVM
 * survives its owner, even a SIGKILLed one.
 *
 * DynamoDB Local listens on every interface and has no option to bind one address, and its table
 * holds secrets (users' sealed credentials, agent token hashes). With `isolate`, it runs in a
 * network namespace of its own that has nothing but a loopback interface, so no other host can
 * reach it whatever the firewall says; a bridge inside that namespace accepts connections on a
 * Unix socket (mode 600), and a proxy on the host's 127.0.0.1 forwards to that socket. Root uses a
 * plain network namespace; other users a user namespace mapped to themselves (`unshare -rn`).
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { spawnOwned, type OwnedProcess } from './owned-process';
import { startTcpToUnixProxy, type TcpToUnixProxy } from './tcp-to-unix-proxy';

export interface DynamoDbLocal {
  readonly endpoint: string;
  readonly port: number;
  /** True when it runs in its own network namespace (reachable from this host only). */
  readonly isolated: boolean;
  stop(): Promise<void>;
}

export interface DynamoDbLocalOptions {
  /** Keep data in this directory; in memory when undefined. */
  readonly dataDir?: string;
  /** Port to listen on (on 127.0.0.1 when isolated); a free one when undefined. */
  readonly port?: number;
  /** Run it in a network namespace of its own, reachable through 127.0.0.1:port only. @default false */
  readonly isolate?: boolean;
  readonly startTimeoutMs?: number;
  readonly onLog?: (line: string) => void;
}

export class JavaMissingError extends Error {
  constructor(detail: string) {
    super(
      `DynamoDB Local needs Java 11 or newer, and ${detail}. ` +
        'Install it with: sudo apt-get install -y openjdk-17-jre-headless',
    );
    this.name = 'JavaMissingError';
  }
}

/** Checks `java -version` and returns the major version, or throws JavaMissingError. */
export function checkJava(): number {
  const probe = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (probe.error) throw new JavaMissingError('`java` was not found on PATH');
  const text = `${probe.stderr}${probe.stdout}`;
  const match = /version "(\d+)(?:\.(\d+))?/.exec(text);
  if (!match) throw new JavaMissingError(`\`java -version\` printed something unexpected: ${text.trim()}`);
  const major = match[1] === '1' ? Number(match[2]) : Number(match[1]);
  if (major < 11) throw new JavaMissingError(`the installed Java is version ${major}`);
  return major;
}

/** Directory of the bundled DynamoDBLocal.jar. */
export function emulatorDirectory(): string {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve('amplify-dynamodb-simulator/package.json');
  return join(dirname(pkg), 'emulator');
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/** True once an HTTP request through `endpoint` gets any answer from DynamoDB Local. */
async function answers(endpoint: string): Promise<boolean> {
  try {
    await fetch(endpoint, { signal: AbortSignal.timeout(2_000) });
    return true;
  } catch {
    return false;
  }
}

/** DynamoDB Local's port inside its own namespace (nothing else listens there). */
const PORT_IN_NAMESPACE = 8000;
const BRIDGE = join(dirname(fileURLToPath(import.meta.url)), 'netns-bridge.mjs');
/** Brings up loopback in the new namespace, starts the bridge, then becomes java. */
const IN_NAMESPACE = [
  'ip link set lo up || { echo "cannot bring up loopback in the new network namespace" >&2; exit 97; }',
  '"$NODE" "$BRIDGE" "$SOCKET" "$PORT_IN_NAMESPACE" &',
  'exec "$@"',
].join('\n');

/** The command that runs java: directly, or inside a new network namespace. */
function javaCommand(javaArgs: string[], isolation: { socketPath: string } | undefined): { command: string; args: string[]; env: NodeJS.ProcessEnv } {
  if (!isolation) return { command: 'java', args: javaArgs, env: process.env };
  const unshare = process.getuid?.() === 0 ? ['--net'] : ['--user', '--map-root-user', '--net'];
  return {
    command: 'unshare',
    args: [...unshare, '--', 'sh', '-c', IN_NAMESPACE, 'dynamodb-local', 'java', ...javaArgs],
    env: {
      ...process.env,
      PATH: `${process.env.PATH ?? '/usr/bin:/bin'}:/usr/sbin:/sbin`,
      NODE: process.execPath,
      BRIDGE,
      SOCKET: isolation.socketPath,
      PORT_IN_NAMESPACE: String(PORT_IN_NAMESPACE),
    },
  };
}

/** Starts DynamoDB Local and resolves once it answers HTTP. */
export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  checkJava();
  const emulator = emulatorDirectory();
  const isolate = options.isolate ?? false;
  const runDir = isolate ? mkdtempSync(join(tmpdir(), 'dynamodb-local-')) : undefined;
  const socketPath = runDir ? join(runDir, 'dynamodb.sock') : undefined;
  const javaPort = isolate ? PORT_IN_NAMESPACE : options.port || (await freePort());
  const javaArgs = [
    `-Djava.library.path=${join(emulator, 'DynamoDBLocal_lib')}`,
    '-Xmx512m',
    '-jar',
    join(emulator, 'DynamoDBLocal.jar'),
    '-port',
    String(javaPort),
    '-sharedDb',
  ];
  if (options.dataDir) {
    const dir = resolve(options.dataDir);
    mkdirSync(dir, { recursive: true });
    javaArgs.push('-dbPath', dir);
  } else {
    javaArgs.push('-inMemory');
  }
  const { command, args, env } = javaCommand(javaArgs, socketPath ? { socketPath } : undefined);
  const owned: OwnedProcess = spawnOwned(command, args, { env });
  const log = options.onLog ?? (() => {});
  const recent: string[] = [];
  const onLine = (line: string) => {
    recent.push(line);
    if (recent.length > 20) recent.shift();
    log(line);
  };
  owned.child.stdout?.setEncoding('utf8').on('data', (d: string) => d.split('\n').filter(Boolean).forEach(onLine));
  owned.child.stderr?.setEncoding('utf8').on('data', (d: string) => d.split('\n').filter(Boolean).forEach(onLine));

  let proxy: TcpToUnixProxy | undefined;
  const cleanUp = async () => {
    await owned.stop(5_000);
    await proxy?.close();
    if (runDir) rmSync(runDir, { recursive: true, force: true });
  };
  try {
    if (socketPath) proxy = await startTcpToUnixProxy({ host: '127.0.0.1', port: options.port ?? 0, socketPath });
    const port = proxy?.port ?? javaPort;
    const endpoint = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
    while (!(await answers(endpoint))) {
      if (owned.gone()) {
        const why = recent.length > 0 ? `: ${recent.slice(-3).join(' | ')}` : '';
        const hint = isolate ? ' (it runs in its own network namespace: this needs `unshare` from util-linux and, without root, unprivileged user namespaces)' : '';
        throw new Error(`DynamoDB Local exited during start-up (exit ${await owned.exited})${why}${hint}`);
      }
      if (Date.now() > deadline) throw new Error(`DynamoDB Local did not answer on ${endpoint} within the start timeout`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return { endpoint, port, isolated: isolate, stop: cleanUp };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}
