/**
 * The edge agent: wires the L2TP tunnel engines, the PPP session runners, the data path, the OS
 * adapters and the broker into an LNS. Every dependency is injected (`AgentDeps`), so the whole
 * agent runs in one process on fakes (FakeUdpNetwork, FakeTun, a fake Broker, FakeTimers) in tests.
 */
import type { Logger } from 'pino';
import type { AgentCommandMessage, AgentSettings, Broker } from '../broker/broker-client';
import { formatIpv4, SessionCounters, type CounterSnapshot } from '../datapath';
import type { LinkConfig } from '../io/link-config';
import type { IpsecController } from '../ipsec';
import type { TunDevice } from '../io/tun';
import type { DatagramSocket, RemoteInfo, SegmentedSends } from '../io/udp';
import { CdnResult, decodeDataHeader, GeneralError, L2tpDecodeError, newDataHeaderView, routeDatagram, StopCcnResult, type CloseReason } from '../l2tp';
import { createPppServerSession, type PppTimings } from '../ppp';
import type { AgentCounters, EndReason } from '../../../contract/src/values';
import type { TunnelPhase } from '../l2tp/tunnel-types';
import type { AgentEvents } from './agent-events';
import type { TimerService } from '../clock';
import { AddressClaims } from './address-claims';
import { admitCall } from './admission';
import { BrokerLoop } from './broker-loop';
import { CommandNudgeGate } from './command-nudge-gate';
import { DrainDeadline } from './drain-deadline';
import { DataPath } from './data-path';
import { IdleSweep } from './idle-sweep';
import { PendingCalls } from './pending-calls';
import { LogThrottle } from './rate-limit';
import { SessionReports } from './session-reports';
import { SessionRunner, type SessionHost } from './session-runner';
import { SessionTable } from './session-table';
import { markAllowed, TunnelManager, type TunnelEntry, type TunnelLimits } from './tunnels';
import { TunRoutes } from './tun-routes';

/** node:dgram and test sockets send no UDP GSO. */
const NO_SEGMENTED_SENDS: SegmentedSends = { messages: 0, datagrams: 0, refused: 0 };

export interface AgentOptions {
  readonly capacity: number;
  /** PPP MRU we ask for and the MSS clamp basis. */
  readonly mtu: number;
  /** Host Name AVP and CHAP name. */
  readonly hostName: string;
  readonly publicAddress: string;
  readonly version: string;
  readonly tunnelSecret?: string;
  /** Interim accounting period per session; 0 disables. @default 60000 */
  readonly interimIntervalMs?: number;
  /** Until the broker's settings say otherwise. @default 30000 */
  readonly heartbeatIntervalMs?: number;
  readonly registerRetryMs?: number;
  /** How long shutdown waits for clients to acknowledge LCP Terminate. @default 2000 */
  readonly shutdownGraceMs?: number;
  readonly tunnelLimits?: Partial<TunnelLimits>;
  readonly helloIntervalMs?: number;
  readonly pppTimings?: Partial<PppTimings>;
  /** End sessions without data traffic for this long; 0 or absent = never. */
  readonly idleTimeoutMs?: number;
  /** Refuse L2TP that did not arrive through an IPsec SA (needs `deps.ipsec`). */
  readonly requireIpsec?: boolean;
  /** How long a new tunnel's first SCCRQ may wait for charon's SA-up event. @default 2000 */
  readonly ipsecWaitMs?: number;
  /** An accepted call (ICRP sent) without ICCN after this long is cleared, freeing its capacity. @default 10000 */
  readonly callSetupTimeoutMs?: number;
  /** Accepted calls still waiting for ICCN, per tunnel; more ICRQs are refused. @default 32 */
  readonly maxPendingCallsPerTunnel?: number;
  /**
   * IPv4 networks of this host (CIDR, host bits zero): reported at registration so the broker keeps
   * pools off them, and no client address or pool route overlapping them is ever installed.
   */
  readonly hostNetworks?: readonly string[];
  /** Least time between two command fetches triggered by nudges. @default 500 */
  readonly nudgeMinIntervalMs?: number;
}

export interface AgentDeps {
  readonly socket: DatagramSocket;
  readonly tun: TunDevice;
  readonly link: LinkConfig;
  readonly broker: Broker;
  readonly timers: TimerService;
  readonly random: (n: number) => Uint8Array;
  readonly uuid: () => string;
  readonly logger: Logger;
  readonly options: AgentOptions;
  /** strongSwan over VICI; absent when IPsec is off. */
  readonly ipsec?: IpsecController;
  /** The command-nudge socket (COMMAND_NUDGE_PORT); absent = nudges off, commands come with heartbeats. */
  readonly nudgeSocket?: DatagramSocket;
  /** Session life events (metrics); absent = nobody listens. */
  readonly events?: AgentEvents;
}

export interface AgentStats {
  readonly tunnels: number;
  /** Tunnels by L2TP control connection phase (RFC 2661 §7.2). */
  readonly tunnelPhases: Partial<Record<TunnelPhase, number>>;
  readonly sessions: number;
  /** Calls accepted (ICRP sent) still waiting for ICCN. */
  readonly pendingCalls: number;
  readonly draining: boolean;
  readonly totals: AgentCounters;
  readonly drops: DataPath['drops'];
  /** TUN offloads: the kernel's setting, and the super-packets / segments / checksums handled. */
  readonly tunOffload: { readonly mode: TunDevice['offloads'] } & DataPath['offloaded'];
  /** UDP GSO on the L2TP socket: messages sent, the datagrams they carried, runs a route refused. */
  readonly udpGso: SegmentedSends;
  readonly controlDrops: TunnelManager['dropped'];
  readonly malformed: number;
}

export interface Agent {
  /** Start listening, register with the broker (in the background) and heartbeat. */
  start(): void;
  /** Close every session (agent-shutdown), StopCCN every tunnel, report, unroute, close devices. */
  shutdown(): Promise<void>;
  stats(): AgentStats;
  /** Active sessions (for tests and diagnostics). */
  sessions(): readonly SessionRunner[];
  /** Counters of one session. */
  countersOf(session: SessionRunner): CounterSnapshot;
  readonly brokerLoop: BrokerLoop;
  /** Present when the agent listens for command nudges. */
  readonly nudges?: CommandNudgeGate;
}

/** Result Code for the CDN that clears a call ending for `reason` (RFC 2661 §4.4.2). */
export function cdnReason(reason: EndReason): CloseReason {
  switch (reason) {
    case 'lcp-timeout':
      return { resultCode: CdnResult.LostCarrier, errorMessage: reason };
    case 'pool-exhausted':
    case 'quota-exceeded':
      return { resultCode: CdnResult.TemporaryNoFacilities, errorMessage: reason };
    case 'auth-failure':
    case 'error':
      return { resultCode: CdnResult.GeneralError, errorCode: GeneralError.None, errorMessage: reason };
    default:
      return { resultCode: CdnResult.Administrative, errorMessage: reason };
  }
}

export function createAgent(deps: AgentDeps): Agent {
  const { socket, tun, broker, timers, logger: log, options } = deps;
  const counters = new SessionCounters(Math.min(options.capacity, 1024));
  const dataPath = new DataPath<SessionRunner>(socket, tun, counters);
  const sessions = new SessionTable<SessionRunner>();
  const pendingCalls = new PendingCalls(timers, options.callSetupTimeoutMs ?? 10_000, (localTunnelId, localSessionId) => {
    log.warn({ tunnel: localTunnelId, session: localSessionId }, 'call not connected (no ICCN) in time: cleared');
    deps.events?.callRefused('no-iccn');
    // RFC 2661 §4.4.2 CDN Result Code 10: call not established within the time allotted.
    tunnels.closeSession(localTunnelId, localSessionId, { resultCode: CdnResult.Timeout, errorMessage: 'no ICCN in time' });
  });
  const reports = new SessionReports(broker, timers, log);
  const throttle = new LogThrottle();
  const view = newDataHeaderView();
  const routes = new TunRoutes(deps.link, { name: tun.name, mtu: options.mtu }, log);
  const hostNetworks = options.hostNetworks ?? [];
  const claims = new AddressClaims<SessionRunner>(hostNetworks, (address) => routes.isGateway(address));
  let malformed = 0;
  let draining = false;
  /** The broker answered 401 agent-revoked: nothing is served any more. */
  let revoked = false;
  let stopping = false;
  let onIdle: (() => void) | undefined;
  // The drain deadline is enforced here too, not only by the broker's release: sessions still up
  // then end with agent-shutdown even while the broker is unreachable.
  const drainDeadline = new DrainDeadline(timers, () => {
    log.info({ sessions: sessions.size }, 'drain deadline reached: ending the remaining sessions');
    for (const s of sessions.all()) s.close('agent-shutdown');
  });

  const host: SessionHost = {
    broker,
    timers,
    uuid: deps.uuid,
    mtu: options.mtu,
    interimIntervalMs: options.interimIntervalMs ?? 60_000,
    ppp: createPppServerSession({
      authMethods: ['mschapv2', 'chap-md5', 'pap'],
      random: deps.random,
      mru: options.mtu,
      serverName: options.hostName,
      // Clients that send their own Echo-Requests are not probed as well: half the keepalive packets.
      timings: { echoAdaptive: true, ...options.pppTimings },
    }),
    sendPpp: (session, protocol, payload) => dataPath.sendPpp(session, protocol, payload),
    claimAddress: (session, address, pool) => claims.claim(session, address, pool),
    poolReady: (_session, pool) => routes.poolReady(pool),
    linkUp(session) {
      const holder = dataPath.routes.add(session);
      if (holder !== undefined) {
        // claimAddress keeps this from happening; should it anyway, the live session keeps its traffic.
        session.log.error({ address: formatIpv4(session.address) }, 'address already routed to another live session: refusing this one');
        return false;
      }
      deps.events?.sessionUp(session);
      return true;
    },
    ended(session, reason, clearCall) {
      // Its packets held for the TUN (this batch's) are written and counted before the final read.
      dataPath.endBatch();
      sessions.remove(session);
      if (session.address !== 0) {
        dataPath.routes.remove(session.address, session);
        claims.release(session, session.address);
      }
      if (clearCall) tunnels.closeSession(session.localTunnelId, session.localSessionId, cdnReason(reason));
      const final = counters.read(session.counterSlot);
      counters.release(session.counterSlot);
      reports.stopped(session, reason, final);
      if (reason === 'admin-disconnect') clearIpsecAfterDisconnect(session);
      deps.events?.sessionEnded(session, reason);
      if (sessions.size === 0) onIdle?.();
    },
    interim: (session) => reports.interim(session, counters.read(session.counterSlot)),
    packets: (session) => {
      const c = counters.read(session.counterSlot);
      return c.packetsIn + c.packetsOut;
    },
    startedAfterEnd: (session) => reports.startedAfterEnd(session),
    ipsecSaOf(session) {
      const sa = deps.ipsec?.saForPeer?.(session.peer.address, session.peer.port, session.peer.mark);
      if (!sa) return undefined;
      return {
        ikeSaId: sa.ikeId,
        childSaId: sa.childId,
        ...(sa.markIn !== undefined ? { mark: sa.markIn } : {}),
        ikePeer: sa.remoteIkePort !== undefined ? `${sa.remoteHost}:${sa.remoteIkePort}` : sa.remoteHost,
      };
    },
  };

  const tunnels: TunnelManager = new TunnelManager({
    hostName: options.hostName,
    ...(options.tunnelSecret ? { secret: new TextEncoder().encode(options.tunnelSecret) } : {}),
    ...(options.helloIntervalMs !== undefined ? { helloIntervalMs: options.helloIntervalMs } : {}),
    ...(options.tunnelLimits ? { limits: options.tunnelLimits } : {}),
    refuseUnmarked: options.requireIpsec === true,
    random: deps.random,
    timers,
    send: (bytes, peer) => socket.send(bytes, peer.port, peer.address, peer.mark),
    log,
    listener: {
      sessionRequested(tunnel: TunnelEntry, a) {
        const active = sessions.size + pendingCalls.size;
        const admission = admitCall({
          stopping,
          revoked,
          draining,
          active,
          capacity: options.capacity,
          pendingOnTunnel: pendingCalls.onTunnel(tunnel.localTunnelId),
          maxPendingPerTunnel: options.maxPendingCallsPerTunnel ?? 32,
        });
        if (!admission.admit) {
          tunnel.log.warn({ session: a.localSessionId, active, capacity: options.capacity }, `new session refused: agent ${admission.why}`);
          deps.events?.callRefused(admission.reason);
          tunnels.rejectSession(tunnel, a.localSessionId, { resultCode: CdnResult.TemporaryNoFacilities, errorMessage: `agent ${admission.why}` });
          return;
        }
        pendingCalls.add(tunnel.localTunnelId, a.localSessionId);
        tunnels.acceptSession(tunnel, a.localSessionId);
      },
      sessionEstablished(tunnel, a) {
        pendingCalls.end(a.localTunnelId, a.localSessionId);
        const runner = new SessionRunner(
          host,
          {
            localTunnelId: a.localTunnelId,
            peerTunnelId: a.peerTunnelId,
            localSessionId: a.localSessionId,
            peerSessionId: a.peerSessionId,
            peer: tunnel.peer,
            sequencingRequired: a.sequencingRequired,
          },
          counters.allocate(),
          log,
        );
        sessions.add(runner);
        if (log.isLevelEnabled('info')) runner.log.info('call connected: starting PPP');
        runner.start();
      },
      sessionClosed(tunnel, a) {
        pendingCalls.end(tunnel.localTunnelId, a.localSessionId);
        const runner = sessions.get(tunnel.localTunnelId, a.localSessionId);
        if (!runner) return;
        const reason: EndReason = a.reason === 'peer-disconnected' ? 'user-request' : a.reason === 'tunnel-closed' ? 'tunnel-closed' : stopping ? 'agent-shutdown' : 'error';
        runner.callCleared(reason);
      },
    },
  });

  const brokerLoop = new BrokerLoop({
    broker,
    timers,
    log,
    register: {
      publicAddress: options.publicAddress,
      capacity: options.capacity,
      version: options.version,
      ...(hostNetworks.length > 0 ? { networks: [...hostNetworks] } : {}),
      nudgePort: deps.nudgeSocket?.port ?? 0,
    },
    ...(options.heartbeatIntervalMs !== undefined ? { heartbeatIntervalMs: options.heartbeatIntervalMs } : {}),
    ...(options.registerRetryMs !== undefined ? { registerRetryMs: options.registerRetryMs } : {}),
    host: {
      snapshot: () => ({ activeSessions: sessions.size, counters: totalCounters() }),
      command: (command) => onCommand(command),
      heldSessionIds: () => sessions.brokerIds(),
      tearDown(orders) {
        for (const order of orders) {
          const target = sessions.byBrokerId(order.sessionId);
          if (!target) continue;
          target.log.warn({ sessionId: order.sessionId, brokerReason: order.reason }, 'the broker has this session stopped: tearing it down');
          target.close(order.reason);
        }
      },
      settings: (settings) => applySettings(settings),
      revoked() {
        // Issue 14 finding 9: the broker already stopped these sessions; stop forwarding for them.
        if (revoked) return;
        revoked = true;
        draining = true;
        log.error({ sessions: sessions.size }, 'the broker revoked this agent: ending every session and taking no new ones');
        for (const s of sessions.all()) s.close('agent-revoked');
      },
    },
  });

  const nudges = deps.nudgeSocket
    ? new CommandNudgeGate({
        timers,
        log,
        agentId: () => brokerLoop.agentId,
        keys: () => brokerLoop.nudgeKeys(),
        fetch: () => brokerLoop.checkCommands(),
        ...(options.nudgeMinIntervalMs !== undefined ? { minIntervalMs: options.nudgeMinIntervalMs } : {}),
      })
    : undefined;

  function onCommand(command: AgentCommandMessage): void {
    switch (command.type) {
      case 'disconnect-session': {
        const target = command.sessionId === undefined ? undefined : sessions.byBrokerId(command.sessionId);
        if (!target) {
          log.info({ sessionId: command.sessionId, commandId: command.commandId }, 'disconnect command for a session not on this agent');
          return;
        }
        target.log.info({ commandId: command.commandId }, 'disconnect requested by the broker');
        target.close('admin-disconnect');
        return;
      }
      case 'drain':
        if (!draining) log.info({ deadline: command.deadline, active: sessions.size }, 'draining: no new sessions accepted');
        draining = true;
        drainDeadline.arm(Date.parse(command.deadline ?? ''));
        return;
      case 'reload-settings':
        broker.settings().then(
          (settings) => {
            log.info({ revision: settings.revision }, 'settings reloaded');
            applySettings(settings);
          },
          (error) => log.warn({ err: String(error) }, 'settings reload failed'),
        );
        return;
    }
  }

  function onDatagram(data: Buffer, remote: RemoteInfo): void {
    try {
      if (data.length > 0 && (data[0]! & 0x80) === 0) {
        const header = decodeDataHeader(data, view);
        if (header instanceof L2tpDecodeError) return bad(remote, header.message);
        const session = sessions.get(header.tunnelId, header.sessionId);
        if (!session || session.peer.address !== remote.address || session.peer.port !== remote.port) {
          dataPath.drops['no-route']++;
          return;
        }
        const mark = remote.mark ?? 0;
        if (session.peer.mark !== mark) {
          if (options.requireIpsec && !markAllowed(session.peer, mark)) {
            dataPath.drops.unprotected++;
            return;
          }
          const tunnel = tunnels.get(session.localTunnelId);
          if (tunnel) tunnels.followMark(tunnel, mark);
        }
        dataPath.fromClient(session, data, header);
        return;
      }
      const route = routeDatagram(data);
      if (route instanceof L2tpDecodeError) return bad(remote, route.message);
      // The socket's buffer is reused after we return; engines keep parts of control messages
      // (out-of-order ones are held, AVP values decoded into state), so they get their own copy.
      const bytes = Buffer.from(data);
      // While stopping, existing tunnels still get their acknowledgements (CDN, StopCCN); new ones are ignored.
      if (route.kind === 'tunnel') tunnels.onTunnelMessage(bytes, remote, route.tunnelId);
      else if (route.kind === 'new-tunnel' && !stopping && !revoked) admitConnectRequest(bytes, remote, route.peerAssignedTunnelId);
    } catch (error) {
      // Engines return errors as values; anything thrown is a bug, and must not take the socket down.
      malformed++;
      if (throttle.allow('bug', timers.now()) >= 0) log.error({ err: error instanceof Error ? error.stack : String(error), peer: `${remote.address}:${remote.port}` }, 'datagram handler failed');
    }
  }

  /** With IPsec required, a tunnel starts only for a peer whose L2TP came through a CHILD_SA. */
  const idle = options.idleTimeoutMs
    ? new IdleSweep<SessionRunner>({
        timeoutMs: options.idleTimeoutMs,
        timers,
        sessions: function* () {
          for (const s of sessions.values()) if (s.forwarding) yield s;
        },
        packets: (s) => {
          const c = counters.read(s.counterSlot);
          return c.packetsIn + c.packetsOut;
        },
        expire: (s) => {
          s.log.info({ idleTimeoutMs: options.idleTimeoutMs }, 'no data traffic: ending the idle session');
          s.close('idle-timeout');
        },
      })
    : undefined;

  function admitConnectRequest(data: Buffer, remote: RemoteInfo, peerTunnelId: number): void {
    const ipsec = deps.ipsec;
    const mark = remote.mark ?? 0;
    if (!ipsec || !options.requireIpsec || ipsec.peerProtection(remote.address, remote.port, mark) === 'protected') {
      tunnels.onConnectRequest(data, remote, peerTunnelId);
      return;
    }
    // charon's SA-up event can trail the client's first L2TP packet: wait briefly before refusing.
    void ipsec.waitForProtection(remote.address, remote.port, options.ipsecWaitMs ?? 2000, mark).then(
      (protection) => {
        if (protection === 'protected') {
          if (!stopping) tunnels.onConnectRequest(data, remote, peerTunnelId);
          return;
        }
        const suppressed = throttle.allow(`plain|${remote.address}`, timers.now());
        if (suppressed >= 0) log.warn({ peer: `${remote.address}:${remote.port}`, ...(mark !== 0 ? { mark } : {}), protection, suppressed }, 'L2TP outside IPsec refused');
      },
      (error) => log.warn({ err: String(error) }, 'IPsec protection check failed'),
    );
  }

  /** An operator disconnect also clears the client's IPsec SA, once its last session on the tunnel is gone. */
  function clearIpsecAfterDisconnect(session: SessionRunner): void {
    const ipsec = deps.ipsec;
    if (!ipsec) return;
    if (sessions.anyOnTunnel(session.localTunnelId)) return;
    // Give the CDN and LCP Terminate a moment to leave through the SA before it is deleted.
    timers.set(1000, () => {
      ipsec.terminateForPeer(session.peer.address, session.peer.port, session.peer.mark).then(
        (result) => session.log.info({ ipsec: result.outcome }, 'IPsec SA cleared after admin disconnect'),
        (error) => session.log.warn({ err: String(error) }, 'IPsec SA terminate failed'),
      );
    });
  }

  function applySettings(settings: AgentSettings): void {
    deps.ipsec?.apply(settings).then(
      () => log.info({ revision: settings.revision }, 'IPsec settings loaded into strongSwan'),
      (error) => log.warn({ err: error instanceof Error ? error.message : String(error) }, 'IPsec settings not loaded yet (will retry)'),
    );
  }

  function bad(remote: RemoteInfo, message: string): void {
    malformed++;
    const suppressed = throttle.allow(`malformed|${remote.address}`, timers.now());
    if (suppressed >= 0) log.warn({ peer: `${remote.address}:${remote.port}`, err: message, suppressed }, 'malformed L2TP datagram dropped');
  }

  return {
    brokerLoop,
    ...(nudges ? { nudges } : {}),
    start() {
      socket.onMessage(onDatagram);
      socket.onError((error) => log.error({ err: error.message }, 'UDP socket error'));
      tun.onPacket((packet, offload) => {
        try {
          dataPath.fromTun(packet, offload);
        } catch (error) {
          if (throttle.allow('tun-bug', timers.now()) >= 0) log.error({ err: String(error) }, 'TUN packet handler failed');
        }
      });
      tun.onError((error) => log.error({ err: error.message }, 'TUN read failed'));
      if (deps.nudgeSocket && nudges) {
        deps.nudgeSocket.onMessage((data, remote) => nudges.onDatagram(data, remote));
        deps.nudgeSocket.onError((error) => log.warn({ err: error.message }, 'command nudge socket error'));
      }
      brokerLoop.start();
      idle?.start();
      log.info(
        { listen: `${socket.address}:${socket.port}`, tun: tun.name, tunOffloads: tun.offloads, capacity: options.capacity, commandNudges: deps.nudgeSocket ? `${deps.nudgeSocket.address}:${deps.nudgeSocket.port}` : 'off' },
        'edge agent listening',
      );
    },
    async shutdown() {
      if (stopping) return;
      stopping = true;
      draining = true;
      drainDeadline.disarm();
      brokerLoop.stop();
      nudges?.stop();
      idle?.stop();
      log.info({ sessions: sessions.size, tunnels: tunnels.size }, 'shutting down');
      if (sessions.size > 0) {
        const idle = new Promise<void>((resolve) => {
          const deadline = timers.set(options.shutdownGraceMs ?? 2000, resolve);
          onIdle = () => {
            timers.clear(deadline);
            resolve();
          };
        });
        for (const s of sessions.all()) s.close('agent-shutdown');
        await idle;
        for (const s of sessions.all()) s.abort('agent-shutdown');
      }
      tunnels.closeAll({ resultCode: StopCcnResult.ShuttingDown, errorMessage: 'agent shutdown' });
      // Stop reports are already in the outbox on disk; give delivery a bounded chance.
      await reports.settle(5000);
      await routes.removeAll();
      tunnels.dispose();
      await deps.ipsec?.close().catch((error) => log.warn({ err: String(error) }, 'closing the VICI connection failed'));
      await tun.close();
      await socket.close();
      await deps.nudgeSocket?.close();
      log.info(stats(), 'edge agent stopped');
    },
    stats,
    sessions: () => sessions.all(),
    countersOf: (s) => counters.read(s.counterSlot),
  };

  /** Counters of ended sessions plus those of the live ones. */
  function totalCounters(): AgentCounters {
    return reports.totals(Array.from(sessions.values(), (s) => counters.read(s.counterSlot)));
  }

  function stats(): AgentStats {
    const tunnelPhases: Partial<Record<TunnelPhase, number>> = {};
    for (const t of tunnels.entries()) tunnelPhases[t.state.phase] = (tunnelPhases[t.state.phase] ?? 0) + 1;
    return { tunnels: tunnels.size, tunnelPhases, sessions: sessions.size, pendingCalls: pendingCalls.size, draining, totals: totalCounters(), drops: { ...dataPath.drops }, tunOffload: { mode: tun.offloads, ...dataPath.offloaded }, udpGso: { ...(socket.segmented ?? NO_SEGMENTED_SENDS) }, controlDrops: { ...tunnels.dropped }, malformed };
  }
}
