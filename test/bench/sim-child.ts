/**
 * The client side in a process of its own: the L2TP/PPP simulator (test/simulator) brings sessions up
 * against the agent; then, for the data path, this process blasts pre-built L2TP data frames
 * (one per session, sent round-robin, no per-packet work) and counts the IPv4 packets the
 * sessions receive. Driven over IPC by data-path.ts and density.ts.
 *
 * Sessions come from several loopback source addresses (127.0.0.x, all of 127/8 is local), a few
 * tunnels each, so the agent's per-peer SCCRQ limit (a protection against floods from one address)
 * is met as it would be by real, distinct clients.
 */
import { openUdp, type DatagramSocket } from '../../edge-agent/src/io';
import { openTunnels, type SimulatorRun, type SimSession } from '../simulator';
import { internetChecksum } from '../../edge-agent/src/datapath/checksum';
import { serveRpc } from './child-rpc';
import { ipv4, l2tpFrame, udpPacket } from './packets';

interface OpenArgs {
  readonly server: { address: string; port: number };
  readonly sessions: number;
  readonly sessionsPerTunnel: number;
  readonly tunnelsPerSource: number;
  /** First source address index: 127.0.<x>.<y> counting from here, so reconnects can reuse or move. */
  readonly firstSource: number;
  readonly username: string;
  readonly password: string;
  readonly echoIntervalMs?: number;
  readonly helloIntervalMs?: number;
  readonly setupMs?: number;
  /** Sessions being set up at once, over all sources (default: all); paces a burst so queued clients do not time out. */
  readonly pendingBudget?: number;
  /** Failed sessions redial (from new sockets, like clients set to reconnect) until this deadline; 0 = no redial. */
  readonly redialForMs?: number;
  /** The batched native socket instead of node:dgram (the data path: the simulator must not be the ceiling). */
  readonly batchedSocket?: boolean;
}

const runs: SimulatorRun[] = [];
/** Source address of each run, in `runs` order. */
const runSources: string[] = [];
let frames: Buffer[] = [];
let received = 0;
let counting = false;
let countStartedAt = 0;
let relaySocket: DatagramSocket | undefined;
const subscribed = new WeakSet<SimSession>();
/** Address -> when its link went down (the disconnect figure). */
const downAt = new Map<string, number>();

/** 127.0.<1..>.<1..254>: never .0 or .255 (source 1,023 was 127.0.4.256 and the 10,000-session storm died on it). */
const sourceAddress = (i: number) => `127.0.${1 + Math.floor(i / 254)}.${1 + (i % 254)}`;

/** One pass: the sessions from `a.firstSource` on, all placed at once (or at most `pendingBudget` in setup at once). */
async function openPass(a: OpenArgs, sessions: number) {
  const tunnels = Math.ceil(sessions / a.sessionsPerTunnel);
  // Spread evenly; a redial pass of a few sessions then uses short tunnels (at most tunnels - 1 extra sessions).
  const perTunnel = Math.ceil(sessions / tunnels);
  const sources = Math.ceil(tunnels / a.tunnelsPerSource);
  const opened = await Promise.all(
    Array.from({ length: sources }, (_, s) => {
      const first = s * a.tunnelsPerSource;
      const count = Math.min(a.tunnelsPerSource, tunnels - first);
      return openTunnels({
        server: a.server,
        tunnels: count,
        sessionsPerTunnel: perTunnel,
        credentials: () => ({ username: a.username, password: a.password, method: 'mschapv2' }),
        localAddress: sourceAddress(a.firstSource + s),
        shareSocket: true,
        ...(a.batchedSocket ? { batchedSocket: true } : {}),
        ...(a.pendingBudget ? { concurrency: Math.max(1, Math.floor(a.pendingBudget / perTunnel / sources)) } : {}),
        timeouts: {
          setupMs: a.setupMs ?? 120_000,
          echoIntervalMs: a.echoIntervalMs ?? 30_000,
          helloIntervalMs: a.helloIntervalMs ?? 60_000,
          closeMs: 5_000,
        },
      });
    }),
  );
  runs.push(...opened);
  runSources.push(...opened.map((_, s) => sourceAddress(a.firstSource + s)));
  return { opened, sources };
}

async function open(a: OpenArgs) {
  const t0 = performance.now();
  const reasons: Record<string, number> = {};
  let ok = 0;
  let failed = 0;
  let redials = 0;
  let firstSource = a.firstSource;
  let wanted = a.sessions;
  let gateway: string | undefined;
  for (let pass = 0; wanted > 0; pass++) {
    const { opened, sources } = await openPass({ ...a, firstSource }, wanted);
    firstSource += sources;
    const results = opened.flatMap((r) => r.results());
    gateway ??= results.find((r) => r.gateway)?.gateway;
    for (const r of results) if (!r.ok) reasons[r.reason ?? 'unknown'] = (reasons[r.reason ?? 'unknown'] ?? 0) + 1;
    ok = Math.min(a.sessions, ok + results.filter((r) => r.ok).length);
    failed = results.filter((r) => !r.ok).length; // those still down after this pass
    if (pass > 0) redials += wanted;
    wanted = failed;
    if (!a.redialForMs || performance.now() - t0 > a.redialForMs) break;
  }
  // Duplicates among the sessions up now (two clients holding one address at once). Counting every
  // pass's successes instead also counted an address re-leased after an earlier holder went down.
  const addresses = new Map<string, number>();
  for (const s of upSessions()) if (s.address) addresses.set(s.address, (addresses.get(s.address) ?? 0) + 1);
  return {
    seconds: (performance.now() - t0) / 1000,
    ok,
    failed,
    redials,
    reasons,
    duplicateAddresses: [...addresses.values()].reduce((sum, n) => sum + n - 1, 0),
    gateway,
  };
}

const upSessions = () => runs.flatMap((r) => r.up());
/** Up sessions with the tunnel that carries them (its socket is the one the agent knows). */
const upWithTunnels = () => runs.flatMap((r) => r.up().map((s) => ({ session: s, tunnel: r.tunnels[s.result().tunnel]! })));

/** Frames for the first `sessions` sessions: UDP from the client's address to `destination`, `size`-byte IP packets. */
function prepare(a: { size: number; sessions: number; destination: string; rewriteSecondOctet?: number }) {
  const sessions = upSessions().slice(0, a.sessions);
  frames = sessions.map((s) => {
    const packet = udpPacket(ipv4(s.address!), ipv4(a.destination), a.size);
    if (a.rewriteSecondOctet !== undefined) {
      // For the bare relay: the same packet from the relay's pool (its TUN routes that block).
      packet[13] = a.rewriteSecondOctet;
      packet.writeUInt16BE(0, 10);
      packet.writeUInt16BE(internetChecksum(packet, 0, 20), 10);
    }
    const r = s.result();
    return l2tpFrame(r.peerTunnelId, r.peerSessionId, packet);
  });
  for (const s of sessions) {
    if (subscribed.has(s)) continue;
    subscribed.add(s);
    s.onIpPacket(() => {
      if (counting) received++;
    });
  }
  return { frames: frames.length, frameBytes: frames[0]?.length ?? 0 };
}

/** Sends the prepared frames round-robin for `seconds`: to the agent through each session's own tunnel socket, or to the relay. */
async function blast(a: { seconds: number; relay?: { address: string; port: number } }) {
  // Batched like the sessions' sockets (data-path.ts opens them batched), so both targets get the same generator.
  if (a.relay && !relaySocket) relaySocket = await openUdp({ address: '127.0.0.1', port: 0, sendBufferSize: 4 << 20, marks: 'auto' });
  const senders = upWithTunnels().slice(0, frames.length).map((x) => x.tunnel);
  const end = performance.now() + a.seconds * 1000;
  let sent = 0;
  let i = 0;
  const burst = 256;
  const t0 = performance.now();
  while (performance.now() < end) {
    for (let k = 0; k < burst; k++) {
      const frame = frames[i]!;
      if (a.relay) relaySocket!.send(frame, a.relay.port, a.relay.address);
      else senders[i]!.send(frame);
      i = i + 1 === frames.length ? 0 : i + 1;
    }
    sent += burst;
    // Let libuv flush the sends and the other handles run.
    await new Promise<void>((r) => setImmediate(r));
  }
  return { sent, seconds: (performance.now() - t0) / 1000 };
}

serveRpc(
  {
    open: (a) => open(a as unknown as OpenArgs),
    up: () => upSessions().length,
    addresses: (a) => upSessions().slice(0, Number(a.count ?? Infinity)).map((s) => s.address),
    prepare: (a) => prepare(a as unknown as Parameters<typeof prepare>[0]),
    blast: (a) => blast(a as unknown as Parameters<typeof blast>[0]),
    /** Header of session 0's frames, for the bare relay to prepend (so this process parses its packets alike). */
    client0: () => ({ address: runSources[0], port: upWithTunnels()[0]?.tunnel.localPort }),
    header: () => {
      const r = upSessions()[0]?.result();
      return r ? l2tpFrame(r.localTunnelId, r.localSessionId, new Uint8Array(0)).toString('hex') : undefined;
    },
    countStart: () => {
      received = 0;
      counting = true;
      countStartedAt = performance.now();
      return true;
    },
    countStop: () => {
      counting = false;
      return { received, seconds: (performance.now() - countStartedAt) / 1000 };
    },
    /** Drops every session and tunnel (LCP Terminate, CDN, StopCCN) without waiting for the answers. */
    dropAll: () => {
      runSources.splice(0);
      const closing = runs.splice(0).map((r) => r.close());
      void Promise.allSettled(closing);
      return closing.length;
    },
    closeAll: async () => {
      runSources.splice(0);
      await Promise.allSettled(runs.splice(0).map((r) => r.close()));
      return true;
    },
    /** Starts recording, per up session's address, when its PPP link goes down (Date.now(), the bench's clock too). */
    watchDown: () => {
      downAt.clear();
      for (const s of upSessions()) {
        const address = s.address;
        if (!address) continue;
        s.waitForLinkDown(900_000).then(
          () => downAt.set(address, Date.now()),
          () => undefined,
        );
      }
      return true;
    },
    downAt: () => Object.fromEntries(downAt),
    memory: () => process.memoryUsage(),
  },
  async () => {
    await Promise.allSettled(runs.map((r) => r.close()));
    await relaySocket?.close();
  },
);
