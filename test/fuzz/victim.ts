/**
 * An established session that must keep forwarding while the agent is under attack: a test LAC +
 * PPP client on its own real UDP socket, and a probe that pings the pool gateway through it at a
 * fixed interval and counts the echo replies the fake kernel sends back.
 */
import { randomBytes } from 'node:crypto';
import { decodeIcmpEcho, encodeIcmpEcho, ICMP_ECHO_REPLY, parseIpv4 } from '../../edge-agent/src/datapath';
import { openUdp, type DatagramSocket } from '../../edge-agent/src/io/udp';
import { createPppClientCrypto } from '../../edge-agent/src/ppp';
import { systemTimers } from '../../edge-agent/src/clock';
import { LacHost, type TestCall, type TestLac } from '../support/agent/lac';
import type { LiveTarget } from './live-target';

/** Resolve when `condition()` holds; reject after `ms` of real time. */
export async function until(condition: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export interface ProbeCounts {
  readonly sent: number;
  readonly answered: number;
}

export interface Victim {
  readonly lac: TestLac;
  readonly call: TestCall;
  readonly socket: DatagramSocket;
  /** Start pinging every `intervalMs`. */
  startProbe(intervalMs: number): void;
  /** Stop pinging, wait `graceMs` for late replies, and return the counts. */
  stopProbe(graceMs?: number): Promise<ProbeCounts>;
  /** Counts so far (replies still in flight are not answered yet). */
  counts(): ProbeCounts;
  close(): Promise<void>;
}

/** Bring up a tunnel and a call (user alice@acme) from `address` to the target, with PPP up. */
export async function openVictim(
  target: LiveTarget,
  o: { address?: string; localTunnelId?: number; user?: string; record?: (sent: Uint8Array) => void } = {},
): Promise<Victim> {
  const socket = await openUdp({ address: o.address ?? '127.0.0.1', port: 0 });
  if (o.record) {
    // Keep a copy of everything the client sends (for replay attacks).
    const send = socket.send.bind(socket);
    const record = o.record;
    (socket as { send: DatagramSocket['send'] }).send = (data, port, address) => {
      record(Uint8Array.from(data));
      send(data, port, address);
    };
  }
  const host = new LacHost(socket, { address: target.address, port: target.port }, systemTimers());
  const lac = host.lac(o.localTunnelId ?? 1000 + (randomBytes(2).readUInt16BE(0) % 60_000), (n) => randomBytes(n));
  let call: TestCall;
  try {
    lac.open();
    await until(() => lac.established, 'victim tunnel established');
    const user = o.user ?? 'alice@acme';
    const password = `pw-${user.split('@')[0]}`;
    call = lac.placeCall({ username: user, password, crypto: await createPppClientCrypto(password), random: (n) => randomBytes(n) });
    await until(() => call.up !== undefined || call.cleared !== undefined, 'victim PPP up');
    if (!call.up) throw new Error(`victim call did not come up: ${JSON.stringify(call.cleared)}`);
  } catch (error) {
    lac.dispose();
    await socket.close();
    throw error;
  }
  const up = call.up;
  const source = parseIpv4(up.address)!;
  const destination = parseIpv4(up.gateway)!;
  const identifier = randomBytes(2).readUInt16BE(0);
  const outstanding = new Set<number>();
  let sent = 0;
  let answered = 0;
  let timer: NodeJS.Timeout | undefined;

  const collect = () => {
    for (const packet of call.received.splice(0)) {
      const echo = decodeIcmpEcho(packet);
      if (echo && echo.type === ICMP_ECHO_REPLY && echo.identifier === identifier && outstanding.delete(echo.sequence)) answered++;
    }
  };
  const ping = () => {
    collect();
    const sequence = sent & 0xffff;
    sent++;
    outstanding.add(sequence);
    call.sendIpv4(encodeIcmpEcho({ source, destination, identifier, sequence, payload: Buffer.from('hostile-probe') }));
  };

  return {
    lac,
    call,
    socket,
    startProbe(intervalMs) {
      timer ??= setInterval(ping, intervalMs);
    },
    async stopProbe(graceMs = 1000) {
      clearInterval(timer);
      timer = undefined;
      const end = Date.now() + graceMs;
      while (outstanding.size > 0 && Date.now() < end) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        collect();
      }
      collect();
      return { sent, answered };
    },
    counts() {
      collect();
      return { sent, answered };
    },
    async close() {
      clearInterval(timer);
      lac.dispose();
      await socket.close();
    },
  };
}
