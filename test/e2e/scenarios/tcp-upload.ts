/**
 * Issue 21: a bulk TCP upload through the agent's GRO write path. A real client connects over
 * L2TP/IPsec and sends 8 MiB of random bytes to a TCP server bound to the pool gateway in the
 * agent's namespace. The agent reads the client's segments in batches (recvmmsg) and writes
 * consecutive segments of the flow into its TUN as one TCP super-packet (datapath/gro.ts), which
 * the agent's own kernel cuts apart again and checks. Checked: the same size and SHA-256 on both
 * ends, no checksum or header errors in the server's kernel, joined writes counted by the agent's
 * metrics, the bytes carried by the client's outbound ESP SA, and the broker's session counters.
 */
import { ScenarioSkipped } from '../lib/errors';
import type { Scenario } from '../lib/runner';
import { CLIENT_ADDRESSES, POOL_GATEWAY, type GuestNamespace } from '../lib/topology';
import { agentOffloadMode, BULK_BYTES as UPLOAD_BYTES, bulkServerReport, closeBulkSession, espBytes, hangUpForCounters, NODE, offloadCounters, openBulkSession, parseTransfer, SCRIPT, snmp, startBulkServer } from './bulk-tcp';
import { check, seconds, type E2eContext } from './context';

const PORT = 18022;

async function tcpUpload(ctx: E2eContext, ns: GuestNamespace, user: string): Promise<string> {
  if (ctx.ipsec === 'off') throw new ScenarioSkipped('IPsec is off in this run');
  const { guest } = ctx;
  const mode = await agentOffloadMode(ctx);
  check(mode !== undefined && mode !== 'none', `the agent's TUN runs without offloads (tunOffloads ${mode ?? 'not logged'}), so its writes cannot be joined`);
  const { clientAddress, active, timeoutS } = await openBulkSession(ctx, ns, user);
  try {
    const serverSnmp = ['TcpInCsumErrors', 'IpInHdrErrors', 'TcpInSegs'] as const;
    const before = { agent: await offloadCounters(guest), server: await snmp(guest, 'server', serverSnmp), client: await snmp(guest, ns, ['TcpRetransSegs']) };
    const espBefore = await espBytes(guest, ns, CLIENT_ADDRESSES[ns] ?? '', 'from');
    await startBulkServer(guest, `sink ${POOL_GATEWAY} ${PORT}`, timeoutS);
    const pushed = await guest.sh(ns, `'${NODE}' '${SCRIPT}' push ${POOL_GATEWAY} ${PORT} ${UPLOAD_BYTES} ${timeoutS} 2>&1`, { timeoutMs: 70_000 });
    const sent = parseTransfer(pushed.stdout, `the client (${ns})`);
    const taken = await bulkServerReport(ctx, 'upload');
    const received = parseTransfer(taken, 'the server (agent namespace)');
    const after = { agent: await offloadCounters(guest), server: await snmp(guest, 'server', serverSnmp), client: await snmp(guest, ns, ['TcpRetransSegs']) };
    const espOut = (await espBytes(guest, ns, CLIENT_ADDRESSES[ns] ?? '', 'from')) - espBefore;

    check(sent.bytes === UPLOAD_BYTES, `the client sent ${sent.bytes} bytes, expected ${UPLOAD_BYTES}`);
    check(received.bytes === sent.bytes, `the server received ${received.bytes} bytes of the ${sent.bytes} sent`);
    check(received.sha256 === sent.sha256, `SHA-256 differs: sent ${sent.sha256}, received ${received.sha256}`);
    const csumErrors = after.server.TcpInCsumErrors! - before.server.TcpInCsumErrors!;
    const hdrErrors = after.server.IpInHdrErrors! - before.server.IpInHdrErrors!;
    check(csumErrors === 0 && hdrErrors === 0, `the server's kernel refused packets the agent wrote: TcpInCsumErrors +${csumErrors}, IpInHdrErrors +${hdrErrors}`);
    const writes = after.agent.coalescedWrites - before.agent.coalescedWrites;
    const joined = after.agent.coalescedPackets - before.agent.coalescedPackets;
    const groLine = `agent: +${writes} joined writes carrying +${joined} segments`;
    check(writes > 0 && joined >= 2 * writes, `${groLine}: no client segments were joined into a TUN super-packet during the upload`);
    check(after.agent.badOffload === before.agent.badOffload, 'the agent counted bad-offload drops during the upload');
    check(espOut >= UPLOAD_BYTES, `the client's outbound ESP SA carried ${espOut} bytes during the upload, less than the ${UPLOAD_BYTES} uploaded`);

    const c = await hangUpForCounters(ctx, ns, user, active.sessionId);
    check(c.bytesIn >= UPLOAD_BYTES, `broker session bytesIn ${c.bytesIn} < ${UPLOAD_BYTES} uploaded`);
    const mbps = sent.bytes / 1e6 / (sent.ms / 1000);
    const retrans = after.client.TcpRetransSegs! - before.client.TcpRetransSegs!;
    return (
      `${(UPLOAD_BYTES / 1048576).toFixed(0)} MiB ${clientAddress} -> ${POOL_GATEWAY} in ${seconds(sent.ms)} = ${mbps.toFixed(2)} MB/s, sha256 equal; ` +
      `TUN ${mode}, ${groLine} (${(joined / writes).toFixed(1)}/write); server +${after.server.TcpInSegs! - before.server.TcpInSegs!} TCP segments in, 0 csum errors; ` +
      `client ${retrans} retransmits; esp out ${espOut} B; broker in ${c.packetsIn}p/${c.bytesIn}B`
    );
  } finally {
    await closeBulkSession(guest, ns);
  }
}

export const tcpUploadScenarios: Scenario<E2eContext>[] = [
  {
    name: 'tcp-upload',
    title: 'bulk TCP upload to the pool gateway: client segments joined into TUN super-packets by the agent, bytes intact, through ESP',
    run: (ctx) => tcpUpload(ctx, 'c1', 'dave'),
  },
];
