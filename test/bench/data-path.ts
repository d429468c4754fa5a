/**
 * Figure 2: packets/s through the agent, L2TP/UDP -> TUN and TUN -> L2TP/UDP, at 64/512/1400-byte IP
 * packets with 1 and then 1,000 established sessions, against a bare relay (bare-relay.ts: the same
 * UDP and TUN adapters, no L2TP/PPP work) measured in the same run, rounds alternating.
 *
 * `marks` runs one agent per L2TP_MARKS setting at once (each with its own simulator, tenant,
 * pool and TUN) and measures them in the same rounds as the relay, the order rotating per round:
 * `['off', 'auto']` compares node:dgram with the marked socket (recvmmsg/sendmmsg through koffi).
 *
 *   to TUN:   simulator process blasts pre-built frames (UDP from the client's address to the pool
 *             gateway's discard port); counted by the TUN's rx_packets (what the kernel accepted).
 *   from TUN: this process sends UDP to the client addresses (injector.ts: by default UDP GSO
 *             super-datagrams, as a download arrives after a NIC's GRO; `packets`: one datagram per
 *             packet); the kernel routes them into the TUN, whole where the TUN has offloads,
 *             segmented where not; counted by the simulator's sessions as received IPv4 packets.
 * Everything stays on loopback and on the two TUNs the benchmark creates and removes.
 */
import type { ChildRpc } from './child-rpc';
import { forkChild } from './child-rpc';
import { startAgentProcess, tunCounter, type AgentProcess } from './agent-process';
import { median, sleep } from './stats';
import { execFileSync } from 'node:child_process';
import { fixturePassword } from '../support/fixture-password';
import { KERNEL_NET, startKernelForward, type KernelForward } from './kernel-forward';
import { gsoSegments, inject, type InjectMode } from './injector';

/** The agent's L2TP_MARKS: `auto` = the marked socket where the host can (the default), `off` = node:dgram. */
export type MarksSetting = 'off' | 'auto';

export interface DataPathCase {
  readonly marks: MarksSetting;
  /** `current`: this checkout's agent; `before`: the agent of the `before` checkout, same rounds. */
  readonly agent: 'current' | 'before';
  readonly sessions: number;
  readonly size: number;
  readonly direction: 'to-tun' | 'from-tun';
  readonly agentPps: number;
  readonly relayPps: number;
  readonly ratio: number;
  readonly agentMbps: number;
  readonly relayMbps: number;
  /**
   * The kernel forwarding between two namespaces (kernel-forward.ts), same rounds: the from-TUN
   * case's traffic, or single datagrams for the to-TUN case.
   */
  readonly kernelPps: number;
  readonly kernelMbps: number;
  /** agentPps / kernelPps. */
  readonly ratioToKernel: number;
}

type MeasuredCase = Omit<DataPathCase, 'kernelPps' | 'kernelMbps' | 'ratioToKernel'>;

export interface DataPathOptions {
  readonly rounds: number;
  readonly seconds: number;
  readonly sizes: readonly number[];
  readonly sessionCounts: readonly number[];
  /** One agent per setting, measured in the same rounds (default: one agent, L2TP_MARKS=auto). */
  readonly marks?: readonly MarksSetting[];
  /**
   * Another checkout (e.g. a worktree of the commit before a change): its agent runs too, with
   * L2TP_MARKS=auto, measured in the same rounds as this one's and the relay (the machine's load
   * swings the figures of separate runs more than most changes move them).
   */
  readonly before?: string;
  /** Node flags of the agent children (`--profile=DIR`). */
  readonly nodeArgs?: readonly string[];
  /** The from-TUN traffic (injector.ts): GSO super-datagrams or single packets. */
  readonly inject: InjectMode;
}

const AGENT_NET = 201;
const RELAY_NET = 202;
/** Pools of the further agents of a `marks` comparison (density uses 10.203). */
const OTHER_AGENT_NETS = [204, 205];
const rel = (address: string) => address.replace(/^10\.201\./, `10.${RELAY_NET}.`);
const kern = (address: string) => address.replace(/^10\.201\./, `10.${KERNEL_NET}.`);

interface AgentUnderTest {
  readonly marks: MarksSetting;
  readonly which: 'current' | 'before';
  readonly checkout?: string;
  readonly net: number;
  readonly tunName: string;
  readonly tenantId: string;
  agent?: AgentProcess;
  sim?: ChildRpc;
  gateway?: string;
  established: number;
  addresses: string[];
}

export async function benchDataPath(broker: ChildRpc, options: DataPathOptions, log: (line: string) => void): Promise<DataPathCase[]> {
  const info = await broker.call<{ url: string }>('info');
  if (options.inject === 'gso') log(`data path: from TUN, UDP GSO super-datagrams of ${options.sizes.map((s) => `${gsoSegments(s)} x ${s} B`).join(', ')}`);
  const settings: { marks: MarksSetting; agent: 'current' | 'before'; checkout?: string }[] = (options.marks ?? ['auto']).map((marks) => ({ marks, agent: 'current' }));
  if (options.before) settings.push({ marks: 'auto', agent: 'before', checkout: options.before });
  const relayTun = `tbbr${process.pid % 10000}`;
  const under: AgentUnderTest[] = settings.map(({ marks, agent, checkout }, i) => ({
    marks,
    which: agent,
    ...(checkout ? { checkout } : {}),
    net: i === 0 ? AGENT_NET : OTHER_AGENT_NETS[i - 1]!,
    tunName: i === 0 ? `tbbd${process.pid % 10000}` : `tbb${'mn'[i - 1]}${process.pid % 10000}`,
    tenantId: `dp${i}${Date.now().toString(36)}`,
    established: 0,
    addresses: [],
  }));
  if (under.length > OTHER_AGENT_NETS.length + 1) throw new Error('data path: at most 3 agents');
  let relay: ChildRpc | undefined;
  let kernel: KernelForward | undefined;
  const measured: MeasuredCase[] = [];
  /** Kernel forwarding rate per `${sessions}/${size}/${direction}`. */
  const kernelPps = new Map<string, number>();
  try {
    for (const u of under) {
      await broker.call('seed', { tenantId: u.tenantId, cidr: `10.${u.net}.0.0/16`, users: ['bench'] });
      const { agentId, token } = await broker.call<{ agentId: string; token: string }>('enrol', { name: `bench-dp-${u.which}-${u.marks}` });
      u.agent = await startAgentProcess({ brokerUrl: info.url, agentId, token, tunName: u.tunName, env: { L2TP_MARKS: u.marks }, ...(options.nodeArgs ? { nodeArgs: options.nodeArgs } : {}), ...(u.checkout ? { checkout: u.checkout } : {}) });
      if (u.marks === 'auto' && u.agent.l2tpWithoutMarks()) throw new Error(`data path: the agent asked for L2TP_MARKS=auto has no marked socket: ${u.agent.l2tpWithoutMarks()}`);
      u.sim = await forkChild(new URL('./sim-child.ts', import.meta.url).pathname);
      const first = await u.sim.call<{ ok: number; failed: number; gateway: string }>('open', { ...common(u), sessions: 1, sessionsPerTunnel: 1, tunnelsPerSource: 1, firstSource: 0 });
      if (first.ok !== 1) throw new Error(`data path: the first session did not come up (${JSON.stringify(first)})`);
      u.gateway = first.gateway;
      u.established = 1;
      const deadline = Date.now() + 15_000;
      while (!execFileSync('ip', ['route', 'show', 'dev', u.tunName]).toString().includes(`10.${u.net}.0.0/16`)) {
        if (Date.now() > deadline) throw new Error('the agent did not install its pool route');
        await sleep(100);
      }
    }
    // The relay mirrors the first agent's session 0 (its frames, rewritten to the relay's pool).
    const a0 = under[0]!;
    await a0.sim!.call('prepare', { size: 64, sessions: 1, destination: a0.gateway });
    const client = await a0.sim!.call<{ address: string; port: number }>('client0');
    relay = await forkChild(new URL('./bare-relay.ts', import.meta.url).pathname);
    await relay.call('start', {
      tunName: relayTun,
      cidr: `10.${RELAY_NET}.0.0/16`,
      gateway: rel(a0.gateway!),
      listen: { address: '127.0.0.2', port: a0.agent!.port },
      client,
      headerHex: await a0.sim!.call<string>('header'),
    });

    kernel = await startKernelForward();

    for (const sessions of options.sessionCounts) {
      for (const u of under) {
        if (sessions > u.established) {
          const more = await u.sim!.call<{ ok: number; failed: number; seconds: number }>('open', { ...common(u), sessions: sessions - u.established, sessionsPerTunnel: 25, tunnelsPerSource: 20, firstSource: 1, pendingBudget: 400 });
          log(`data path (${u.which}, L2TP_MARKS=${u.marks}): ${more.ok} more sessions up in ${more.seconds.toFixed(1)} s (${more.failed} failed)`);
          u.established += more.ok;
        }
        u.addresses = await u.sim!.call<string[]>('addresses', { count: sessions });
      }
      for (const size of options.sizes) {
        for (const direction of ['to-tun', 'from-tun'] as const) {
          // Targets: each agent, the relay and the kernel; the order rotates every round. The kernel
          // forwards the from-TUN case's traffic in its rounds, and single datagrams in the to-TUN
          // rounds (the simulator's frames are single packets: nothing merges them).
          const targets = [...under, 'relay' as const, 'kernel' as const];
          const kernelTraffic: InjectMode = direction === 'from-tun' ? options.inject : 'packets';
          const rounds = new Map<AgentUnderTest | 'relay' | 'kernel', number[]>(targets.map((t) => [t, []]));
          for (let round = 0; round < options.rounds; round++) {
            for (let k = 0; k < targets.length; k++) {
              const target = targets[(round + k) % targets.length]!;
              const u = target === 'relay' || target === 'kernel' ? a0 : target;
              const toRelay = target === 'relay';
              let pps: number;
              if (target === 'kernel') {
                const before = await kernel.received();
                // Uncapped: the kernel's figure is what the machine can do.
                const sent = await inject(kernelTraffic, u.addresses.map(kern), size, options.seconds, Infinity);
                await sleep(50);
                pps = ((await kernel.received()) - before) / sent.seconds;
              } else if (direction === 'to-tun') {
                await u.sim!.call('prepare', { size, sessions, destination: toRelay ? rel(u.gateway!) : u.gateway, ...(toRelay ? { rewriteSecondOctet: RELAY_NET } : {}) });
                const tun = toRelay ? relayTun : u.tunName;
                const before = tunCounter(tun, 'rx_packets');
                const blast = await u.sim!.call<{ sent: number; seconds: number }>('blast', { seconds: options.seconds, ...(toRelay ? { relay: { address: '127.0.0.2', port: a0.agent!.port } } : {}) });
                await sleep(50);
                pps = (tunCounter(tun, 'rx_packets') - before) / blast.seconds;
              } else {
                const tun = toRelay ? relayTun : u.tunName;
                const before = tunCounters(tun);
                await u.sim!.call('countStart');
                const sent = await inject(options.inject, toRelay ? u.addresses.map(rel) : u.addresses, size, options.seconds);
                await sleep(50);
                const counted = await u.sim!.call<{ received: number }>('countStop');
                pps = counted.received / sent.seconds;
                // Where the rest was lost: at the TUN's queue (the reader was behind) or after it
                // (the relay or agent, the loopback or the simulator's socket).
                const tunSide = tunTraffic(before, tunCounters(tun), size);
                const k = (n: number) => `${Math.round(n / 1000)}k`;
                log(`  ${toRelay ? 'relay' : `agent ${u.which} ${u.marks}`} round ${round}: sent ${k(sent.sent)}, the TUN's reader took ${k(tunSide.packets)} in ${k(tunSide.reads)} reads, the TUN dropped ${k(tunSide.dropped)} skbs, simulator counted ${k(counted.received)}`);
                // A TUN with offloads queues up to 500 super-packets (~23k packets at 1400 B), which its
                // reader sends on for a while after the round: the next target's count must not get them.
                await tunDrained(tun);
              }
              rounds.get(target)!.push(pps);
            }
          }
          const relayPps = median(rounds.get('relay')!);
          const k = median(rounds.get('kernel')!);
          kernelPps.set(`${sessions}/${size}/${direction}`, k);
          log(`data path ${direction} ${size} B, ${sessions} sessions, inject=${kernelTraffic}: kernel forwarding between two namespaces ${Math.round(k)} pps`);
          for (const u of under) {
            const agentPps = median(rounds.get(u)!);
            const c: MeasuredCase = {
              marks: u.marks,
              agent: u.which,
              sessions,
              size,
              direction,
              agentPps,
              relayPps,
              ratio: agentPps / relayPps,
              agentMbps: (agentPps * size * 8) / 1e6,
              relayMbps: (relayPps * size * 8) / 1e6,
            };
            log(`data path ${direction} ${size} B, ${sessions} sessions, L2TP_MARKS=${u.marks}${u.which === 'before' ? ', before' : ''}${direction === 'from-tun' ? `, inject=${options.inject}` : ''}: agent ${Math.round(agentPps)} pps, relay ${Math.round(relayPps)} pps (x${c.ratio.toFixed(2)})`);
            measured.push(c);
          }
        }
      }
    }
  } finally {
    await kernel?.close();
    await relay?.close();
    for (const u of under) {
      await u.sim?.close();
      await u.agent?.stop();
    }
  }
  return measured.map((c) => {
    const k = kernelPps.get(`${c.sessions}/${c.size}/${c.direction}`) ?? NaN;
    return { ...c, kernelPps: k, kernelMbps: (k * c.size * 8) / 1e6, ratioToKernel: c.agentPps / k };
  });

  function common(u: AgentUnderTest) {
    // The simulator receives with recvmmsg: with node:dgram it came close to being the ceiling (issue 21).
    return { server: { address: '127.0.0.1', port: u.agent!.port }, username: `bench@${u.tenantId}`, password: fixturePassword('bench'), batchedSocket: true };
  }
}

/** Until the TUN's reader has read nothing for 100 ms (at most 5 s). */
async function tunDrained(tun: string): Promise<void> {
  const deadline = Date.now() + 5000;
  let reads = tunCounter(tun, 'tx_packets');
  while (Date.now() < deadline) {
    await sleep(100);
    const now = tunCounter(tun, 'tx_packets');
    if (now === reads) return;
    reads = now;
  }
}

interface TunCounters {
  readonly reads: number;
  readonly bytes: number;
  readonly dropped: number;
}

function tunCounters(tun: string): TunCounters {
  return { reads: tunCounter(tun, 'tx_packets'), bytes: tunCounter(tun, 'tx_bytes'), dropped: tunCounter(tun, 'tx_dropped') };
}

/**
 * What a TUN handed its reader between two readings. tx_packets/tx_bytes count reads
 * (drivers/net/tun.c, tun_put_user): a super-packet of a TUN with offloads is one read of one
 * IP+UDP header (28 bytes) and its segments' payloads, so the packets are the payload bytes /
 * (size - 28). tx_dropped counts skbs the full queue refused: super-packets where offloaded.
 */
function tunTraffic(before: TunCounters, after: TunCounters, size: number): { reads: number; packets: number; dropped: number } {
  const reads = after.reads - before.reads;
  return { reads, packets: Math.round((after.bytes - before.bytes - 28 * reads) / (size - 28)), dropped: after.dropped - before.dropped };
}
