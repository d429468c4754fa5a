/**
 * Test fleet on one machine: the production broker (DynamoDB Local) listening on 0.0.0.0 so every
 * agent namespace reaches it through its own veth, a seeded tenant, the netns launcher and the
 * local scaling provider over it. Root only (see netnsSkipReason).
 */
import { startLiveBroker, type LiveBroker } from '../../support/live-broker';
import { createNetns } from '../../../scripts/lib/netns';
import { LocalScalingProvider } from '../../../functions/src/domain/autoscaling';
import { adminApiEnroller, NetnsAgentLauncher, type NetnsAgent } from '../../../scripts/lib/netns-agent-launcher';
import { openTunnels, type SimulatorRun } from '../../simulator';
import { fixturePassword } from '../../support/fixture-password';

export const TENANT = 'acme';

export interface LocalFleet {
  readonly broker: LiveBroker;
  readonly launcher: NetnsAgentLauncher;
  readonly provider: LocalScalingProvider;
  /** The launched agent with this id. */
  agent(agentId: string): NetnsAgent;
  /** One simulated client (1 tunnel, 1 session) from the host end of that agent's veth. */
  connect(agentId: string, username?: string): Promise<SimulatorRun>;
  /** Last log lines of an agent, for failure messages. */
  logTail(agentId: string, lines?: number): string;
  close(): Promise<void>;
}

export async function startLocalFleet(options: { capacity: number; cidr?: string; users?: string[] }): Promise<LocalFleet> {
  const broker = await startLiveBroker({ host: '0.0.0.0' });
  const logs = new Map<string, string[]>();
  const runs: SimulatorRun[] = [];
  try {
    await broker.seedTenant(TENANT, { cidr: options.cidr ?? '10.8.0.0/24', users: options.users ?? ['alice'], authMethods: ['mschapv2', 'chap-md5', 'pap'] });
    const port = Number(new URL(broker.url).port);
    const launcher = new NetnsAgentLauncher({
      createNamespace: (label) => createNetns(label),
      enrol: adminApiEnroller(broker.url, broker.adminToken, { capacity: options.capacity }),
      brokerPort: port,
      capacity: options.capacity,
      readyTimeoutMs: 60_000,
      onLog: (agentId, line) => {
        const list = logs.get(agentId) ?? [];
        list.push(JSON.stringify(line));
        if (list.length > 200) list.shift();
        logs.set(agentId, list);
      },
    });
    const provider = new LocalScalingProvider({ launcher, namePrefix: 'fleet' });
    const agent = (agentId: string) => {
      const found = launcher.launched.get(agentId);
      if (!found) throw new Error(`no launched agent ${agentId}`);
      return found;
    };
    return {
      broker,
      launcher,
      provider,
      agent,
      async connect(agentId, username = 'alice') {
        const a = agent(agentId);
        const run = await openTunnels({
          server: { address: a.address, port: 1701 },
          localAddress: a.namespace.hostAddress,
          tunnels: 1,
          sessionsPerTunnel: 1,
          credentials: () => ({ username: `${username}@${TENANT}`, password: fixturePassword(username), method: 'mschapv2' }),
          timeouts: { setupMs: 20_000, closeMs: 2_000, echoIntervalMs: 0 },
        });
        runs.push(run);
        return run;
      },
      logTail: (agentId, lines = 30) => (logs.get(agentId) ?? []).slice(-lines).join('\n'),
      async close() {
        await Promise.allSettled(runs.map((r) => r.close()));
        await provider.close();
        for (const a of launcher.launched.values()) await a.stop().catch(() => undefined);
        await broker.close();
      },
    };
  } catch (error) {
    await Promise.allSettled(runs.map((r) => r.close()));
    await broker.close();
    throw error;
  }
}

