/**
 * Figure 2: packets/s through the agent, L2TP/UDP -> TUN and TUN -> L2TP/UDP, at 64/512/1400-byte IP
 * packets with 1 and then 1,000 established sessions, against a bare relay (bare-relay.ts: the same
 * UDP and TUN adapters, no L2TP/PPP work) measured in the same run, rounds alternating.
 *
 *   to TUN:   simulator process blasts pre-built frames (UDP from the client's address to the pool
 *             gateway's discard port); counted by the TUN's rx_packets (what the kernel accepted).
 *   from TUN: this process sends UDP datagrams to the client addresses; the kernel routes them into
 *             the TUN; counted by the simulator's sessions as received IPv4 packets.
 * Everything stays on loopback and on the two TUNs the benchmark creates and removes.
 */
import { createSocket } from 'node:dgram';
import type { ChildRpc } from './child-rpc';
import { forkChild } from './child-rpc';
import { startAgentProcess, tunCounter, type AgentProcess } from './agent-process';
import { median, sleep } from './stats';
import { execFileSync } from 'node:child_process';
import { fixturePassword } from '../support/fixture-password';

export interface DataPathCase {
  readonly sessions: number;
  readonly size: number;
  readonly direction: 'to-tun' | 'from-tun';
  readonly agentPps: number;
  readonly relayPps: number;
  readonly ratio: number;
  readonly agentMbps: number;
  readonly relayMbps: number;
}

export interface DataPathOptions {
  readonly rounds: number;
  readonly seconds: number;
  readonly sizes: readonly number[];
  readonly sessionCounts: readonly number[];
}

const AGENT_NET = 201;
const RELAY_NET = 202;
const rel = (address: string) => address.replace(/^10\.201\./, `10.${RELAY_NET}.`);

/** UDP datagrams to `destinations`, round-robin, as fast as the loop allows, for `seconds`. */
async function inject(destinations: readonly string[], ipSize: number, seconds: number): Promise<{ sent: number; seconds: number }> {
  const socket = createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '0.0.0.0', () => r()));
  socket.setSendBufferSize(4 << 20);
  const payload = Buffer.alloc(ipSize - 28);
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  let sent = 0;
  let i = 0;
  while (performance.now() < end) {
    for (let k = 0; k < 256; k++) {
      socket.send(payload, 9, destinations[i]!);
      i = i + 1 === destinations.length ? 0 : i + 1;
    }
    sent += 256;
    await new Promise<void>((r) => setImmediate(r));
  }
  const elapsed = (performance.now() - t0) / 1000;
  await new Promise<void>((r) => socket.close(() => r()));
  return { sent, seconds: elapsed };
}

export async function benchDataPath(broker: ChildRpc, options: DataPathOptions, log: (line: string) => void): Promise<DataPathCase[]> {
  const info = await broker.call<{ url: string }>('info');
  const tenantId = `dp${Date.now().toString(36)}`;
  await broker.call('seed', { tenantId, cidr: `10.${AGENT_NET}.0.0/16`, users: ['bench'] });
  const { agentId, token } = await broker.call<{ agentId: string; token: string }>('enrol', { name: 'bench-dp' });
  const tunName = `tbbd${process.pid % 10000}`;
  const relayTun = `tbbr${process.pid % 10000}`;
  let agent: AgentProcess | undefined;
  let sim: ChildRpc | undefined;
  let relay: ChildRpc | undefined;
  const cases: DataPathCase[] = [];
  try {
    agent = await startAgentProcess({ brokerUrl: info.url, agentId, token, tunName });
    sim = await forkChild(new URL('./sim-child.ts', import.meta.url).pathname);
    relay = await forkChild(new URL('./bare-relay.ts', import.meta.url).pathname);
    const server = { address: '127.0.0.1', port: agent.port };
    const common = { server, username: `bench@${tenantId}`, password: fixturePassword('bench') };
    const first = await sim.call<{ ok: number; failed: number; gateway: string }>('open', { ...common, sessions: 1, sessionsPerTunnel: 1, tunnelsPerSource: 1, firstSource: 0 });
    if (first.ok !== 1) throw new Error(`data path: the first session did not come up (${JSON.stringify(first)})`);
    const gateway = first.gateway;
    const deadline = Date.now() + 15_000;
    while (!execFileSync('ip', ['route', 'show', 'dev', tunName]).toString().includes(`10.${AGENT_NET}.0.0/16`)) {
      if (Date.now() > deadline) throw new Error('the agent did not install its pool route');
      await sleep(100);
    }
    await sim.call('prepare', { size: 64, sessions: 1, destination: gateway });
    const client = await sim.call<{ address: string; port: number }>('client0');
    await relay.call('start', {
      tunName: relayTun,
      cidr: `10.${RELAY_NET}.0.0/16`,
      gateway: rel(gateway),
      listen: { address: '127.0.0.2', port: agent.port },
      client,
      headerHex: await sim.call<string>('header'),
    });

    let established = 1;
    for (const sessions of options.sessionCounts) {
      if (sessions > established) {
        const more = await sim.call<{ ok: number; failed: number; seconds: number }>('open', { ...common, sessions: sessions - established, sessionsPerTunnel: 25, tunnelsPerSource: 20, firstSource: 1, pendingBudget: 400 });
        log(`data path: ${more.ok} more sessions up in ${more.seconds.toFixed(1)} s (${more.failed} failed)`);
        established += more.ok;
      }
      const addresses = await sim.call<string[]>('addresses', { count: sessions });
      for (const size of options.sizes) {
        for (const direction of ['to-tun', 'from-tun'] as const) {
          const agentRounds: number[] = [];
          const relayRounds: number[] = [];
          for (let round = 0; round < options.rounds; round++) {
            for (const target of round % 2 === 0 ? ['agent', 'relay'] : ['relay', 'agent']) {
              const toRelay = target === 'relay';
              let pps: number;
              if (direction === 'to-tun') {
                await sim.call('prepare', { size, sessions, destination: toRelay ? rel(gateway) : gateway, ...(toRelay ? { rewriteSecondOctet: RELAY_NET } : {}) });
                const tun = toRelay ? relayTun : tunName;
                const before = tunCounter(tun, 'rx_packets');
                const blast = await sim.call<{ sent: number; seconds: number }>('blast', { seconds: options.seconds, ...(toRelay ? { relay: { address: '127.0.0.2', port: agent.port } } : {}) });
                await sleep(50);
                pps = (tunCounter(tun, 'rx_packets') - before) / blast.seconds;
              } else {
                await sim.call('countStart');
                const sent = await inject(toRelay ? addresses.map(rel) : addresses, size, options.seconds);
                await sleep(50);
                const counted = await sim.call<{ received: number }>('countStop');
                pps = counted.received / sent.seconds;
              }
              (toRelay ? relayRounds : agentRounds).push(pps);
            }
          }
          const agentPps = median(agentRounds);
          const relayPps = median(relayRounds);
          const c: DataPathCase = {
            sessions,
            size,
            direction,
            agentPps,
            relayPps,
            ratio: agentPps / relayPps,
            agentMbps: (agentPps * size * 8) / 1e6,
            relayMbps: (relayPps * size * 8) / 1e6,
          };
          log(`data path ${direction} ${size} B, ${sessions} sessions: agent ${Math.round(agentPps)} pps, relay ${Math.round(relayPps)} pps (x${c.ratio.toFixed(2)})`);
          cases.push(c);
        }
      }
    }
  } finally {
    await relay?.close();
    await sim?.close();
    await agent?.stop();
  }
  return cases;
}
