/**
 * A live edge agent for hostile-traffic tests: the real runtime (`createAgent`) on a real UDP socket
 * on loopback, with a fake TUN whose "kernel" answers ICMP echo (so established sessions can be
 * probed end to end), a small in-memory broker, system timers, and a logger that counts the lines
 * that mean "a handler threw" (`datagram handler failed`, `TUN packet handler failed`).
 */
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import type { Broker, StartedSession } from '../../edge-agent/src/broker/broker-client';
import { decodeIcmpEcho, encodeIcmpEcho, ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST } from '../../edge-agent/src/datapath';
import { createFakeTun } from '../../edge-agent/src/io/fake-tun';
import type { LinkConfig } from '../../edge-agent/src/io/link-config';
import { openUdp, type DatagramSocket } from '../../edge-agent/src/io/udp';
import { createAgent, type Agent, type AgentOptions } from '../../edge-agent/src/runtime/agent';
import { systemTimers } from '../../edge-agent/src/clock';
import type { TunnelLimits } from '../../edge-agent/src/runtime/tunnels';
import { FakeBroker } from '../support/agent/fake-broker';

export interface LiveTargetOptions {
  readonly address?: string;
  readonly capacity?: number;
  readonly tunnelLimits?: Partial<TunnelLimits>;
  readonly helloIntervalMs?: number;
  readonly extra?: Partial<AgentOptions>;
  /** Every log line (JSON), for debugging a test. */
  readonly onLog?: (line: string) => void;
}

export interface LiveTarget {
  readonly agent: Agent;
  readonly address: string;
  readonly port: number;
  /** Datagrams the agent's socket handed to the agent. */
  received(): number;
  /** Log lines saying a handler threw (must stay 0). */
  handlerFailures(): number;
  /** The first error-level log lines (for the failure message). */
  readonly errorLines: string[];
  /** Echo requests the fake kernel answered. */
  echoes(): number;
  close(): Promise<void>;
}

const FAILURE_MESSAGES = ['"msg":"datagram handler failed"', '"msg":"TUN packet handler failed"'];

/**
 * The fake broker with bounded memory for long runs: addresses are recycled on stop and nothing is
 * recorded (the fuzzer opens and loses thousands of sessions).
 */
class RecyclingBroker extends FakeBroker {
  private readonly free: number[] = Array.from({ length: 240 }, (_, i) => i + 10);
  private readonly held = new Map<string, number>();
  private serial = 1;

  override async authenticate(request: Parameters<Broker['authenticate']>[0]) {
    const verdict = await super.authenticate(request);
    this.authentications.length = 0;
    return verdict;
  }

  override async startSession(): Promise<StartedSession> {
    const host = this.free.shift();
    if (host === undefined) throw new Error('fuzz broker: pool exhausted');
    const sessionId = `sess-${this.serial++}`;
    this.held.set(sessionId, host);
    return { sessionId, address: `10.8.0.${host}`, gateway: '10.8.0.1', dns: ['192.0.2.53'], poolId: 'main', cidr: '10.8.0.0/24', created: true };
  }

  override async reportInterim(): Promise<void> {}

  override async reportStop(sessionId: string): Promise<void> {
    const host = this.held.get(sessionId);
    if (host === undefined) return;
    this.held.delete(sessionId);
    this.free.push(host);
  }

  override async heartbeat(request: Parameters<Broker['heartbeat']>[0]) {
    const reply = await super.heartbeat(request);
    this.heartbeats.length = 0;
    return reply;
  }
}

/** Start the agent on `address` (default 127.0.0.1), port chosen by the kernel. */
export async function startLiveTarget(o: LiveTargetOptions = {}): Promise<LiveTarget> {
  const inner = await openUdp({ address: o.address ?? '127.0.0.1', port: 0, receiveBufferSize: 4 << 20 });
  let received = 0;
  // Count what the agent is handed, so a run can tell processed datagrams from kernel drops.
  const socket: DatagramSocket = {
    address: inner.address,
    port: inner.port,
    marks: inner.marks,
    send: (data, port, address, mark) => inner.send(data, port, address, mark),
    sendParts: (head, headLength, body, port, address, mark) => inner.sendParts(head, headLength, body, port, address, mark),
    onMessage: (handler) =>
      inner.onMessage((data, remote) => {
        received++;
        handler(data, remote);
      }),
    onError: (handler) => inner.onError(handler),
    close: () => inner.close(),
  };

  const { device, peer: kernel } = createFakeTun('tbfuzz0');
  let echoes = 0;
  kernel.onWrite((packet) => {
    // The fake keeps every written packet; a long run must not accumulate them.
    kernel.written.length = 0;
    const echo = decodeIcmpEcho(packet);
    if (!echo || echo.type !== ICMP_ECHO_REQUEST) return;
    const reply = encodeIcmpEcho({ source: echo.destination, destination: echo.source, identifier: echo.identifier, sequence: echo.sequence, payload: Uint8Array.from(echo.payload) }, ICMP_ECHO_REPLY);
    echoes++;
    setImmediate(() => kernel.inject(reply));
  });

  let failures = 0;
  const errorLines: string[] = [];
  const logger = pino(
    { level: 'info' },
    {
      write(line: string) {
        o.onLog?.(line);
        if (FAILURE_MESSAGES.some((m) => line.includes(m))) failures++;
        if (line.startsWith('{"level":50') && errorLines.length < 20) errorLines.push(line);
      },
    },
  );
  const link: LinkConfig = { configure: async () => {}, teardown: async () => {} };
  const agent = createAgent({
    socket,
    tun: device,
    link,
    broker: new RecyclingBroker(),
    timers: systemTimers(),
    random: (n) => randomBytes(n),
    uuid: () => crypto.randomUUID(),
    logger,
    options: {
      capacity: o.capacity ?? 200,
      mtu: 1400,
      hostName: 'lns-fuzz',
      publicAddress: socket.address,
      version: 'fuzz',
      interimIntervalMs: 0,
      heartbeatIntervalMs: 60_000,
      ...(o.helloIntervalMs !== undefined ? { helloIntervalMs: o.helloIntervalMs } : {}),
      ...(o.tunnelLimits ? { tunnelLimits: o.tunnelLimits } : {}),
      pppTimings: { restartMs: 500 },
      shutdownGraceMs: 200,
      ...o.extra,
    },
  });
  agent.start();
  return {
    agent,
    address: socket.address,
    port: socket.port,
    received: () => received,
    handlerFailures: () => failures,
    errorLines,
    echoes: () => echoes,
    close: () => agent.shutdown(),
  };
}
