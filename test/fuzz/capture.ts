/**
 * Capture real traffic for the fuzz corpus: a test LAC on a recording UDP socket runs full sessions
 * against a live agent (SCCRQ..SCCCN, ICRQ..ICCN, LCP, MS-CHAPv2 / PAP / CHAP-MD5, IPCP, data,
 * HELLO + ZLB, client hang-up with LCP Terminate, CDN, StopCCN) and every datagram in both
 * directions is kept in order.
 */
import { randomBytes } from 'node:crypto';
import { decodeIcmpEcho, encodeIcmpEcho, parseIpv4 } from '../../edge-agent/src/datapath';
import { decodeControlMessage, decodeDataHeader, decodePacket, L2tpDecodeError, newDataHeaderView } from '../../edge-agent/src/l2tp';
import { openUdp, type DatagramSocket } from '../../edge-agent/src/io/udp';
import { createPppClientCrypto, decodeFrame, isPppDecodeError, type PppClientConfig } from '../../edge-agent/src/ppp';
import { systemTimers } from '../../edge-agent/src/clock';
import type { AuthMethod } from '../../functions/src/domain/types';
import { LacHost, type TestCall, type TestLac } from '../support/agent/lac';
import type { CorpusPacket, Direction } from './corpus';
import { startLiveTarget } from './live-target';
import { until } from './victim';

/** A human label for a datagram: control message type, ZLB, or the PPP protocol of a data message. */
export function describePacket(bytes: Uint8Array): string {
  if (bytes.length === 0) return 'empty';
  if ((bytes[0]! & 0x80) !== 0) {
    const p = decodePacket(bytes);
    if (p instanceof L2tpDecodeError) return 'control?';
    if (p.payload.length === 0) return 'ZLB';
    const m = decodeControlMessage(p.payload);
    return m instanceof L2tpDecodeError ? 'control?' : m.type;
  }
  const h = decodeDataHeader(bytes, newDataHeaderView());
  if (h instanceof L2tpDecodeError) return 'data?';
  const f = decodeFrame(bytes.subarray(h.payloadOffset, h.payloadOffset + h.payloadLength));
  if (isPppDecodeError(f)) return 'ppp?';
  const names: Record<number, string> = { 0xc021: 'LCP', 0xc023: 'PAP', 0xc223: 'CHAP', 0x8021: 'IPCP', 0x0021: 'IPv4', 0x80fd: 'CCP', 0x8057: 'IPv6CP' };
  return names[f.protocol] ?? `PPP 0x${f.protocol.toString(16)}`;
}

function recording(inner: DatagramSocket, out: CorpusPacket[]): DatagramSocket {
  const keep = (dir: Direction, bytes: Uint8Array) => out.push({ dir, note: describePacket(bytes), bytes: Uint8Array.from(bytes) });
  return {
    address: inner.address,
    port: inner.port,
    marks: inner.marks,
    send(data, port, address, mark) {
      keep('lac->lns', data);
      inner.send(data, port, address, mark);
    },
    sendParts(head, headLength, body, port, address, mark) {
      this.send(Buffer.concat([head.subarray(0, headLength), body]), port, address, mark);
    },
    onMessage: (handler) =>
      inner.onMessage((data, remote) => {
        keep('lns->lac', data);
        handler(data, remote);
      }),
    onError: (handler) => inner.onError(handler),
    close: () => inner.close(),
  };
}

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function placeCall(lac: TestLac, user: string, methods: AuthMethod[]): Promise<TestCall> {
  const password = `pw-${user.split('@')[0]}`;
  const config: PppClientConfig = { username: user, password, crypto: await createPppClientCrypto(password), random: (n) => randomBytes(n), authMethods: methods };
  const call = lac.placeCall(config);
  await until(() => call.up !== undefined || call.cleared !== undefined, `call up (${methods.join(',')})`);
  if (!call.up) throw new Error(`capture: call did not come up: ${JSON.stringify(call.cleared)}`);
  return call;
}

async function ping(call: TestCall, count: number): Promise<void> {
  const up = call.up!;
  for (let i = 0; i < count; i++) {
    const before = call.received.length;
    call.sendIpv4(encodeIcmpEcho({ source: parseIpv4(up.address)!, destination: parseIpv4(up.gateway)!, identifier: 7, sequence: i, payload: Buffer.from('corpus') }));
    await until(() => call.received.slice(before).some((p) => decodeIcmpEcho(p)?.sequence === i), 'echo reply');
  }
}

/** Run the scripted sessions against a fresh live agent and return every datagram, in order. */
export async function captureCorpus(): Promise<CorpusPacket[]> {
  const target = await startLiveTarget({ helloIntervalMs: 300 });
  const packets: CorpusPacket[] = [];
  const socket = recording(await openUdp({ address: '127.0.0.1', port: 0 }), packets);
  const host = new LacHost(socket, { address: target.address, port: target.port }, systemTimers());
  const lac = host.lac(0x1234, (n) => randomBytes(n));
  try {
    lac.open();
    await until(() => lac.established, 'tunnel established');
    const first = await placeCall(lac, 'alice@acme', ['mschapv2']);
    await ping(first, 3);
    // Stay quiet past the HELLO interval: the agent sends HELLO (§6.5) and the LAC acknowledges it.
    await settle(700);
    const second = await placeCall(lac, 'bob@acme', ['pap']);
    await ping(second, 2);
    second.hangUp();
    await until(() => second.cleared !== undefined, 'call cleared after hang-up');
    const third = await placeCall(lac, 'carol@acme', ['chap-md5']);
    await ping(third, 1);
    lac.clearCall(third);
    await until(() => third.cleared !== undefined, 'CDN acknowledged');
    lac.close();
    await until(() => lac.closed, 'StopCCN');
    await settle(300);
    return packets;
  } finally {
    lac.dispose();
    await socket.close();
    await target.close();
  }
}
