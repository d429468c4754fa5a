/**
 * The agent's metrics from a stand-in agent surface: values read at scrape time, setups and
 * failures from events, and labels from fixed lists only (no per-user or per-session series).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { END_REASONS } from '../../../../contract/src/values';
import { createAgentMetrics, type MetricsSource } from '../../../../edge-agent/src/metrics';
import type { AgentStats } from '../../../../edge-agent/src/runtime/agent';

function fakeSource(over: Partial<AgentStats> = {}, sessions: { forwarding: boolean }[] = []): MetricsSource {
  const stats: AgentStats = {
    tunnels: 2,
    tunnelPhases: { established: 1, 'wait-ctl-conn': 1 },
    sessions: sessions.length,
    pendingCalls: 1,
    draining: false,
    totals: { bytesIn: 1000, bytesOut: 2000, packetsIn: 10, packetsOut: 20 },
    drops: { 'too-short': 0, 'not-ipv4': 0, 'bad-header-length': 0, 'bad-total-length': 0, 'bad-checksum': 0, 'spoofed-source': 3, 'no-route': 1, 'not-forwarding': 0, 'bad-ppp': 0, 'tun-write': 0, unprotected: 0, 'bad-offload': 0 },
    controlDrops: { rate: 2, 'per-peer': 0, 'half-open': 0, 'unknown-tunnel': 0, 'wrong-peer': 0, 'no-tunnel-id': 0, unprotected: 0 },
    malformed: 4,
    tunOffload: { mode: 'tso+uso', superPackets: 6, segments: 270, checksums: 9, coalescedWrites: 4, coalescedPackets: 130 },
    udpGso: { messages: 5, datagrams: 200, refused: 2 },
    ...over,
  };
  return { stats: () => stats, sessions: () => sessions, brokerLoop: { registered: true, revoked: false, failures: 0 } };
}

/** name{labels} -> value, for every sample line. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const cut = line.lastIndexOf(' ');
    out.set(line.slice(0, cut), Number(line.slice(cut + 1)));
  }
  return out;
}

test('gauges and counters read the agent at scrape time', async () => {
  const metrics = createAgentMetrics({ outboxDepth: () => 7, ipsec: { status: () => ({ connected: true, synced: true, uniqueMarks: true, appliedRevision: 1, childSas: 5 }) }, processMetrics: false });
  metrics.attach(fakeSource({}, [{ forwarding: true }, { forwarding: true }, { forwarding: false }]));
  const s = samples(await metrics.render());
  assert.equal(s.get('edge_agent_sessions{state="up"}'), 2);
  assert.equal(s.get('edge_agent_sessions{state="negotiating"}'), 1);
  assert.equal(s.get('edge_agent_sessions{state="connecting"}'), 1);
  assert.equal(s.get('edge_agent_tunnels{state="established"}'), 1);
  assert.equal(s.get('edge_agent_tunnels{state="wait-ctl-conn"}'), 1);
  assert.equal(s.get('edge_agent_tunnels{state="closing"}'), 0, 'every state is exported, also at 0');
  assert.equal(s.get('edge_agent_client_bytes_total{direction="in"}'), 1000);
  assert.equal(s.get('edge_agent_client_packets_total{direction="out"}'), 20);
  assert.equal(s.get('edge_agent_data_drops_total{reason="spoofed-source"}'), 3);
  assert.equal(s.get('edge_agent_control_drops_total{reason="rate"}'), 2);
  assert.equal(s.get('edge_agent_malformed_datagrams_total'), 4);
  assert.equal(s.get('edge_agent_tun_offload_total{kind="super-packets"}'), 6);
  assert.equal(s.get('edge_agent_tun_offload_total{kind="segments"}'), 270);
  assert.equal(s.get('edge_agent_tun_offload_total{kind="checksums"}'), 9);
  assert.equal(s.get('edge_agent_udp_gso_total{kind="messages"}'), 5);
  assert.equal(s.get('edge_agent_udp_gso_total{kind="datagrams"}'), 200);
  assert.equal(s.get('edge_agent_udp_gso_total{kind="refused"}'), 2);
  assert.equal(s.get('edge_agent_tun_offload_total{kind="coalesced-writes"}'), 4);
  assert.equal(s.get('edge_agent_tun_offload_total{kind="coalesced-packets"}'), 130);
  assert.equal(s.get('edge_agent_broker_outbox_reports'), 7);
  assert.equal(s.get('edge_agent_broker_up'), 1);
  assert.equal(s.get('edge_agent_ipsec_child_sas'), 5);
  assert.equal(s.get('edge_agent_ipsec_vici_connected'), 1);
});

test('a broker that fails heartbeats, or revoked the agent, is down', async () => {
  const metrics = createAgentMetrics({ processMetrics: false });
  const source = fakeSource();
  const loop = { registered: true, revoked: false, failures: 3 };
  metrics.attach({ ...source, brokerLoop: loop });
  let s = samples(await metrics.render());
  assert.equal(s.get('edge_agent_broker_up'), 0);
  assert.equal(s.get('edge_agent_broker_heartbeat_consecutive_failures'), 3);
  loop.failures = 0;
  assert.equal(samples(await metrics.render()).get('edge_agent_broker_up'), 1, 'negative control: up again once answered');
  loop.revoked = true;
  s = samples(await metrics.render());
  assert.equal(s.get('edge_agent_broker_up'), 0);
  assert.equal(s.get('edge_agent_broker_revoked'), 1);
});

test('a session that ends before its link is up is a setup failure; after, an ended session', async () => {
  const metrics = createAgentMetrics({ processMetrics: false });
  metrics.attach(fakeSource());
  const a = {};
  const b = {};
  metrics.events.sessionUp(a);
  metrics.events.sessionEnded(a, 'user-request');
  metrics.events.sessionEnded(b, 'auth-failure');
  metrics.events.callRefused('at-capacity');
  metrics.observeAuth('accepted', 0.02);
  metrics.observeAuth('refused', 0.3);
  metrics.observeHeartbeat(false);
  const s = samples(await metrics.render());
  assert.equal(s.get('edge_agent_sessions_established_total'), 1);
  assert.equal(s.get('edge_agent_sessions_ended_total{reason="user-request"}'), 1);
  assert.equal(s.get('edge_agent_sessions_ended_total{reason="auth-failure"}'), 0);
  assert.equal(s.get('edge_agent_session_setup_failures_total{reason="auth-failure"}'), 1);
  assert.equal(s.get('edge_agent_session_setup_failures_total{reason="at-capacity"}'), 1);
  assert.equal(s.get('edge_agent_broker_auth_duration_seconds_count{outcome="accepted"}'), 1);
  assert.equal(s.get('edge_agent_broker_auth_duration_seconds_bucket{le="0.025",outcome="accepted"}'), 1);
  assert.equal(s.get('edge_agent_broker_auth_duration_seconds_bucket{le="0.25",outcome="refused"}'), 0);
  assert.equal(s.get('edge_agent_broker_heartbeats_total{outcome="failed"}'), 1);
});

test('label values are bounded: 5,000 sessions of 5,000 users add no series', async () => {
  const metrics = createAgentMetrics({ processMetrics: false });
  metrics.attach(fakeSource());
  const seriesBefore = [...samples(await metrics.render()).keys()].sort();
  for (let i = 0; i < 5000; i++) {
    const session = { user: `user${i}@tenant${i % 50}`, id: i };
    if (i % 3 !== 0) metrics.events.sessionUp(session);
    metrics.events.sessionEnded(session, END_REASONS[i % END_REASONS.length]!);
    metrics.observeAuth(i % 2 ? 'accepted' : 'refused', (i % 100) / 100);
    metrics.observeHeartbeat(i % 7 !== 0);
    metrics.events.callRefused(i % 2 ? 'draining' : 'no-iccn');
  }
  const after = [...samples(await metrics.render()).keys()].sort();
  assert.deepEqual(after, seriesBefore, 'the same series before and after: nothing per session or per user');
  const values = new Map<string, Set<string>>();
  for (const key of after) for (const [, label, value] of key.matchAll(/(\w+)="([^"]*)"/g)) values.set(label!, (values.get(label!) ?? new Set()).add(value!));
  for (const [label, set] of values) assert.ok(set.size <= 40, `${label} has ${set.size} values`);
  assert.ok(!after.some((k) => /user\d|tenant\d/.test(k)));
});

test('negative control: the bounded-label check catches a per-user label', async () => {
  const metrics = createAgentMetrics({ processMetrics: false });
  const { Counter } = await import('prom-client');
  const perUser = new Counter({ name: 'bad_total', help: 'x', labelNames: ['user'], registers: [metrics.registry] });
  const before = samples(await metrics.render()).size;
  for (let i = 0; i < 50; i++) perUser.inc({ user: `user${i}` });
  assert.equal(samples(await metrics.render()).size, before + 50);
});
