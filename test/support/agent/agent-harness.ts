/**
 * Test-only: a whole agent in-process on fakes (FakeUdpNetwork, FakeTun, FakeBroker, FakeTimers,
 * a recording LinkConfig, a pino logger into memory) plus helpers to bring LAC calls up against it.
 */
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { createFakeTun, type FakeTunPeer } from '../../../edge-agent/src/io/fake-tun';
import { FakeUdpNetwork } from '../../../edge-agent/src/io/fake-udp';
import type { LinkConfig, LinkSettings } from '../../../edge-agent/src/io/link-config';
import { createPppClientCrypto, type PppClientConfig } from '../../../edge-agent/src/ppp';
import { createAgent, type Agent, type AgentOptions } from '../../../edge-agent/src/runtime/agent';
import { FakeTimers } from '../../../edge-agent/src/clock';
import type { IpsecController } from '../../../edge-agent/src/ipsec';
import type { AuthMethod } from '../../../functions/src/domain/types';
import { FakeBroker } from './fake-broker';
import { LacHost, waitFor, type TestCall, type TestLac } from './lac';

export const SERVER = { address: '192.0.2.1', port: 1701 } as const;
/** Where the agent listens for command nudges when the harness is started with `nudges: true`. */
export const NUDGE_PORT = 1717;

export class RecordingLink implements LinkConfig {
  readonly configured: LinkSettings[] = [];
  readonly tornDown: LinkSettings[] = [];
  /** When set, configure waits for it (a slow `ip`); `failNext` makes the next configure reject. */
  gate: Promise<void> | undefined;
  failNext = false;
  async configure(settings: LinkSettings) {
    if (this.gate) await this.gate;
    if (this.failNext) {
      this.failNext = false;
      throw new Error('RTNETLINK answers: Operation not permitted');
    }
    this.configured.push(settings);
  }
  async teardown(settings: LinkSettings) {
    this.tornDown.push(settings);
  }
}

export interface Harness {
  readonly net: FakeUdpNetwork;
  readonly timers: FakeTimers;
  readonly broker: FakeBroker;
  readonly kernel: FakeTunPeer;
  readonly link: RecordingLink;
  readonly agent: Agent;
  /** Parsed JSON log lines. */
  readonly logs: Record<string, unknown>[];
  /**
   * A client "host" (one UDP socket) at address:port; `mark` puts it behind an IPsec SA with that
   * mark (several may share address and port, like clients behind one NAT: FakeUdpNetwork).
   */
  client(address: string, port?: number, options?: { mark?: number }): LacHost;
  /** Open a tunnel from `host` and place one call; resolves when PPP is up or the call ends. */
  connect(host: LacHost, localTunnelId: number, options?: { user?: string; password?: string; methods?: AuthMethod[] }): Promise<{ lac: TestLac; call: TestCall }>;
  /** Advance the fake clock in steps, letting datagrams and broker calls run in between. */
  tick(ms: number, step?: number): Promise<void>;
  /** Place another call on an existing tunnel. */
  call(lac: TestLac, options?: { user?: string; password?: string; methods?: AuthMethod[] }): Promise<TestCall>;
}

export function startHarness(options: Partial<AgentOptions> = {}, extra: { ipsec?: IpsecController; nudges?: boolean; socketMarks?: boolean } = {}): Harness {
  const net = new FakeUdpNetwork();
  const timers = new FakeTimers();
  const broker = new FakeBroker();
  const { device, peer: kernel } = createFakeTun('tbtest0');
  const link = new RecordingLink();
  const logs: Record<string, unknown>[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  const agent = createAgent({
    socket: net.bind(SERVER.address, SERVER.port, { marks: extra.socketMarks ?? true }),
    tun: device,
    link,
    broker,
    timers,
    random: (n) => randomBytes(n),
    uuid: () => crypto.randomUUID(),
    logger,
    ...(extra.ipsec ? { ipsec: extra.ipsec } : {}),
    ...(extra.nudges ? { nudgeSocket: net.bind(SERVER.address, NUDGE_PORT) } : {}),
    options: { capacity: 100, mtu: 1400, hostName: 'lns-test', publicAddress: SERVER.address, version: 'test', interimIntervalMs: 60_000, ...options },
  });
  agent.start();

  const call = async (lac: TestLac, o: { user?: string; password?: string; methods?: AuthMethod[] } = {}) => {
    const user = o.user ?? 'alice@acme';
    const password = o.password ?? `pw-${user.split('@')[0]}`;
    const config: PppClientConfig = {
      username: user,
      password,
      crypto: await createPppClientCrypto(password),
      random: (n) => randomBytes(n),
      ...(o.methods ? { authMethods: o.methods } : {}),
    };
    const placed = lac.placeCall(config);
    await waitFor(() => placed.up !== undefined || placed.cleared !== undefined || placed.down !== undefined, 'call up or cleared');
    return placed;
  };

  return {
    net,
    timers,
    broker,
    kernel,
    link,
    agent,
    logs,
    async tick(ms, step = 50) {
      for (let done = 0; done < ms; done += step) {
        timers.advance(Math.min(step, ms - done));
        for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
      }
    },
    client: (address, port = 1701, o = {}) => new LacHost(net.bind(address, port, { mark: o.mark ?? 0 }), SERVER, timers),
    async connect(host, localTunnelId, o = {}) {
      const lac = host.lac(localTunnelId, (n) => randomBytes(n));
      lac.open();
      await waitFor(() => lac.established || lac.closed, 'tunnel up');
      return { lac, call: await call(lac, o) };
    },
    call,
  };
}

export { waitFor };
