/**
 * Test-only: a minimal LNS built from the agent's own pure engines (L2TP LNS role + PPP server) over a loopback UDP
 * socket, so the simulator can be exercised without root, a broker or the agent. Credentials: password `pw-<user>`;
 * addresses from 10.99.0.10 up (10.99.0.0/16), gateway 10.99.0.1 which answers ICMP echo itself.
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { ntPasswordHash, verifyChapMd5, verifyMsChapV2 } from '../../../contract/src/ppp-auth';
import { decodeIcmpEcho, encodeIcmpEcho, ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST } from '../../../edge-agent/src/datapath';
import {
  L2tpDecodeError,
  createTunnel,
  decodeDataHeader,
  encodeDataHeaderInto,
  routeDatagram,
  stepTunnel,
  type TunnelEvent,
  type TunnelState,
} from '../../../edge-agent/src/l2tp';
import {
  PPP_PROTOCOL,
  createPppServerSession,
  decodeFrameHeader,
  isPppDecodeError,
  writeFrameHeader,
  type PppAction,
  type PppServerEvent,
  type PppServerSession,
  type PppServerState,
} from '../../../edge-agent/src/ppp';
import type { AuthMethod } from '../../../functions/src/domain/types';

interface LnsSession {
  localId: number;
  peerId: number;
  engine: PppServerSession;
  state?: PppServerState;
  timers: Map<string, NodeJS.Timeout>;
  address?: string;
}

interface LnsTunnel {
  state: TunnelState;
  remote: { address: string; port: number };
  timers: Map<string, NodeJS.Timeout>;
  sessions: Map<number, LnsSession>;
}

export interface MiniLns {
  readonly port: number;
  /** Users whose sessions reached link-up, in order. */
  readonly upUsers: string[];
  /** Server-side close of the session holding `address` (LCP Terminate + CDN), like an operator DELETE. */
  terminate(address: string): boolean;
  close(): Promise<void>;
}

export async function startMiniLns(options: { authMethods?: AuthMethod[] } = {}): Promise<MiniLns> {
  const socket: Socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  // The default 208 KiB holds only a few hundred small datagrams (the kernel counts truesize): too few for bursts.
  socket.setRecvBufferSize(4 << 20);
  socket.setSendBufferSize(4 << 20);
  const tunnels = new Map<number, LnsTunnel>();
  const byPeer = new Map<string, number>();
  const upUsers: string[] = [];
  let nextTunnel = 1;
  let nextHost = 10;

  const send = (t: LnsTunnel, bytes: Uint8Array) => socket.send(bytes, t.remote.port, t.remote.address);
  const setTimer = (timers: Map<string, NodeJS.Timeout>, name: string, ms: number, fire: () => void) => {
    clearTimeout(timers.get(name));
    timers.set(name, setTimeout(() => (timers.delete(name), fire()), ms).unref());
  };

  const stepT = (t: LnsTunnel, event: TunnelEvent) => {
    const r = stepTunnel(t.state, event);
    t.state = r.state;
    for (const a of r.actions) {
      if (a.kind === 'transmit') send(t, a.bytes);
      else if (a.kind === 'set-timer') setTimer(t.timers, a.name, a.ms, () => stepT(t, { kind: 'timer', name: a.name }));
      else if (a.kind === 'cancel-timer') clearTimeout(t.timers.get(a.name));
      else if (a.kind === 'session-requested') {
        t.sessions.set(a.localSessionId, newSession(a.localSessionId, a.peerSessionId));
        stepT(t, { kind: 'accept-session', localSessionId: a.localSessionId });
      } else if (a.kind === 'session-established') {
        const s = t.sessions.get(a.localSessionId);
        if (s) {
          const first = s.engine.start();
          s.state = first.state;
          applyPpp(t, s, first.actions);
        }
      } else if (a.kind === 'session-closed') {
        const s = t.sessions.get(a.localSessionId);
        t.sessions.delete(a.localSessionId);
        if (s?.state) stepP(t, s, { kind: 'lower-down' });
      } else if (a.kind === 'tunnel-closed') {
        for (const timer of t.timers.values()) clearTimeout(timer);
      }
    }
  };

  const newSession = (localId: number, peerId: number): LnsSession => ({
    localId,
    peerId,
    engine: createPppServerSession({ authMethods: options.authMethods ?? ['mschapv2', 'chap-md5', 'pap'], random: (n) => randomBytes(n) }),
    timers: new Map(),
  });

  const sendFrame = (t: LnsTunnel, s: LnsSession, protocol: number, payload: Uint8Array) => {
    const buf = new Uint8Array(6 + 4 + payload.length);
    encodeDataHeaderInto(buf, 0, t.state.peerTunnelId, s.peerId, 4 + payload.length);
    buf.set(payload, writeFrameHeader(buf, 6, protocol));
    send(t, buf);
  };

  const stepP = (t: LnsTunnel, s: LnsSession, event: PppServerEvent) => {
    if (!s.state) return;
    const r = s.engine.step(s.state, event);
    s.state = r.state;
    applyPpp(t, s, r.actions);
  };

  const applyPpp = (t: LnsTunnel, s: LnsSession, actions: readonly PppAction[]) => {
    for (const a of actions) {
      if (a.kind === 'send-frame') sendFrame(t, s, a.protocol, a.payload);
      else if (a.kind === 'set-timer') setTimer(s.timers, a.timer, a.ms, () => stepP(t, s, { kind: 'timer', timer: a.timer }));
      else if (a.kind === 'clear-timer') clearTimeout(s.timers.get(a.timer));
      else if (a.kind === 'verify-credentials') void verify(a).then((e) => stepP(t, s, e));
      else if (a.kind === 'request-address') {
        const host = nextHost++;
        s.address = `10.99.${host >> 8}.${host & 0xff}`;
        stepP(t, s, { kind: 'address-assigned', address: s.address, dns: ['192.0.2.53'], gateway: '10.99.0.1' });
      } else if (a.kind === 'link-up') upUsers.push(a.username ?? '');
      else if (a.kind === 'link-down') {
        for (const timer of s.timers.values()) clearTimeout(timer);
        if (t.sessions.has(s.localId)) stepT(t, { kind: 'close-session', localSessionId: s.localId, resultCode: 3, errorMessage: 'closed by test' });
      }
    }
  };

  const onData = (t: LnsTunnel, bytes: Buffer) => {
    const view = decodeDataHeader(bytes);
    if (view instanceof L2tpDecodeError) return;
    const s = t.sessions.get(view.sessionId);
    const h = decodeFrameHeader(bytes, view.payloadOffset);
    if (!s || isPppDecodeError(h)) return;
    const payload = bytes.subarray(h.payloadOffset, view.payloadOffset + view.payloadLength);
    if (h.protocol !== PPP_PROTOCOL.IPV4) return stepP(t, s, { kind: 'frame', protocol: h.protocol, payload });
    const echo = decodeIcmpEcho(payload);
    if (echo?.type !== ICMP_ECHO_REQUEST) return;
    const reply = encodeIcmpEcho({ source: echo.destination, destination: echo.source, identifier: echo.identifier, sequence: echo.sequence, payload: echo.payload }, ICMP_ECHO_REPLY);
    sendFrame(t, s, PPP_PROTOCOL.IPV4, reply);
  };

  socket.on('message', (bytes, remote) => {
    const route = routeDatagram(bytes);
    if (route instanceof L2tpDecodeError) return;
    if (route.kind === 'new-tunnel') {
      const key = `${remote.address}:${remote.port}:${route.peerAssignedTunnelId}`;
      let id = byPeer.get(key);
      if (id === undefined) {
        id = nextTunnel++;
        byPeer.set(key, id);
        tunnels.set(id, {
          state: createTunnel({ role: 'lns', localTunnelId: id, hostName: 'mini-lns' }),
          remote: { address: remote.address, port: remote.port },
          timers: new Map(),
          sessions: new Map(),
        });
      }
      const t = tunnels.get(id);
      if (t) stepT(t, { kind: 'received', bytes });
      return;
    }
    const tunnelId = route.kind === 'tunnel' ? route.tunnelId : bytes.readUInt16BE((bytes[0] as number) & 0x40 ? 4 : 2);
    const t = tunnels.get(tunnelId);
    if (!t) return;
    if (route.kind === 'data') onData(t, bytes);
    else stepT(t, { kind: 'received', bytes });
  });

  return {
    port: socket.address().port,
    upUsers,
    terminate(address) {
      for (const t of tunnels.values()) {
        for (const s of t.sessions.values()) {
          if (s.address === address) {
            stepP(t, s, { kind: 'close', reason: 'admin-disconnect' });
            return true;
          }
        }
      }
      return false;
    },
    async close() {
      for (const t of tunnels.values()) {
        for (const timer of t.timers.values()) clearTimeout(timer);
        for (const s of t.sessions.values()) for (const timer of s.timers.values()) clearTimeout(timer);
      }
      await new Promise<void>((resolve) => socket.close(() => resolve()));
    },
  };
}

async function verify(a: Extract<PppAction, { kind: 'verify-credentials' }>): Promise<PppServerEvent> {
  const password = `pw-${a.username}`;
  const m = a.material;
  if (m.method === 'pap') return { kind: 'auth-result', ok: m.password === password };
  if (m.method === 'chap-md5') {
    return { kind: 'auth-result', ok: verifyChapMd5({ id: m.identifier, secret: password, challenge: m.challenge, response: m.response }) };
  }
  const v = await verifyMsChapV2({
    ntHash: await ntPasswordHash(password),
    authenticatorChallenge: m.authenticatorChallenge,
    peerChallenge: m.peerChallenge,
    ntResponse: m.ntResponse,
    username: a.username,
  });
  return v.ok ? { kind: 'auth-result', ok: true, authenticatorResponse: v.authenticatorResponse } : { kind: 'auth-result', ok: false };
}
