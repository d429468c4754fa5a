/**
 * The agent's Prometheus metrics (docs/metrics.md lists each). Gauges and most counters are read
 * from the agent's public surface when scraped (`stats()`, `sessions()`, the broker loop, the
 * outbox, the IPsec controller); setups, failures and auth latency come from events as they happen.
 * Every label takes its value from a fixed list: nothing per user, per session or per peer.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { END_REASONS, type EndReason } from '../../../contract/src/values';
import type { IpsecStatus } from '../ipsec';
import type { AgentEvents, CallRefusal } from '../runtime/agent-events';
import type { AgentStats } from '../runtime/agent';

/** What the metrics read from a running agent (a subset of `Agent`). */
export interface MetricsSource {
  stats(): AgentStats;
  sessions(): readonly { readonly forwarding: boolean }[];
  readonly brokerLoop: { readonly registered: boolean; readonly revoked: boolean; readonly failures: number };
}

export const TUNNEL_STATES = ['idle', 'wait-ctl-reply', 'wait-ctl-conn', 'established', 'closing', 'closed'] as const;
export const SESSION_STATES = ['connecting', 'negotiating', 'up'] as const;
export const CALL_REFUSALS: readonly CallRefusal[] = ['shutting-down', 'revoked', 'draining', 'at-capacity', 'too-many-pending', 'no-iccn'];
export const AUTH_OUTCOMES = ['accepted', 'refused', 'unavailable', 'error'] as const;
export type AuthOutcome = (typeof AUTH_OUTCOMES)[number];
export const HEARTBEAT_OUTCOMES = ['ok', 'failed'] as const;

/** Seconds; the broker answers in milliseconds normally, seconds when a password hash or a cold start is involved. */
const AUTH_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface AgentMetrics {
  readonly registry: Registry;
  /** Hand to `createAgent` as `deps.events`. */
  readonly events: AgentEvents;
  /** Connect the running agent (its stats are read at each scrape). */
  attach(source: MetricsSource): void;
  observeAuth(outcome: AuthOutcome, seconds: number): void;
  observeHeartbeat(ok: boolean): void;
  /** Prometheus text exposition. */
  render(): Promise<string>;
  readonly contentType: string;
}

export interface AgentMetricsOptions {
  /** Pending stop and interim reports not yet acknowledged by the broker. */
  readonly outboxDepth?: () => number;
  readonly ipsec?: { status(): IpsecStatus };
  /** process_* and nodejs_* metrics of this process. @default true */
  readonly processMetrics?: boolean;
}

/** Builds the registry; nothing is served until `serveMetrics` is called with it. */
export function createAgentMetrics(options: AgentMetricsOptions = {}): AgentMetrics {
  const registry = new Registry();
  const registers = [registry];
  let source: MetricsSource | undefined;
  const stats = () => source?.stats();

  const endReason = (reason: EndReason): EndReason => ((END_REASONS as readonly string[]).includes(reason) ? reason : 'error');

  new Gauge({
    name: 'edge_agent_tunnels',
    help: 'L2TP tunnels (control connections) by state',
    labelNames: ['state'],
    registers,
    collect() {
      const phases = stats()?.tunnelPhases ?? {};
      for (const state of TUNNEL_STATES) this.set({ state }, phases[state] ?? 0);
    },
  });
  new Gauge({
    name: 'edge_agent_sessions',
    help: 'Sessions by state: connecting (call accepted, no ICCN yet), negotiating (PPP, authentication, address), up (forwarding)',
    labelNames: ['state'],
    registers,
    collect() {
      const s = stats();
      let up = 0;
      const all = source?.sessions() ?? [];
      for (const session of all) if (session.forwarding) up++;
      this.set({ state: 'connecting' }, s?.pendingCalls ?? 0);
      this.set({ state: 'negotiating' }, all.length - up);
      this.set({ state: 'up' }, up);
    },
  });
  const established = new Counter({ name: 'edge_agent_sessions_established_total', help: 'Sessions whose link came up (IPCP opened and routed)', registers });
  const setupFailures = new Counter({
    name: 'edge_agent_session_setup_failures_total',
    help: 'Calls that never became a working session, by reason: a refused or unconnected call, or the end reason of a session that ended before its link was up',
    labelNames: ['reason'],
    registers,
  });
  const ended = new Counter({ name: 'edge_agent_sessions_ended_total', help: 'Sessions that ended after their link was up, by end reason', labelNames: ['reason'], registers });
  for (const reason of CALL_REFUSALS) setupFailures.inc({ reason }, 0);
  for (const reason of END_REASONS) {
    setupFailures.inc({ reason }, 0);
    ended.inc({ reason }, 0);
  }
  const auth = new Histogram({
    name: 'edge_agent_broker_auth_duration_seconds',
    help: 'Time from asking the broker to authenticate a user to its answer, by outcome (accepted, refused, unavailable, error)',
    labelNames: ['outcome'],
    buckets: AUTH_BUCKETS,
    registers,
  });
  for (const outcome of AUTH_OUTCOMES) auth.zero({ outcome });
  const heartbeats = new Counter({ name: 'edge_agent_broker_heartbeats_total', help: 'Heartbeats sent to the broker, by outcome (ok, failed)', labelNames: ['outcome'], registers });
  for (const outcome of HEARTBEAT_OUTCOMES) heartbeats.inc({ outcome }, 0);

  const fromStats = (name: string, help: string, labelNames: string[], read: (s: AgentStats) => [Record<string, string>, number][]) =>
    new Counter({
      name,
      help,
      labelNames,
      registers,
      collect() {
        const s = stats();
        if (!s) return;
        this.reset();
        for (const [labels, value] of read(s)) this.inc(labels, value);
      },
    });
  fromStats('edge_agent_client_bytes_total', 'IP bytes forwarded for clients; direction in = from clients, out = to clients (RFC 2866 §5.3)', ['direction'], (s) => [
    [{ direction: 'in' }, s.totals.bytesIn],
    [{ direction: 'out' }, s.totals.bytesOut],
  ]);
  fromStats('edge_agent_client_packets_total', 'IP packets forwarded for clients; direction in = from clients, out = to clients', ['direction'], (s) => [
    [{ direction: 'in' }, s.totals.packetsIn],
    [{ direction: 'out' }, s.totals.packetsOut],
  ]);
  fromStats('edge_agent_data_drops_total', 'Data packets dropped by the data path, by reason', ['reason'], (s) =>
    Object.entries(s.drops).map(([reason, n]) => [{ reason }, n]),
  );
  fromStats('edge_agent_control_drops_total', 'L2TP control messages dropped by a limit or a check, by reason', ['reason'], (s) =>
    Object.entries(s.controlDrops).map(([reason, n]) => [{ reason }, n]),
  );
  fromStats(
    'edge_agent_tun_offload_total',
    'TUN offload work: super-packets read and cut (TSO/USO), the segments they made, partial checksums completed; super-packets written from joined client packets (GRO), the packets joined',
    ['kind'],
    (s) => [
      [{ kind: 'super-packets' }, s.tunOffload.superPackets],
      [{ kind: 'segments' }, s.tunOffload.segments],
      [{ kind: 'checksums' }, s.tunOffload.checksums],
      [{ kind: 'coalesced-writes' }, s.tunOffload.coalescedWrites],
      [{ kind: 'coalesced-packets' }, s.tunOffload.coalescedPackets],
    ],
  );
  fromStats('edge_agent_udp_gso_total', 'UDP GSO on the L2TP socket: messages sent, the datagrams they carried, runs a route refused (sent one by one: IPsec routes take no GSO)', ['kind'], (s) => [
    [{ kind: 'messages' }, s.udpGso.messages],
    [{ kind: 'datagrams' }, s.udpGso.datagrams],
    [{ kind: 'refused' }, s.udpGso.refused],
  ]);
  fromStats('edge_agent_malformed_datagrams_total', 'L2TP datagrams that could not be decoded', [], (s) => [[{}, s.malformed]]);

  new Gauge({
    name: 'edge_agent_draining',
    help: '1 while the agent takes no new sessions (drain, revocation or shutdown)',
    registers,
    collect() {
      this.set(stats()?.draining ? 1 : 0);
    },
  });
  new Gauge({
    name: 'edge_agent_broker_outbox_reports',
    help: 'Stop and interim reports waiting for the broker to acknowledge them',
    registers,
    collect() {
      this.set(options.outboxDepth?.() ?? 0);
    },
  });
  new Gauge({
    name: 'edge_agent_broker_up',
    help: '1 when the agent is registered and the broker answered its last heartbeat',
    registers,
    collect() {
      const loop = source?.brokerLoop;
      this.set(loop && loop.registered && !loop.revoked && loop.failures === 0 ? 1 : 0);
    },
  });
  new Gauge({
    name: 'edge_agent_broker_heartbeat_consecutive_failures',
    help: 'Heartbeats failed in a row (0 once the broker answers again)',
    registers,
    collect() {
      this.set(source?.brokerLoop.failures ?? 0);
    },
  });
  new Gauge({
    name: 'edge_agent_broker_revoked',
    help: '1 once the broker refused this agent\'s credential as revoked',
    registers,
    collect() {
      this.set(source?.brokerLoop.revoked ? 1 : 0);
    },
  });
  if (options.ipsec) {
    const ipsec = options.ipsec;
    new Gauge({
      name: 'edge_agent_ipsec_child_sas',
      help: 'IPsec CHILD_SAs installed for L2TP, as charon reports them over VICI',
      registers,
      collect() {
        this.set(ipsec.status().childSas);
      },
    });
    new Gauge({
      name: 'edge_agent_ipsec_vici_connected',
      help: '1 while the agent is connected to charon over VICI',
      registers,
      collect() {
        this.set(ipsec.status().connected ? 1 : 0);
      },
    });
  }
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry });

  /** Sessions whose link came up: their end counts as an ended session, not a setup failure. */
  const upSessions = new WeakSet<object>();
  const events: AgentEvents = {
    sessionUp(session) {
      upSessions.add(session);
      established.inc();
    },
    sessionEnded(session, reason) {
      if (upSessions.has(session)) ended.inc({ reason: endReason(reason) });
      else setupFailures.inc({ reason: endReason(reason) });
    },
    callRefused(reason) {
      setupFailures.inc({ reason });
    },
  };

  return {
    registry,
    events,
    contentType: registry.contentType,
    attach(s) {
      source = s;
    },
    observeAuth(outcome, seconds) {
      auth.observe({ outcome }, seconds);
    },
    observeHeartbeat(ok) {
      heartbeats.inc({ outcome: ok ? 'ok' : 'failed' });
    },
    render: () => registry.metrics(),
  };
}
