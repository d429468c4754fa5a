/**
 * The local stack's edge agent: enrolled once with the local broker (credential kept in
 * .data/agent.json, mode 600), then run as a child process of `npm start`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';

export interface LocalAgent {
  describe(): string;
  stop(): Promise<void>;
}

interface Enrolment {
  readonly agentId: string;
  readonly token: string;
  readonly brokerUrl: string;
}

export interface LocalAgentOptions {
  readonly brokerUrl: string;
  readonly adminToken: string;
  readonly dataDir: string;
  readonly logger: Logger;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

async function enrol(options: LocalAgentOptions): Promise<Enrolment> {
  const file = join(options.dataDir, 'agent.json');
  if (existsSync(file)) {
    const saved = JSON.parse(readFileSync(file, 'utf8')) as Enrolment;
    const check = await fetch(`${options.brokerUrl}/v1/agents`, {
      headers: { authorization: `Bearer ${options.adminToken}` },
    });
    const listed = (await check.json()) as { items?: { agentId: string; revoked?: boolean }[] };
    if (listed.items?.some((a) => a.agentId === saved.agentId && !a.revoked)) return saved;
  }
  const response = await fetch(`${options.brokerUrl}/v1/agents`, {
    method: 'POST',
    headers: { authorization: `Bearer ${options.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'local-agent', region: 'local', capacity: 1000 }),
  });
  if (!response.ok) throw new Error(`enrolling the local agent failed: HTTP ${response.status} ${await response.text()}`);
  const created = (await response.json()) as { agentId: string; token: string };
  const enrolment = { agentId: created.agentId, token: created.token, brokerUrl: options.brokerUrl };
  writeFileSync(file, JSON.stringify(enrolment, null, 2), { mode: 0o600 });
  return enrolment;
}

/**
 * Enrols and starts the agent. Without root (no CAP_NET_ADMIN for the TUN device) it says why
 * and how, and the rest of the stack keeps running.
 */
export async function startLocalAgent(options: LocalAgentOptions): Promise<LocalAgent | undefined> {
  const env = options.env ?? process.env;
  if (process.getuid?.() !== 0) {
    options.logger.warn(
      'the local edge agent needs root (CAP_NET_ADMIN) for its TUN device; run `sudo npm start` to include it',
    );
    return undefined;
  }
  const enrolment = await enrol(options);
  const listen = env.AGENT_L2TP_LISTEN ?? '0.0.0.0:1701';
  const cli = resolve('bin/edge-agent.js');
  const child: ChildProcess = spawn(process.execPath, [cli], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: {
      ...env,
      BROKER_URL: enrolment.brokerUrl,
      AGENT_ID: enrolment.agentId,
      AGENT_TOKEN: enrolment.token,
      L2TP_LISTEN: listen,
      TUN_NAME: env.AGENT_TUN_NAME ?? 'tbr0',
      IPSEC: env.AGENT_IPSEC ?? 'off',
      ALLOW_PLAIN_L2TP: env.AGENT_IPSEC === 'strongswan' ? 'false' : 'true',
      STATE_DIR: join(options.dataDir, 'agent-state'),
      PUBLIC_ADDRESS: env.AGENT_PUBLIC_ADDRESS ?? '127.0.0.1',
    },
  });
  let exited = false;
  const exit = new Promise<void>((done) =>
    child.once('exit', (code, signal) => {
      exited = true;
      if (code !== 0 && signal !== 'SIGTERM') options.logger.error({ code, signal }, 'the local edge agent exited');
      done();
    }),
  );
  return {
    describe: () => `${enrolment.agentId} listening for L2TP on udp ${listen} (IPsec ${env.AGENT_IPSEC ?? 'off'})`,
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exit;
      clearTimeout(timer);
    },
  };
}
