/**
 * What the bulk TCP scenarios (`tcp-download`, `tcp-upload`, `plain-tcp-download`) share: a client
 * session that reaches the pool gateway, the transfer script (guest/bulk-tcp.mjs) run as a server in
 * the agent's namespace, and the counters they compare before and after: the agent's offload
 * metrics, kernel SNMP counters, ESP SA bytes and the broker's session counters.
 */
import { resolve } from 'node:path';
import { connectClient, hangUp, pingOverPpp, resetClient } from '../lib/clients';
import type { Guest } from '../lib/guest';
import { POOL_GATEWAY, type GuestNamespace } from '../lib/topology';
import { check, listSessions, profile, waitFor, type E2eContext } from './context';

/** What each transfer moves. */
export const BULK_BYTES = 8 * 1024 * 1024;
export const SCRIPT = resolve(import.meta.dirname, '../guest/bulk-tcp.mjs');
/** The agent's METRICS_LISTEN default (the harness leaves it), loopback of its namespace. */
const METRICS_URL = 'http://127.0.0.1:9469/metrics';
export const NODE = process.execPath;

/**
 * The offload mode the running server agent logged at start (`tunOffloads` of "edge agent
 * listening"); waits a little, since the harness may see the agent ready before its log line lands.
 */
export async function agentOffloadMode(ctx: E2eContext): Promise<string | undefined> {
  try {
    return await waitFor(ctx, 'the agent\'s "edge agent listening" line', 10_000, async () => {
      const out = await ctx.guest.sh('server', `grep '"edge agent listening"' /run/log/agent.log | tail -1`);
      return /"tunOffloads":"([^"]+)"/.exec(out.stdout)?.[1];
    });
  } catch {
    return undefined;
  }
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

/**
 * Connects `ns` as `user` (MS-CHAPv2) and waits until the broker shows the session active and the
 * pool gateway answers a ping over ppp0 (the data path is up before a server binds to it). On a
 * failure the client is reset before the error goes on.
 */
export async function openBulkSession(ctx: E2eContext, ns: GuestNamespace, user: string) {
  const { guest } = ctx;
  const link = await connectClient(guest, ns, profile(ctx, ns, user, 'mschapv2'));
  const clientAddress = link.localAddress;
  try {
    const active = await waitFor(ctx, 'the active session at the broker', 10_000, async () =>
      (await listSessions(ctx, user)).find((s) => s.state === 'active' && s.assignedIp === clientAddress),
    );
    const ping = await pingOverPpp(guest, ns, POOL_GATEWAY, 1);
    check(ping.received === 1, `no ping reply from ${POOL_GATEWAY} over ppp0: ${ping.detail}`);
    return { clientAddress, active, timeoutS: Math.ceil(60 * guest.scale) };
  } catch (error) {
    await resetClient(guest, ns);
    throw error;
  }
}

/** Starts bulk-tcp.mjs `args` (`serve ADDRESS PORT BYTES` or `sink ADDRESS PORT`) in the agent's namespace, detached, and waits until it listens. */
export async function startBulkServer(guest: Guest, args: string, timeoutS: number): Promise<void> {
  await guest.must(
    'server',
    `rm -f /run/bulk-tcp.ready /run/bulk-tcp.out
     setsid -f sh -c 'echo $$ > /run/bulk-tcp.pid; exec "$0" "$@"' '${NODE}' '${SCRIPT}' ${args} /run/bulk-tcp.ready ${timeoutS} >/run/bulk-tcp.out 2>&1 </dev/null
     i=0; until [ -f /run/bulk-tcp.ready ]; do i=$((i+1)); [ $i -gt $((150*E2E_SCALE)) ] && { cat /run/bulk-tcp.out; exit 1; }; sleep 0.1; done`,
  );
}

/** The server's one-line JSON report of the transfer (it prints it when the transfer ends). */
export async function bulkServerReport(ctx: E2eContext, what: string): Promise<string> {
  return waitFor(ctx, `the server's report of the ${what}`, 10_000, async () => {
    const out = await ctx.guest.sh('server', 'cat /run/bulk-tcp.out 2>/dev/null');
    return out.stdout.includes('\n') ? out.stdout : undefined;
  });
}

/** Hangs the client up and returns the session's final counters at the broker. */
export async function hangUpForCounters(ctx: E2eContext, ns: GuestNamespace, user: string, sessionId: string) {
  await hangUp(ctx.guest, ns);
  const stopped = await waitFor(ctx, 'the session stopped at the broker with counters', 20_000, async () => {
    const s = (await listSessions(ctx, user)).find((x) => x.sessionId === sessionId);
    return s && s.state === 'stopped' ? s : undefined;
  });
  return stopped.counters;
}

/** Stops the server if it still runs and resets the client. */
export async function closeBulkSession(guest: Guest, ns: GuestNamespace): Promise<void> {
  await guest.sh('server', 'pid=$(cat /run/bulk-tcp.pid 2>/dev/null) && kill $pid 2>/dev/null; rm -f /run/bulk-tcp.pid; true');
  await resetClient(guest, ns);
}
