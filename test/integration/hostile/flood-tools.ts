/**
 * Test-only builders and helpers for the flood tests: valid SCCRQs (from the LAC engine), raw
 * control messages with chosen Ns/Nr, many source sockets, and the victim forwarding ratio.
 */
import { randomBytes } from 'node:crypto';
import { createTunnel, encodeControlMessage, encodePacket, stepTunnel, type ControlMessage } from '../../../edge-agent/src/l2tp';
import { openUdp, type DatagramSocket } from '../../../edge-agent/src/io/udp';
import type { ProbeCounts } from '../../fuzz/victim';

/** The SCCRQ a LAC with `localTunnelId` sends first (§6.1). */
export function sccrq(localTunnelId: number): Uint8Array {
  const { actions } = stepTunnel(createTunnel({ role: 'lac', localTunnelId, hostName: 'flooder', random: (n) => randomBytes(n) }), { kind: 'open' });
  const first = actions.find((a) => a.kind === 'transmit');
  if (!first || first.kind !== 'transmit') throw new Error('the LAC engine sent no SCCRQ');
  return first.bytes;
}

/** A control message to `tunnelId`/`sessionId` with explicit Ns/Nr (§3.1, §5.8). */
export function control(message: ControlMessage, tunnelId: number, sessionId: number, ns: number, nr: number): Uint8Array {
  return encodePacket({ isControl: true, tunnelId, sessionId, ns: ns & 0xffff, nr: nr & 0xffff }, encodeControlMessage(message));
}

/** `perAddress` sockets on each address (ports chosen by the kernel). */
export async function openSockets(addresses: readonly string[], perAddress: number): Promise<DatagramSocket[]> {
  const out: DatagramSocket[] = [];
  for (const address of addresses) for (let i = 0; i < perAddress; i++) out.push(await openUdp({ address, port: 0 }));
  return out;
}

export const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Forwarded / expected for the probes sent during a flood. */
export function ratio(p: ProbeCounts): number {
  return p.sent === 0 ? 0 : p.answered / p.sent;
}

/** Sample `read()` every few ms while `work` runs; resolve with the work's result and the maximum seen. */
export async function sampleMax<T>(read: () => number, work: () => Promise<T>): Promise<{ result: T; max: number }> {
  let max = read();
  const timer = setInterval(() => (max = Math.max(max, read())), 2);
  try {
    const result = await work();
    max = Math.max(max, read());
    return { result, max };
  } finally {
    clearInterval(timer);
  }
}
