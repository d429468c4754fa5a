/**
 * Request/response over the IPC channel of a forked TypeScript child (run through tsx), so the
 * benchmark can keep the broker, the agent's traffic generator and the bare relay in processes of
 * their own: each then has a whole event loop, as it would in production.
 */
import { fork, type ChildProcess } from 'node:child_process';

export interface ChildRpc {
  readonly child: ChildProcess;
  call<T = unknown>(command: string, args?: Record<string, unknown>): Promise<T>;
  /** Asks the child to exit; kills it after `graceMs`. */
  close(graceMs?: number): Promise<void>;
}

interface Reply {
  readonly id: number;
  readonly ok: boolean;
  readonly value?: unknown;
  readonly error?: string;
}

/** Forks `modulePath` under tsx and resolves once it reports `ready`. */
export async function forkChild(modulePath: string, options: { env?: Record<string, string>; execArgv?: string[] } = {}): Promise<ChildRpc> {
  const child = fork(modulePath, [], {
    execArgv: ['--import', 'tsx', ...(options.execArgv ?? [])],
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let exited = false;
  child.on('message', (m: Reply | { ready: true }) => {
    if ('ready' in m) return;
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.ok) p.resolve(m.value);
    else p.reject(new Error(`${modulePath}: ${m.error}`));
  });
  const exit = new Promise<void>((done) =>
    child.once('exit', (code, signal) => {
      exited = true;
      for (const p of pending.values()) p.reject(new Error(`${modulePath} exited (${code ?? signal})`));
      pending.clear();
      done();
    }),
  );
  await new Promise<void>((resolve, reject) => {
    const onMessage = (m: unknown) => {
      if (typeof m === 'object' && m !== null && 'ready' in m) {
        child.off('message', onMessage);
        resolve();
      }
    };
    child.on('message', onMessage);
    child.once('exit', (code) => reject(new Error(`${modulePath} exited during start-up (${code})`)));
  });
  return {
    child,
    call<T>(command: string, args: Record<string, unknown> = {}) {
      if (exited) return Promise.reject(new Error(`${modulePath} is not running`));
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        child.send({ id, command, args });
      });
    },
    async close(graceMs = 10_000) {
      if (exited) return;
      child.send({ id: 0, command: 'exit', args: {} });
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exit;
      clearTimeout(timer);
    },
  };
}

type Handler = (args: Record<string, unknown>) => Promise<unknown> | unknown;

/** Child side: serves `handlers` over IPC, then `onExit` on the `exit` command. */
export function serveRpc(handlers: Record<string, Handler>, onExit: () => Promise<void>): void {
  process.on('message', async (m: { id: number; command: string; args: Record<string, unknown> }) => {
    if (m.command === 'exit') {
      await onExit().catch((error) => console.error(error));
      process.exit(0);
    }
    const handler = handlers[m.command];
    try {
      if (!handler) throw new Error(`unknown command ${m.command}`);
      const value = await handler(m.args);
      process.send?.({ id: m.id, ok: true, value });
    } catch (error) {
      process.send?.({ id: m.id, ok: false, error: error instanceof Error ? error.stack ?? error.message : String(error) });
    }
  });
  // The parent going away (crash, Ctrl-C) must not leave children holding TUNs and ports.
  process.on('disconnect', () => {
    onExit().finally(() => process.exit(0));
  });
  process.send?.({ ready: true });
}
