/**
 * Issue 21: a bulk TCP download through the agent's TUN offload path. A real client connects over
 * L2TP/IPsec and fetches 8 MiB of random bytes from a TCP server bound to the pool gateway in the
 * agent's namespace. That server's TCP stack sends through the agent's TUN, which the agent opened
 * with TSO: the kernel hands the agent TCP super-packets (up to 64 KiB) that the agent cuts into
 * MSS-sized segments with fresh headers and checksums (edge-agent/src/datapath/gso.ts), and the
 * client's kernel verifies every one of them. Checked: the same size and SHA-256 on both ends, no
 * checksum errors at the client, super-packets and segments counted by the agent's metrics (a TUN
 * without offloads fails the scenario), the bytes carried by the client's inbound ESP SA, and the
 * broker's session counters after hang-up.
 *
 * The segments leave through the L2TP socket with UDP GSO where the route takes it: through IPsec
 * the kernel refuses it (the agent then sends them one by one, and counts the refusal), without
 * IPsec (`plain-tcp-download`, the agent restarted with IPSEC=off) the kernel cuts them apart.
 */
import { resolve } from 'node:path';
import { connectClient, hangUp, pingOverPpp, resetClient } from '../lib/clients';
import { ScenarioSkipped } from '../lib/errors';
import type { Guest } from '../lib/guest';
import type { Scenario } from '../lib/runner';
import { AGENT_TUN } from '../lib/server';
import { CLIENT_ADDRESSES, POOL_GATEWAY, type GuestNamespace } from '../lib/topology';
import { check, listSessions, profile, seconds, waitFor, type E2eContext } from './context';

export const DOWNLOAD_BYTES = 8 * 1024 * 1024;
const PORT = 18021;
export const SCRIPT = resolve(import.meta.dirname, '../guest/bulk-tcp.mjs');
/** The agent's METRICS_LISTEN default (the harness leaves it), loopback of its namespace. */
const METRICS_URL = 'http://127.0.0.1:9469/metrics';
export const NODE = process.execPath;

/** The offload mode the running server agent logged at start (`tunOffloads` of "edge agent listening"). */
export async function agentOffloadMode(guest: Guest): Promise<string | undefined> {
  const out = await guest.sh('server', `grep '"edge agent listening"' /run/log/agent.log | tail -1`);
  return /"tunOffloads":"([^"]+)"/.exec(out.stdout)?.[1];
}

export interface OffloadCounters {
  readonly superPackets: number;
  readonly segments: number;
  readonly checksums: number;
  readonly badOffload: number;
  readonly coalescedWrites: number;
  readonly coalescedPackets: number;
  readonly gsoMessages: number;
  readonly gsoDatagrams: number;
  readonly gsoRefused: number;
}

/** The agent's offload counters and bad-offload drops, read from its Prometheus endpoint. */
export async function offloadCounters(guest: Guest): Promise<OffloadCounters> {
  const text = await guest.must('server', `'${NODE}' -e "fetch('${METRICS_URL}').then((r) => r.text()).then((t) => process.stdout.write(t))"`);
  const value = (series: string): number => {
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    check(line !== undefined, `agent metrics have no ${series}`);
    return Number(line.slice(series.length + 1));
  };
  return {
    superPackets: value('edge_agent_tun_offload_total{kind="super-packets"}'),
    segments: value('edge_agent_tun_offload_total{kind="segments"}'),
    checksums: value('edge_agent_tun_offload_total{kind="checksums"}'),
    badOffload: value('edge_agent_data_drops_total{reason="bad-offload"}'),
    coalescedWrites: value('edge_agent_tun_offload_total{kind="coalesced-writes"}'),
    coalescedPackets: value('edge_agent_tun_offload_total{kind="coalesced-packets"}'),
    gsoMessages: value('edge_agent_udp_gso_total{kind="messages"}'),
    gsoDatagrams: value('edge_agent_udp_gso_total{kind="datagrams"}'),
    gsoRefused: value('edge_agent_udp_gso_total{kind="refused"}'),
  };
}

/** Kernel SNMP counters of a namespace (`nstat`, absolute, history left alone). */
export async function snmp(guest: Guest, ns: GuestNamespace, names: readonly string[]): Promise<Record<string, number>> {
  const out = await guest.must(ns, `nstat -saz ${names.join(' ')}`);
  const found: Record<string, number> = {};
  for (const line of out.split('\n')) {
    const [name, value] = line.trim().split(/\s+/);
    if (name && names.includes(name)) found[name] = Number(value);
  }
  for (const name of names) check(found[name] !== undefined, `nstat in ${ns} has no ${name}`);
  return found;
}

/** Bytes of the ESP SAs `to` or `from` `address` (a client's inbound or outbound SAs), from `ip -s xfrm state`. */
export async function espBytes(guest: Guest, ns: GuestNamespace, address: string, way: 'to' | 'from'): Promise<number> {
  const out = await guest.must(ns, 'ip -s xfrm state');
  const a = address.replace(/\./g, '\\.');
  const pattern = way === 'to' ? new RegExp(`^src \\S+ dst ${a}\\s`) : new RegExp(`^src ${a} dst `);
  return out
    .split(/^(?=src )/m)
    .filter((sa) => pattern.test(sa) && /proto esp/.test(sa))
    .reduce((sum, sa) => sum + (Number(/(\d+)\(bytes\)/.exec(sa)?.[1]) || 0), 0);
}

export interface Transfer {
  readonly bytes: number;
  readonly sha256: string;
  readonly ms: number;
}

export function parseTransfer(text: string, side: string): Transfer {
  const line = text.trim().split('\n').at(-1) ?? '';
  try {
    const t = JSON.parse(line) as Transfer;
    if (typeof t.bytes === 'number' && typeof t.sha256 === 'string' && typeof t.ms === 'number') return t;
  } catch {
    // reported below
  }
  check(false, `${side} of the transfer reported no result: ${text.trim().slice(-300) || '(nothing)'}`);
}

/** `plain`: over L2TP without IPsec, against the agent restarted with IPSEC=off (a plainAgent scenario). */
export async function tcpDownload(runCtx: E2eContext, ns: GuestNamespace, user: string, plain = false): Promise<string> {
  if (runCtx.ipsec === 'off' && !plain) throw new ScenarioSkipped('IPsec is off in this run');
  const ctx: E2eContext = plain ? { ...runCtx, ipsec: 'off' } : runCtx;
  const { guest } = ctx;
  const mode = await agentOffloadMode(guest);
  check(mode !== undefined, 'the server agent logged no "edge agent listening" line with tunOffloads');
  check(
    mode !== 'none',
    `the agent's TUN runs without offloads (it logged tunOffloads "none": the guest kernel refused TUNSETOFFLOAD, or the agent runs with TUN_OFFLOAD=off), so this download cannot exercise TSO`,
  );
  const link = await connectClient(guest, ns, profile(ctx, ns, user, 'mschapv2'));
  const clientAddress = link.localAddress;
  const timeoutS = Math.ceil(60 * guest.scale);
  try {
    const active = await waitFor(ctx, 'the active session at the broker', 10_000, async () =>
      (await listSessions(ctx, user)).find((s) => s.state === 'active' && s.assignedIp === clientAddress),
    );
    // The data path is up (the gateway address is on the TUN) before the server binds to it.
    const ping = await pingOverPpp(guest, ns, POOL_GATEWAY, 1);
    check(ping.received === 1, `no ping reply from ${POOL_GATEWAY} over ppp0: ${ping.detail}`);

    const clientSnmp = ['TcpInCsumErrors', 'IpInHdrErrors', 'TcpInSegs'] as const;
    const before = { agent: await offloadCounters(guest), client: await snmp(guest, ns, clientSnmp), server: await snmp(guest, 'server', ['TcpRetransSegs']) };
    const espBefore = plain ? 0 : await espBytes(guest, ns, CLIENT_ADDRESSES[ns] ?? '', 'to');
    await guest.must(
      'server',
      `rm -f /run/bulk-tcp.ready /run/bulk-tcp.out
       setsid -f sh -c 'echo $$ > /run/bulk-tcp.pid; exec "$0" "$@"' '${NODE}' '${SCRIPT}' serve ${POOL_GATEWAY} ${PORT} ${DOWNLOAD_BYTES} /run/bulk-tcp.ready ${timeoutS} >/run/bulk-tcp.out 2>&1 </dev/null
       i=0; until [ -f /run/bulk-tcp.ready ]; do i=$((i+1)); [ $i -gt $((150*E2E_SCALE)) ] && { cat /run/bulk-tcp.out; exit 1; }; sleep 0.1; done`,
    );
    const fetched = await guest.sh(ns, `'${NODE}' '${SCRIPT}' fetch ${POOL_GATEWAY} ${PORT} ${timeoutS} 2>&1`, { timeoutMs: 70_000 });
    const received = parseTransfer(fetched.stdout, `the client (${ns})`);
    const served = await waitFor(ctx, "the server's report of the download", 10_000, async () => {
      const out = await guest.sh('server', 'cat /run/bulk-tcp.out 2>/dev/null');
      return out.stdout.includes('\n') ? out.stdout : undefined;
    });
    const sent = parseTransfer(served, 'the server (agent namespace)');
    const after = { agent: await offloadCounters(guest), client: await snmp(guest, ns, clientSnmp), server: await snmp(guest, 'server', ['TcpRetransSegs']) };
    const espIn = plain ? 0 : (await espBytes(guest, ns, CLIENT_ADDRESSES[ns] ?? '', 'to')) - espBefore;

    check(sent.bytes === DOWNLOAD_BYTES, `the server sent ${sent.bytes} bytes, expected ${DOWNLOAD_BYTES}`);
    check(received.bytes === sent.bytes, `the client received ${received.bytes} bytes of the ${sent.bytes} sent`);
    check(received.sha256 === sent.sha256, `SHA-256 differs: sent ${sent.sha256}, received ${received.sha256}`);
    const csumErrors = after.client.TcpInCsumErrors! - before.client.TcpInCsumErrors!;
    const hdrErrors = after.client.IpInHdrErrors! - before.client.IpInHdrErrors!;
    check(csumErrors === 0 && hdrErrors === 0, `the client's kernel refused packets: TcpInCsumErrors +${csumErrors}, IpInHdrErrors +${hdrErrors}`);
    const delta = {
      superPackets: after.agent.superPackets - before.agent.superPackets,
      segments: after.agent.segments - before.agent.segments,
      checksums: after.agent.checksums - before.agent.checksums,
      badOffload: after.agent.badOffload - before.agent.badOffload,
      gsoMessages: after.agent.gsoMessages - before.agent.gsoMessages,
      gsoDatagrams: after.agent.gsoDatagrams - before.agent.gsoDatagrams,
      gsoRefused: after.agent.gsoRefused - before.agent.gsoRefused,
    };
    const offloadLine = `agent: +${delta.superPackets} super-packets -> +${delta.segments} segments, +${delta.checksums} checksums completed`;
    if (delta.superPackets === 0) {
      const tun = await guest.sh('server', `ip -d link show ${AGENT_TUN}; ethtool -k ${AGENT_TUN} 2>&1 | grep -E 'segmentation|checksum'`);
      check(false, `no TSO super-packet reached the agent during the download (${offloadLine}; TUN ${mode}): ${tun.stdout.trim().replace(/\s+/g, ' ').slice(0, 600)}`);
    }
    check(delta.segments > delta.superPackets, `${offloadLine}: a super-packet makes at least 2 segments`);
    check(delta.badOffload === 0, `the agent dropped ${delta.badOffload} super-packets or partial checksums as bad-offload`);
    const gsoLine = `UDP GSO: +${delta.gsoMessages} messages -> +${delta.gsoDatagrams} datagrams, +${delta.gsoRefused} refused`;
    if (plain) {
      // Without IPsec the segments of a super-packet leave as one UDP GSO message each.
      check(delta.gsoMessages > 0 && delta.gsoDatagrams > delta.gsoMessages, `${gsoLine}: the plain route should take UDP GSO`);
      check(delta.gsoRefused === 0, `${gsoLine}: the plain route refused UDP GSO`);
    } else {
      check(espIn >= DOWNLOAD_BYTES, `the client's inbound ESP SA carried ${espIn} bytes during the download, less than the ${DOWNLOAD_BYTES} downloaded`);
      // The kernel takes no UDP GSO into an IPsec SA (EIO): the agent learns it at the first run of
      // equal-sized datagrams to this client (often PPP negotiation already), then sends one by one.
      check(
        delta.gsoMessages === 0 && after.agent.gsoRefused >= 1,
        `${gsoLine} (${after.agent.gsoRefused} refused since the agent started): through IPsec the kernel should refuse UDP GSO and the agent fall back`,
      );
    }

    await hangUp(guest, ns);
    const stopped = await waitFor(ctx, 'the session stopped at the broker with counters', 20_000, async () => {
      const s = (await listSessions(ctx, user)).find((x) => x.sessionId === active.sessionId);
      return s && s.state === 'stopped' ? s : undefined;
    });
    const c = stopped.counters;
    check(c.bytesOut >= DOWNLOAD_BYTES, `broker session bytesOut ${c.bytesOut} < ${DOWNLOAD_BYTES} downloaded`);
    const mbps = received.bytes / 1e6 / (received.ms / 1000);
    const retrans = after.server.TcpRetransSegs! - before.server.TcpRetransSegs!;
    return (
      `${(DOWNLOAD_BYTES / 1048576).toFixed(0)} MiB ${POOL_GATEWAY} -> ${clientAddress} in ${seconds(received.ms)} = ${mbps.toFixed(2)} MB/s, sha256 equal; ` +
      `TUN ${mode}, ${offloadLine} (${(delta.segments / delta.superPackets).toFixed(1)}/super-packet); ` +
      `${gsoLine}; client +${after.client.TcpInSegs! - before.client.TcpInSegs!} TCP segments in, 0 csum errors; server ${retrans} retransmits; ` +
      `${plain ? 'no IPsec' : `esp in ${espIn} B`}; broker out ${c.packetsOut}p/${c.bytesOut}B`
    );
  } finally {
    await guest.sh('server', 'pid=$(cat /run/bulk-tcp.pid 2>/dev/null) && kill $pid 2>/dev/null; rm -f /run/bulk-tcp.pid; true');
    await resetClient(guest, ns);
  }
}

export const tcpDownloadScenarios: Scenario<E2eContext>[] = [
  {
    name: 'tcp-download',
    title: 'bulk TCP download from the pool gateway: TSO super-packets cut by the agent, bytes intact, through ESP',
    run: (ctx) => tcpDownload(ctx, 'c1', 'dave'),
  },
  {
    name: 'plain-tcp-download',
    title: 'the same download over L2TP without IPsec: the segments leave as UDP GSO messages (agent restarted with IPSEC=off)',
    plainAgent: true,
    run: (ctx) => tcpDownload(ctx, 'c1', 'dave', true),
  },
];
