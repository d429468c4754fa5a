/**
 * Several clients behind one masquerading NAT, all sending L2TP from port 1701 as Windows' built-in
 * client does (issue 16; docs/ipsec.md "Several clients behind one NAT"). Their decrypted L2TP is
 * the same flow at the server (198.51.100.100:1701 -> 198.51.100.1:1701): the agent tells them
 * apart by the packet mark of the IPsec SA each came through, and answers each with its SA's mark.
 * The negative control runs the same two clients against the agent with L2TP_MARKS=off.
 */
import { CLIENT_CONN } from '../lib/configs';
import { connectClient, ikeSaCount, pingOverPpp, resetClient, waitPppGone, type PppLink } from '../lib/clients';
import { ScenarioSkipped } from '../lib/errors';
import type { Guest } from '../lib/guest';
import type { Scenario } from '../lib/runner';
import { NAT_OUTSIDE_ADDRESS, POOL_GATEWAY, type GuestNamespace } from '../lib/topology';
import { check, listSessions, profile, seconds, waitFor, type ApiSession, type E2eContext } from './context';

interface Client {
  readonly ns: GuestNamespace;
  readonly user: string;
}

const N1: Client = { ns: 'n1', user: 'erin' };
const N2: Client = { ns: 'n2', user: 'frank' };
const N3: Client = { ns: 'n3', user: 'gina' };

function needAgentIpsec(ctx: E2eContext): void {
  if (ctx.ipsec !== 'agent') throw new ScenarioSkipped('needs the agent to drive IPsec (marks are the agent\'s)');
}

/** Connects each client in turn (all on L2TP port 1701, the default profile). */
async function connectAll(ctx: E2eContext, clients: readonly Client[]): Promise<PppLink[]> {
  const links: PppLink[] = [];
  for (const c of clients) {
    links.push(
      await connectClient(ctx.guest, c.ns, profile(ctx, c.ns, c.user, 'mschapv2')).catch(async (error: unknown) => {
        await dumpServerState(ctx);
        throw error;
      }),
    );
  }
  return links;
}

/** Pings the gateway from every client at once; resolves with the replies each got. */
async function pingAll(ctx: E2eContext, clients: readonly Client[], count = 5): Promise<{ received: number; detail: string }[]> {
  return Promise.all(clients.map((c) => pingOverPpp(ctx.guest, c.ns, POOL_GATEWAY, count)));
}

/**
 * Pings every address from the server at once: traffic the agent *starts* towards each client (a
 * download), which request/response traffic from the clients does not test (connmark restores the
 * mark of whichever client sent last, which is the right one for an immediate reply).
 */
async function pingFromServer(ctx: E2eContext, addresses: readonly string[], count = 10): Promise<number[]> {
  const results = await Promise.all(
    addresses.map((a) => ctx.guest.sh('server', `ping -n -c ${count} -i 0.2 -W 2 ${a} 2>&1`, { timeoutMs: 30_000 })),
  );
  return results.map((r) => Number(/(\d+) received/.exec(r.stdout)?.[1] ?? 0));
}

/** The active session of `user` at `address`, as the broker shows it. */
async function activeSession(ctx: E2eContext, user: string, address: string): Promise<ApiSession & { ipsecSa?: { mark: number; ikeSaId: string } }> {
  return waitFor(ctx, `${user}'s active session`, 10_000, async () => (await listSessions(ctx, user)).find((s) => s.state === 'active' && s.assignedIp === address));
}

/** The client's IKE_SA numbers and outbound ESP SPIs (`swanctl --list-sas`: a rekey adds an SPI, a re-authentication an IKE_SA). */
async function clientSas(guest: Guest, ns: GuestNamespace): Promise<{ ikes: string[]; spisOut: string[] }> {
  const out = await guest.must(ns, 'swanctl --list-sas --noblock 2>/dev/null');
  return {
    ikes: [...out.matchAll(/^\S+: #(\d+), ESTABLISHED/gm)].map((m) => m[1]!),
    spisOut: [...out.matchAll(/^\s+out\s+([0-9a-f]{8})/gm)].map((m) => m[1]!),
  };
}

/** Lines of the agent's log so far; `agentLogSince` reads what came after. */
async function agentLogLines(guest: Guest): Promise<number> {
  return Number((await guest.sh('server', 'wc -l < /run/log/agent.log')).stdout.trim()) || 0;
}

async function agentLogSince(guest: Guest, line: number): Promise<string> {
  return (await guest.sh('server', `tail -n +${line + 1} /run/log/agent.log`)).stdout;
}

/** The distinct marks of the server's L2TP SAs to the NAT address (`ip xfrm state`). */
async function serverMarks(guest: Guest): Promise<string[]> {
  const out = await guest.must('server', 'ip xfrm state');
  const marks = new Set<string>();
  for (const block of out.split(/\n(?=src )/)) {
    if (!block.includes(NAT_OUTSIDE_ADDRESS)) continue;
    const mark = /\bmark (0x[0-9a-f]+)\/0xffffffff/.exec(block)?.[1];
    if (mark) marks.add(mark);
  }
  return [...marks].sort();
}

export const nat1701Scenarios: Scenario<E2eContext>[] = [
  {
    name: 'nat-1701-two',
    title: 'Two clients behind one NAT, both on L2TP port 1701: both ping at once; DELETE ends one, the other keeps pinging, rekeys, and renews its IKE_SA',
    async run(ctx) {
      needAgentIpsec(ctx);
      const { guest } = ctx;
      try {
        const [one, two] = await connectAll(ctx, [N1, N2]);
        check(one && two && one.localAddress !== two.localAddress, `both clients got ${one?.localAddress}`);
        const [a, b] = await pingAll(ctx, [N1, N2]);
        if (a?.received !== 5 || b?.received !== 5) await dumpServerState(ctx);
        check(a?.received === 5 && b?.received === 5, `pings at the same time: n1 ${a?.received}/5 (${a?.detail}), n2 ${b?.received}/5 (${b?.detail})`);
        const down = await pingFromServer(ctx, [one.localAddress, two.localAddress]);
        check(down.every((n) => n === 10), `the server pinging both clients at once: n1 ${down[0]}/10, n2 ${down[1]}/10`);
        const marks = await serverMarks(guest);
        check(marks.length >= 2, `expected a distinct mark per client SA at the server, found ${marks.join(', ') || 'none'}`);
        const s1 = await activeSession(ctx, N1.user, one.localAddress);
        const s2 = await activeSession(ctx, N2.user, two.localAddress);
        check(s1.ipsecSa && s2.ipsecSa && s1.ipsecSa.mark !== s2.ipsecSa.mark, `the sessions' SAs: ${JSON.stringify(s1.ipsecSa)} / ${JSON.stringify(s2.ipsecSa)}`);

        // The operator ends n2: its ppp0 and IKE SA go, n1 keeps both and keeps pinging.
        const reply = await ctx.broker.admin('DELETE', `/v1/sessions/${s2.sessionId}`);
        check(reply.status === 202, `DELETE /v1/sessions/${s2.sessionId}: HTTP ${reply.status}`);
        const goneMs = await waitPppGone(guest, N2.ns, 20_000);
        check(goneMs !== undefined, 'n2 ppp0 still up 20 s after DELETE');
        await waitFor(ctx, "n2's IKE SA to be cleared by the agent", 20_000, async () => ((await ikeSaCount(guest, N2.ns)) === 0 ? true : undefined));
        check((await ikeSaCount(guest, N1.ns)) === 1, 'n1 lost its IKE SA when n2 was disconnected');
        const after = await pingOverPpp(guest, N1.ns, POOL_GATEWAY, 5);
        check(after.received === 5, `n1 after n2's disconnect: ${after.received}/5 (${after.detail})`);

        // n1 rekeys its CHILD_SA (Quick Mode under the same IKE_SA).
        const before = await clientSas(guest, N1.ns);
        const logAt = await agentLogLines(guest);
        await guest.must(N1.ns, `swanctl --rekey --child ${CLIENT_CONN}`, { timeoutMs: 20_000 });
        const rekeyed = await waitFor(ctx, 'n1 on a new CHILD_SA', 15_000, async () => {
          const now = await clientSas(guest, N1.ns);
          return now.spisOut.some((spi) => !before.spisOut.includes(spi)) ? now : undefined;
        });
        const afterRekey = await pingOverPpp(guest, N1.ns, POOL_GATEWAY, 5);
        check(afterRekey.received === 5, `n1 after its CHILD_SA rekey: ${afterRekey.received}/5 (${afterRekey.detail})`);
        const followedOnRekey = (await agentLogSince(guest, logAt)).includes('tunnel follows a new IPsec SA mark');

        // n1's IPsec starts over under its live L2TP tunnel: a new IKE_SA and CHILD_SA, so new marks
        // (strongSwan's own IKEv1 re-authentication moves the CHILD_SAs over and keeps their marks).
        // What the client sends while it has no SA is plaintext from the same address and port: the
        // agent must not take it for the tunnel; the first datagram through the new SA moves the tunnel.
        const reauthAt = await agentLogLines(guest);
        await guest.must(N1.ns, `swanctl --terminate --ike ${CLIENT_CONN} --timeout 10 && swanctl --initiate --child ${CLIENT_CONN} --timeout 20`, { timeoutMs: 40_000 });
        const reauthed = await clientSas(guest, N1.ns);
        check(reauthed.ikes.length === 1 && !rekeyed.ikes.includes(reauthed.ikes[0]!), `n1 IKE_SAs ${rekeyed.ikes.join(',')} -> ${reauthed.ikes.join(',')}`);
        const afterReauth = await pingOverPpp(guest, N1.ns, POOL_GATEWAY, 5);
        if (afterReauth.received !== 5) await dumpServerState(ctx);
        check(afterReauth.received === 5, `n1 on its new SA: ${afterReauth.received}/5 (${afterReauth.detail})`);
        const reauthLog = await agentLogSince(guest, reauthAt);
        check(reauthLog.includes('tunnel follows a new IPsec SA mark'), "the agent did not log that the tunnel follows the new SA's mark");
        return (
          `n1 ${one.localAddress}, n2 ${two.localAddress}, both from ${NAT_OUTSIDE_ADDRESS}:1701, marks ${marks.join(' ')}; 5/5 + 5/5 at once, server to both 10/10 + 10/10; ` +
          `DELETE n2: ppp0 down ${seconds(goneMs)}, its IKE SA cleared, n1 5/5; n1 CHILD_SA rekey (out SPIs ${before.spisOut.join(',')} -> ${rekeyed.spisOut.join(',')}, ` +
          `${followedOnRekey ? 'mark changed' : 'same mark'}) 5/5; new IKE_SA and CHILD_SA under the live tunnel (IKE #${rekeyed.ikes.join(',')} -> #${reauthed.ikes.join(',')}, tunnel followed the new mark) 5/5`
        );
      } finally {
        await resetClient(guest, N1.ns);
        await resetClient(guest, N2.ns);
      }
    },
  },
  {
    name: 'nat-1701-three',
    title: 'Three clients behind one NAT, all on L2TP port 1701, ping at the same time',
    async run(ctx) {
      needAgentIpsec(ctx);
      const clients = [N1, N2, N3];
      try {
        const links = await connectAll(ctx, clients);
        const addresses = new Set(links.map((l) => l.localAddress));
        check(addresses.size === 3, `addresses ${links.map((l) => l.localAddress).join(', ')}`);
        const pings = await pingAll(ctx, clients);
        if (pings.some((p) => p.received !== 5)) await dumpServerState(ctx);
        check(pings.every((p) => p.received === 5), `pings at the same time: ${pings.map((p, i) => `${clients[i]!.ns} ${p.received}/5`).join(', ')}`);
        const down = await pingFromServer(ctx, links.map((l) => l.localAddress));
        check(down.every((n) => n === 10), `the server pinging all three at once: ${down.map((n, i) => `${clients[i]!.ns} ${n}/10`).join(', ')}`);
        const marks = await serverMarks(ctx.guest);
        check(marks.length >= 3, `expected three distinct SA marks at the server, found ${marks.join(', ') || 'none'}`);
        return `${links.map((l, i) => `${clients[i]!.ns} ${l.localAddress}`).join(', ')} from ${NAT_OUTSIDE_ADDRESS}:1701; 3 x 5/5 at once, server to all three 3 x 10/10; marks ${marks.join(' ')}`;
      } finally {
        for (const c of clients) await resetClient(ctx.guest, c.ns);
      }
    },
  },
  {
    name: 'nat-1701-no-marks',
    title: 'Negative control: with L2TP_MARKS=off the same two clients on port 1701 cannot both pass traffic',
    async run(ctx) {
      needAgentIpsec(ctx);
      const server = ctx.server;
      if (!server) throw new ScenarioSkipped('this run cannot restart the agent');
      const { guest } = ctx;
      await server.restart({ L2TP_MARKS: 'off' });
      try {
        const log = await guest.sh('server', "grep -c 'L2TP socket without packet marks' /run/log/agent.log");
        check(Number(log.stdout.trim()) > 0, 'the agent did not say its socket has no marks');
        let outcome: string;
        try {
          const [one, two] = await connectAll(ctx, [N1, N2]);
          const [a, b] = await pingAll(ctx, [N1, N2]);
          const down = await pingFromServer(ctx, [one!.localAddress, two!.localAddress]);
          check(!down.every((n) => n === 10), `without marks the server still reached both clients 10/10 + 10/10 (${one?.localAddress}, ${two?.localAddress}): the positive scenarios would prove nothing`);
          outcome = `both ppp0 up; the clients' own pings ${a?.received}/5 + ${b?.received}/5 (connmark answers the latest sender), but the server pinging both at once: n1 ${down[0]}/10, n2 ${down[1]}/10`;
        } catch (error) {
          if (error instanceof Error && /without marks the server still reached/.test(error.message)) throw error;
          outcome = `the second client did not come up: ${(error instanceof Error ? error.message : String(error)).slice(0, 120)}`;
        }
        return `agent with L2TP_MARKS=off (node:dgram, connmark marks): ${outcome}`;
      } finally {
        await resetClient(guest, N1.ns);
        await resetClient(guest, N2.ns);
        await server.restart({});
      }
    },
  },
];

/** On failure: the server's SAs, policies with their marks and the mangle table into logs/server/ipsec-state.txt. */
async function dumpServerState(ctx: E2eContext): Promise<void> {
  await ctx.guest.sh(
    'server',
    `{ date; ip -s xfrm state; ip xfrm policy; iptables-legacy -t mangle -L -v -n; swanctl --list-sas --noblock; } >> /run/log/ipsec-state.txt 2>&1`,
    { timeoutMs: 15_000 },
  );
}
