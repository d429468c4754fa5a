/**
 * Happy-path scenarios: one real client per authentication method connects, gets an address
 * from the tenant's pool, pings the agent's PPP address (the pool gateway), hangs up, and the
 * broker shows the session with its traffic counters.
 */
import type { AuthMethod } from '../../../functions/src/domain/types';
import { connectClient, hangUp, pingOverPpp, resetClient, waitPppGone } from '../lib/clients';
import type { Guest } from '../lib/guest';
import type { Scenario } from '../lib/runner';
import { INTERIM_INTERVAL_SECONDS } from '../lib/server';
import { POOL_GATEWAY, type GuestNamespace } from '../lib/topology';
import { check, listSessions, profile, seconds, waitFor, type E2eContext } from './context';

/** ESP byte counters of the client's SAs (proof the traffic went through IPsec). */
export async function espBytes(guest: Guest, ns: GuestNamespace): Promise<number> {
  const out = await guest.sh(ns, "ip -s xfrm state | grep -E '^\\s+[0-9]+\\(bytes\\)'");
  return out.stdout.split('\n').reduce((sum, line) => sum + (Number(/(\d+)\(bytes\)/.exec(line)?.[1]) || 0), 0);
}

/** Connect, ping the gateway, check the broker's session, hang up, check the stopped session's counters. */
export async function connectPingHangUp(ctx: E2eContext, ns: GuestNamespace, user: string, method: AuthMethod): Promise<string> {
  const { guest } = ctx;
  const link = await connectClient(guest, ns, profile(ctx, ns, user, method));
  try {
    check(link.peerAddress === POOL_GATEWAY, `ppp0 peer is ${link.peerAddress}, expected the pool gateway ${POOL_GATEWAY}`);
    check(link.localAddress.startsWith('10.8.0.'), `ppp0 address ${link.localAddress} is not from the pool 10.8.0.0/24`);
    const active = await waitFor(ctx, 'the active session at the broker', 10_000, async () =>
      (await listSessions(ctx, user)).find((s) => s.state === 'active' && s.assignedIp === link.localAddress),
    );
    check(active.authMethod === method, `broker recorded authMethod ${active.authMethod}, expected ${method}`);
    const ping = await pingOverPpp(guest, ns, POOL_GATEWAY, 5);
    check(ping.firstReplyMs !== undefined, `no ping reply from ${POOL_GATEWAY} over ppp0 within 15 s: ${ping.detail}`);
    check(ping.received === 5, `ping ${POOL_GATEWAY} over ppp0: ${ping.received}/5 replies: ${ping.detail}`);
    // Mid-session counters: the agent runs with a short INTERIM_INTERVAL_SECONDS, so an interim
    // report must show the pings at the broker while the session is still active.
    const interim = await waitFor(ctx, `interim counters of the active session (interim every ${INTERIM_INTERVAL_SECONDS} s)`, INTERIM_INTERVAL_SECONDS * 1000 + 10_000, async () => {
      const s = (await listSessions(ctx, user)).find((x) => x.sessionId === active.sessionId);
      check(s?.state === 'active', `session ${active.sessionId} is ${s?.state ?? 'gone'} before hang-up`);
      return s.counters.packetsIn >= 6 && s.counters.packetsOut >= 6 ? s.counters : undefined;
    });
    const esp = ctx.ipsec === 'off' ? undefined : await espBytes(guest, ns);
    if (esp !== undefined) check(esp > 0, 'client ESP SAs carried no bytes: traffic did not go through IPsec');
    await hangUp(guest, ns);
    const goneMs = await waitPppGone(guest, ns, 10_000);
    check(goneMs !== undefined, 'ppp0 still up 10 s after the client hung up');
    const stopped = await waitFor(ctx, 'the session stopped at the broker with counters', 15_000, async () => {
      const s = (await listSessions(ctx, user)).find((x) => x.sessionId === active.sessionId);
      return s && s.state === 'stopped' ? s : undefined;
    });
    const c = stopped.counters;
    check(c.packetsIn >= 6 && c.packetsOut >= 6, `session counters too low: in ${c.packetsIn} pkts, out ${c.packetsOut} pkts`);
    check(c.packetsIn >= interim.packetsIn && c.bytesOut >= interim.bytesOut, 'final counters are below the interim ones');
    return (
      `${link.localAddress} -> ${POOL_GATEWAY} 5/5 ping (1st reply +${seconds(ping.firstReplyMs)}); ike ${seconds(link.ikeMs)}, ppp ${seconds(link.pppMs)}` +
      `${esp === undefined ? '' : `, esp ${esp} B`}; interim (active) in ${interim.packetsIn}p out ${interim.packetsOut}p; broker ${active.sessionId.slice(0, 8)} ` +
      `${stopped.endReason ?? '?'} ` +
      `in ${c.packetsIn}p/${c.bytesIn}B out ${c.packetsOut}p/${c.bytesOut}B`
    );
  } finally {
    await resetClient(guest, ns);
  }
}

export const connectScenarios: Scenario<E2eContext>[] = [
  {
    name: 'mschapv2',
    title: 'MS-CHAPv2 user: pool address, ping gateway, counters at the broker',
    run: (ctx) => connectPingHangUp(ctx, 'c1', 'alice', 'mschapv2'),
  },
  {
    name: 'chap-md5',
    title: 'CHAP-MD5 user: pool address, ping gateway, counters at the broker',
    run: (ctx) => connectPingHangUp(ctx, 'c2', 'bob', 'chap-md5'),
  },
  {
    name: 'pap',
    title: 'PAP user: pool address, ping gateway, counters at the broker',
    run: (ctx) => connectPingHangUp(ctx, 'c3', 'carol', 'pap'),
  },
  {
    name: 'plain-l2tp',
    title: 'L2TP without IPsec (agent restarted with IPSEC=off ALLOW_PLAIN_L2TP=true)',
    plainAgent: true,
    run: (ctx) => connectPingHangUp({ ...ctx, ipsec: 'off' }, 'c1', 'alice', 'mschapv2'),
  },
];
