/**
 * `openTunnels`: bring up N L2TP tunnels with M PPP sessions each against a server (the edge agent's LNS), on real
 * UDP sockets, and hand back the live sessions for pings, raw IP, disconnects and teardown.
 */
import { createPppClientCrypto, type PppClientCrypto } from '../../edge-agent/src/ppp';
import { SimEndpoint } from './sim-endpoint';
import { SimSession } from './sim-session';
import { SimTunnel } from './sim-tunnel';
import type { OpenTunnelsOptions, SessionResult } from './types';

export interface SimulatorRun {
  readonly tunnels: readonly SimTunnel[];
  /** In global index order (tunnel * sessionsPerTunnel + session). */
  readonly sessions: readonly SimSession[];
  /** Setup outcome of every session. */
  results(): SessionResult[];
  /** Sessions that came up and are still up. */
  up(): SimSession[];
  /** Hang up every session that is up (LCP Terminate + CDN), StopCCN every tunnel, close the sockets. */
  close(): Promise<void>;
}

/** Opens the tunnels and sessions; resolves once every session is up or has failed (never rejects for a session). */
export async function openTunnels(options: OpenTunnelsOptions): Promise<SimulatorRun> {
  const timeouts = options.timeouts ?? {};
  const shared = options.localPort !== undefined || options.shareSocket === true;
  const localAddress = options.localAddress ?? '0.0.0.0';
  const endpoints: SimEndpoint[] = [];
  const tunnels: SimTunnel[] = [];
  const sessions: SimSession[] = [];
  const cryptoCache = new Map<string, Promise<PppClientCrypto>>();
  const cryptoFor = (password: string) => {
    let found = cryptoCache.get(password);
    if (!found) cryptoCache.set(password, (found = createPppClientCrypto(password)));
    return found;
  };

  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    const closeMs = timeouts.closeMs ?? 5000;
    await Promise.all(sessions.filter((s) => s.phase === 'up').map((s) => s.disconnect(closeMs).catch(() => undefined)));
    await Promise.all(tunnels.map((t) => t.close(closeMs)));
    await Promise.all(endpoints.map((e) => e.close()));
  };

  try {
    const sharedEndpoint = shared ? await SimEndpoint.open(localAddress, options.localPort ?? 0, options.server, options.batchedSocket) : undefined;
    if (sharedEndpoint) endpoints.push(sharedEndpoint);
    const secret = options.tunnelSecret === undefined ? undefined : new TextEncoder().encode(options.tunnelSecret);

    // Build everything first (crypto precomputation is async), then start tunnels with bounded concurrency.
    const plans: Array<{ tunnel: SimTunnel; sessions: SimSession[] }> = [];
    for (let t = 0; t < options.tunnels; t++) {
      const endpoint = sharedEndpoint ?? (await SimEndpoint.open(localAddress, 0, options.server, options.batchedSocket));
      if (!sharedEndpoint) endpoints.push(endpoint);
      let tunnel: SimTunnel | undefined;
      endpoint.attach((localTunnelId) => {
        tunnel = new SimTunnel({ index: t, endpoint, localTunnelId, timeouts, ...(secret ? { secret } : {}), ...(options.onEvent ? { onEvent: options.onEvent } : {}) });
        return tunnel;
      });
      if (!tunnel) throw new Error('tunnel was not created');
      tunnels.push(tunnel);
      const own: SimSession[] = [];
      for (let s = 0; s < options.sessionsPerTunnel; s++) {
        const index = t * options.sessionsPerTunnel + s;
        const credentials = options.credentials(index);
        const crypto = await cryptoFor(credentials.password);
        own.push(new SimSession(index, tunnel, credentials, crypto, timeouts, options.mru ?? 1400));
      }
      sessions.push(...own);
      plans.push({ tunnel, sessions: own });
    }

    const startPlan = async (plan: (typeof plans)[number]) => {
      void plan.tunnel.open();
      // The engine queues ICRQs until SCCCN is sent (§7.4.2), so calls can be placed right away. A tunnel that never
      // comes up fails its sessions through their setup timeout.
      for (const session of plan.sessions) plan.tunnel.placeCall(session);
      await Promise.all(plan.sessions.map((session) => session.settled()));
    };
    await runLimited(plans, options.concurrency ?? plans.length, startPlan);
    for (const session of sessions) {
      const result = session.result();
      options.onEvent?.(
        result.ok
          ? { kind: 'session-up', session: result.index, address: result.address ?? '', setupMs: result.setupMs ?? 0 }
          : { kind: 'session-failed', session: result.index, reason: result.reason ?? 'unknown' },
      );
    }
  } catch (error) {
    await close();
    throw error;
  }

  return {
    tunnels,
    sessions,
    results: () => sessions.map((s) => s.result()),
    up: () => sessions.filter((s) => s.phase === 'up'),
    close,
  };
}

async function runLimited<T>(items: readonly T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await run(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}
