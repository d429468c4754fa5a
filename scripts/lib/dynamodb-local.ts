/**
 * Starts and stops DynamoDB Local, the official engine shipped in the amplify-dynamodb-simulator
 * package. Used by the local stack (`npm start`) and by the test run (`npm test`).
 *
 * Java runs under a small shell watchdog that kills it when this Node process goes away, even
 * on SIGKILL, so no orphaned JVM survives its owner.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createServer, connect } from 'node:net';

export interface DynamoDbLocal {
  readonly endpoint: string;
  readonly port: number;
  stop(): Promise<void>;
}

export interface DynamoDbLocalOptions {
  /** Keep data in this directory; in memory when undefined. */
  readonly dataDir?: string;
  /** Port to listen on; a free one when undefined. */
  readonly port?: number;
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

function canConnect(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });
}

/** Starts DynamoDB Local and resolves once it accepts connections. */
export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  checkJava();
  const port = options.port ?? (await freePort());
  const emulator = emulatorDirectory();
  const javaArgs = [
    `-Djava.library.path=${join(emulator, 'DynamoDBLocal_lib')}`,
    '-Xmx512m',
    '-jar',
    join(emulator, 'DynamoDBLocal.jar'),
    '-port',
    String(port),
    '-sharedDb',
  ];
  if (options.dataDir) {
    const dir = resolve(options.dataDir);
    mkdirSync(dir, { recursive: true });
    javaArgs.push('-dbPath', dir);
  } else {
    javaArgs.push('-inMemory');
  }
  // The watchdog shell: exits (killing java) when the owner process or java is gone.
  const quoted = javaArgs.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const script = [
    `java ${quoted} & J=$!`,
    `trap 'kill $J 2>/dev/null; wait $J; exit 0' TERM INT`,
    `while kill -0 ${process.pid} 2>/dev/null && kill -0 $J 2>/dev/null; do sleep 0.5; done`,
    `kill $J 2>/dev/null; wait $J`,
  ].join('\n');
  const child: ChildProcess = spawn('sh', ['-c', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  const log = options.onLog ?? (() => {});
  child.stdout?.setEncoding('utf8').on('data', (d: string) => d.split('\n').filter(Boolean).forEach(log));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => d.split('\n').filter(Boolean).forEach(log));
  let exited = false;
  const exitPromise = new Promise<void>((done) => child.once('exit', () => ((exited = true), done())));

  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  while (!(await canConnect(port))) {
    if (exited) throw new Error(`DynamoDB Local exited during start-up (port ${port})`);
    if (Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new Error(`DynamoDB Local did not accept connections on port ${port} within the start timeout`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exitPromise;
      clearTimeout(timer);
    },
  };
}
