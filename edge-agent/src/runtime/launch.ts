/**
 * Builds the agent's real dependencies from `AgentConfig`: the TUN device, the `ip` link
 * configurator, the UDP socket, the broker client with its on-disk outbox, system timers. Setup
 * failures the operator must fix become a `LaunchError` with a one-line reason for the CLI.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { BrokerClient } from '../broker/broker-client';
import { CloudNatError, createCloudNatHost, enableCloudNat, type CloudNatHost, type CloudNatPlan } from '../cloud-nat';
import type { AgentConfig } from '../config';
import { TunError, UdpError } from '../io/errors';
import { interfaceNetworks } from '../io/host-networks';
import { createLinkConfig, type LinkConfig } from '../io/link-config';
import { createIpsecController } from '../ipsec';
import { openTun, type TunDevice } from '../io/tun';
import { openUdp, type DatagramSocket, type OpenedUdp } from '../io/udp';
import { createAgentMetrics, instrumentBroker, serveMetrics, type MetricsServer } from '../metrics';
import { randomPool } from './random-pool';
import { createAgent, type Agent, type AgentOptions } from './agent';
import { systemTimers } from '../clock';

/** The version reported at registration. */
export const AGENT_VERSION = '0.1.0';

/** The host cannot run the agent as configured; `message` is the one line to show. */
export class LaunchError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LaunchError';
  }
}

export interface LaunchOverrides {
  readonly options?: Partial<AgentOptions>;
  readonly link?: LinkConfig;
  readonly cloudNat?: CloudNatHost;
}

/** Open the devices, build the agent and start it. Broker unreachable is not fatal (registration retries). */
export async function launchAgent(config: AgentConfig, logger: Logger, overrides: LaunchOverrides = {}): Promise<Agent> {
  let tun: TunDevice;
  try {
    tun = await openTun({ name: config.tunName, offloads: config.tunOffload === 'auto' });
  } catch (error) {
    if (error instanceof TunError && error.code === 'permission') {
      throw new LaunchError(`cannot open TUN device ${config.tunName}: permission denied, CAP_NET_ADMIN is missing (run as root or grant cap_net_admin)`, { cause: error });
    }
    throw new LaunchError(`cannot open TUN device ${config.tunName}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const link = overrides.link ?? createLinkConfig();
  const cloudNatHost = overrides.cloudNat ?? createCloudNatHost({ iptables: config.cloudNatIptables });
  let socket: OpenedUdp | undefined;
  let nudgeSocket: DatagramSocket | undefined;
  let cloudNat: CloudNatPlan | undefined;
  try {
    await link.configure({ name: tun.name, mtu: config.mtu, addresses: [], routes: [] });
    cloudNat = await enableCloudNat(
      {
        mode: config.cloudNat,
        ipsec: config.ipsec === 'strongswan',
        allowPlainL2tp: config.allowPlainL2tp,
        ...(config.publicAddress === undefined ? {} : { publicAddress: config.publicAddress }),
      },
      cloudNatHost,
      logger.child({ component: 'cloud-nat' }),
    );
    socket = await openUdp({
      address: l2tpBindAddress(config, cloudNat),
      port: config.l2tpListen.port,
      receiveBufferSize: 4 << 20,
      sendBufferSize: 4 << 20,
      marks: config.l2tpMarks,
      segmentation: config.udpGso === 'auto',
    });
    // On the listen address, not the cloud NAT's public one: nudges come in through the VPC's NAT,
    // to the private address, like any traffic the agent does not DNAT.
    if (config.commandNudgePort > 0) nudgeSocket = await openUdp({ address: config.l2tpListen.address, port: config.commandNudgePort });
  } catch (error) {
    await socket?.close();
    await tun.close();
    if (cloudNat) await cloudNatHost.remove().catch(() => undefined);
    if (error instanceof CloudNatError || error instanceof LaunchError) throw new LaunchError(error.message, { cause: error });
    if (error instanceof UdpError) {
      const code = (error.cause as NodeJS.ErrnoException | undefined)?.code;
      const why = code === 'EADDRINUSE' ? 'the port is already in use' : code === 'EACCES' ? 'permission denied' : error.message;
      const what = socket ? ' for command nudges (COMMAND_NUDGE_PORT; 0 turns them off)' : '';
      throw new LaunchError(`cannot listen on UDP ${error.address}:${error.port}${what}: ${why}`, { cause: error });
    }
    throw new LaunchError(`cannot configure TUN device ${tun.name}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  // One timer service for the whole agent: protocol timers, broker deadlines and backoffs, VICI.
  const timers = systemTimers();
  const noMarks = socket.marksUnavailable ?? (socket.marks ? undefined : 'L2TP_MARKS=off');
  if (noMarks !== undefined) {
    // Said once: the agent works as before, but clients behind one NAT need distinct L2TP ports.
    logger.warn(
      { reason: noMarks },
      'L2TP socket without packet marks: IPsec clients behind one NAT that share an L2TP port (Windows: 1701) cannot be told apart; see docs/ipsec.md',
    );
  } else if (socket.marks) {
    logger.info({ listen: `${socket.address}:${socket.port}` }, 'L2TP socket reads and sets packet marks (SO_RCVMARK/SO_MARK): clients behind one NAT are told apart by their IPsec SA');
  }
  // charon may start after us: the controller connects (and loads the PSK) in the background.
  const ipsec =
    config.ipsec === 'strongswan'
      ? createIpsecController({
          viciSocket: config.viciSocket,
          timers,
          logger: logger.child({ component: 'ipsec' }),
          socketMarks: socket.marks,
          // Cloud NAT: IKE arrives at the public address (DNAT), so charon answers and hashes from it.
          ...(cloudNat ? { localAddrs: [cloudNat.publicAddress] } : {}),
        })
      : undefined;
  const brokerClient = new BrokerClient({
    timers,
    baseUrl: config.brokerUrl,
    token: config.agentToken,
    stateDir: config.stateDir,
    maxInFlight: config.brokerMaxInFlight,
    onDropped: (record, error) => logger.warn({ sessionId: record.sessionId, kind: record.kind, err: error.message }, 'broker refused a queued report: dropped'),
    onStateUnwritable: ({ dir, reason }) =>
      logger.warn(
        { stateDir: dir, err: reason },
        'state directory is not writable: stop and accounting reports are kept in memory until the broker acknowledges them, and lost if this process dies first (fix the directory or set STATE_DIR)',
      ),
    ...(config.brokerSocket ? { socketPath: config.brokerSocket } : {}),
  });
  const metrics = createAgentMetrics({ outboxDepth: () => brokerClient.pendingReports, ...(ipsec ? { ipsec } : {}) });
  const broker = instrumentBroker(brokerClient, metrics);
  let metricsServer: MetricsServer | undefined;
  if (config.metricsListen !== 'off') {
    try {
      metricsServer = await serveMetrics(metrics, config.metricsListen, (error) => logger.warn({ err: error.message }, 'metrics endpoint error'));
    } catch (error) {
      await nudgeSocket?.close();
      await socket.close();
      await tun.close();
      await ipsec?.close().catch(() => undefined);
      if (cloudNat) await cloudNatHost.remove().catch(() => undefined);
      const code = (error as NodeJS.ErrnoException).code;
      const why = code === 'EADDRINUSE' ? 'the port is already in use' : code === 'EADDRNOTAVAIL' ? 'the address is not on this host' : String((error as Error).message);
      const { address, port } = config.metricsListen;
      throw new LaunchError(`cannot serve metrics on TCP ${address}:${port} (METRICS_LISTEN; off turns them off): ${why}`, { cause: error });
    }
  }
  // Reported at registration (the broker keeps pools off them) and never routed into the TUN.
  const hostNetworks = [...new Set([...config.hostNetworks, ...interfaceNetworks(undefined, [tun.name])])].slice(0, 64);
  const listenHost = config.l2tpListen.address === '0.0.0.0' || config.l2tpListen.address === '::' ? hostname() : config.l2tpListen.address;
  const agent = createAgent({
    socket,
    tun,
    link,
    broker,
    timers,
    random: randomPool(),
    uuid: () => randomUUID(),
    logger: logger.child({ agentId: config.agentId }),
    ...(ipsec ? { ipsec } : {}),
    ...(nudgeSocket ? { nudgeSocket } : {}),
    events: metrics.events,
    options: {
      requireIpsec: config.ipsec === 'strongswan' && !config.allowPlainL2tp,
      capacity: config.capacity,
      mtu: config.mtu,
      hostName: hostname().slice(0, 64) || 'edge-agent',
      publicAddress: config.publicAddress ?? listenHost,
      version: AGENT_VERSION,
      interimIntervalMs: config.interimIntervalSeconds * 1000,
      idleTimeoutMs: config.idleTimeoutSeconds * 1000,
      hostNetworks,
      ...(config.tunnelSecret ? { tunnelSecret: config.tunnelSecret } : {}),
      ...overrides.options,
    },
  });
  metrics.attach(agent);
  agent.start();
  if (metricsServer) logger.info({ metrics: `http://${metricsServer.address}:${metricsServer.port}/metrics` }, 'metrics served');
  if (!cloudNat && !metricsServer) return agent;
  return {
    ...agent,
    async shutdown() {
      await agent.shutdown();
      await metricsServer?.close();
      if (!cloudNat) return;
      // A clean stop removes the cloud NAT set-up; a crash leaves it for the next start to reuse.
      await cloudNatHost.remove().catch((error: unknown) => logger.warn({ err: (error as Error).message }, 'cloud NAT removal failed'));
      logger.info({ cloudNat: 'removed' }, 'cloud NAT mode: dummy link and NAT rules removed');
    },
  };
}

/**
 * In cloud NAT mode L2TP binds to the public address: decrypted L2TP arrives there, and our replies
 * must leave from it to match the SA's policy (a socket on 0.0.0.0 would answer from the private one).
 */
export function l2tpBindAddress(config: Pick<AgentConfig, 'l2tpListen'>, cloudNat: Pick<CloudNatPlan, 'publicAddress'> | undefined): string {
  const listen = config.l2tpListen.address;
  if (!cloudNat || listen === cloudNat.publicAddress) return listen;
  if (listen === '0.0.0.0' || listen === '::') return cloudNat.publicAddress;
  throw new LaunchError(`cloud NAT mode needs L2TP_LISTEN on 0.0.0.0 (or ::) or on PUBLIC_ADDRESS ${cloudNat.publicAddress}, not ${listen} (or set CLOUD_NAT=off)`);
}
