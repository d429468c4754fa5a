/**
 * The second agent, in the `cloud` namespace behind the `igw` namespace's 1:1 NAT, and the host
 * state its cloud NAT mode leaves (dummy link, iptables chains). Scenarios call `ensure(mode)`, so
 * each one runs against the mode it needs whatever ran before (and on a retry).
 */
import type { Guest } from './guest';
import { killAgent, startServer, stopAgent, type AgentLaunch } from './server';

export type CloudNatMode = 'on' | 'off';

export interface CloudNatHostState {
  /** `<iptables>-save -t nat` lines that mention the agent's chains. */
  readonly rules: readonly string[];
  /** IPv4 addresses on the agent's dummy link (`tb-public`); empty when the link is gone. */
  readonly addresses: readonly string[];
  readonly linkExists: boolean;
}

export interface CloudAgent {
  readonly agentId: string;
  /** The iptables program the agent was told to use (and the harness reads the rules with). */
  readonly iptables: string;
  /** Mode of the running agent, or undefined when it is stopped. */
  readonly mode: CloudNatMode | undefined;
  /** Starts it in `mode` unless it already runs so; resolves with the start time in ms (0: already running). */
  ensure(mode: CloudNatMode): Promise<number>;
  /** Set when a start had to be repeated because the agent crashed (server.ts, startServer). */
  readonly crashes: readonly string[];
  /** SIGTERM: a clean stop (the agent removes its cloud NAT set-up). */
  stop(): Promise<void>;
  /** SIGKILL: a crash (the set-up stays behind). */
  kill(): Promise<void>;
  hostState(): Promise<CloudNatHostState>;
}

export function createCloudAgent(guest: Guest, launch: Omit<AgentLaunch, 'site' | 'cloudNat' | 'iptables'>, iptables: string): CloudAgent {
  let mode: CloudNatMode | undefined;
  const crashes: string[] = [];
  const agent: CloudAgent = {
    crashes,
    agentId: launch.agentId,
    iptables,
    get mode() {
      return mode;
    },
    async ensure(wanted) {
      if (mode === wanted) return 0;
      if (mode !== undefined) await agent.stop();
      const { agentReadyMs, crashedAtStart } = await startServer(guest, { ...launch, site: 'cloud', cloudNat: wanted, iptables });
      if (crashedAtStart) crashes.push(crashedAtStart);
      mode = wanted;
      return agentReadyMs;
    },
    async stop() {
      await stopAgent(guest, 'cloud');
      mode = undefined;
    },
    async kill() {
      await killAgent(guest, 'cloud');
      mode = undefined;
    },
    async hostState() {
      const out = await guest.must(
        'cloud',
        `${iptables}-save -t nat 2>/dev/null | grep TB-CLOUD-NAT; echo ---
         ip -4 -o address show dev tb-public 2>/dev/null | awk '{print $4}'; echo ---
         ip link show tb-public >/dev/null 2>&1 && echo link; true`,
      );
      const [rules = '', addresses = '', link = ''] = out.split('---\n');
      const lines = (text: string) => text.split('\n').map((l) => l.trim()).filter(Boolean);
      return { rules: lines(rules), addresses: lines(addresses), linkExists: link.trim() === 'link' };
    },
  };
  return agent;
}
