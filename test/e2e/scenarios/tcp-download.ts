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
import { ScenarioSkipped } from '../lib/errors';
import type { Scenario } from '../lib/runner';
import { AGENT_TUN } from '../lib/server';
import { CLIENT_ADDRESSES, POOL_GATEWAY, type GuestNamespace } from '../lib/topology';
import { agentOffloadMode, BULK_BYTES, bulkServerReport, closeBulkSession, espBytes, hangUpForCounters, NODE, offloadCounters, openBulkSession, parseTransfer, SCRIPT, snmp, startBulkServer } from './bulk-tcp';
import { check, seconds, type E2eContext } from './context';

const PORT = 18021;

/** `plain`: over L2TP without IPsec, against the agent restarted with IPSEC=off (a plainAgent scenario). */
export async function tcpDownload(runCtx: E2eContext, ns: GuestNamespace, user: string, plain = false): Promise<string> {
  if (runCtx.ipsec === 'off' && !plain) throw new ScenarioSkipped('IPsec is off in this run');
  const ctx: E2eContext = plain ? { ...runCtx, ipsec: 'off' } : runCtx;
  const { guest } = ctx;
  const mode = await agentOffloadMode(ctx);
  check(mode !== undefined, 'the server agent logged no "edge agent listening" line with tunOffloads');
  check(
    mode !== 'none',
    `the agent's TUN runs without offloads (it logged tunOffloads "none": the guest kernel refused TUNSETOFFLOAD, or the agent runs with TUN_OFFLOAD=off), so this download cannot exercise TSO`,
  );
  const { clientAddress, active, timeoutS } = await openBulkSession(ctx, ns, user);
  try {
    const clientSnmp = ['TcpInCsumErrors', 'IpInHdrErrors', 'TcpInSegs'] as const;
    const before = { agent: await offloadCounters(guest), client: await snmp(guest, ns, clientSnmp), server: await snmp(guest, 'server', ['TcpRetransSegs']) };
    const espBefore = plain ? 0 : await espBytes(guest, ns, CLIENT_ADDRESSES[ns] ?? '', 'to');
    await startBulkServer(guest, `serve ${POOL_GATEWAY} ${PORT} ${BULK_BYTES}`, timeoutS);
    const fetched = await guest.sh(ns, `'${NODE}' '${SCRIPT}' fetch ${POOL_GATEWAY} ${PORT} ${timeoutS} 2>&1`, { timeoutMs: 70_000 });
    const received = parseTransfer(fetched.stdout, `the client (${ns})`);
    const served = await bulkServerReport(ctx, 'download');
    const sent = parseTransfer(served, 'the server (agent namespace)');
    const after = { agent: await offloadCounters(guest), client: await snmp(guest, ns, clientSnmp), server: await snmp(guest, 'server', ['TcpRetransSegs']) };
    const espIn = plain ? 0 : (await espBytes(guest, ns, CLIENT_ADDRESSES[ns] ?? '', 'to')) - espBefore;

    check(sent.bytes === BULK_BYTES, `the server sent ${sent.bytes} bytes, expected ${BULK_BYTES}`);
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
      check(espIn >= BULK_BYTES, `the client's inbound ESP SA carried ${espIn} bytes during the download, less than the ${BULK_BYTES} downloaded`);
      // The kernel takes no UDP GSO into an IPsec SA (EIO): the agent learns it at the first run of
      // equal-sized datagrams to this client (often PPP negotiation already), then sends one by one.
      check(
        delta.gsoMessages === 0 && after.agent.gsoRefused >= 1,
        `${gsoLine} (${after.agent.gsoRefused} refused since the agent started): through IPsec the kernel should refuse UDP GSO and the agent fall back`,
      );
    }

    const c = await hangUpForCounters(ctx, ns, user, active.sessionId);
    check(c.bytesOut >= BULK_BYTES, `broker session bytesOut ${c.bytesOut} < ${BULK_BYTES} downloaded`);
    const mbps = received.bytes / 1e6 / (received.ms / 1000);
    const retrans = after.server.TcpRetransSegs! - before.server.TcpRetransSegs!;
    return (
      `${(BULK_BYTES / 1048576).toFixed(0)} MiB ${POOL_GATEWAY} -> ${clientAddress} in ${seconds(received.ms)} = ${mbps.toFixed(2)} MB/s, sha256 equal; ` +
      `TUN ${mode}, ${offloadLine} (${(delta.segments / delta.superPackets).toFixed(1)}/super-packet); ` +
      `${gsoLine}; client +${after.client.TcpInSegs! - before.client.TcpInSegs!} TCP segments in, 0 csum errors; server ${retrans} retransmits; ` +
      `${plain ? 'no IPsec' : `esp in ${espIn} B`}; broker out ${c.packetsOut}p/${c.bytesOut}B`
    );
  } finally {
    await closeBulkSession(guest, ns);
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
