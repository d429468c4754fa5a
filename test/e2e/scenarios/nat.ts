/**
 * NAT traversal: ESP in UDP/4500 forced without a NAT, and two clients behind one masquerading
 * NAT at the same time (the case transport-mode L2TP/IPsec servers classically get wrong: both
 * clients' L2TP arrives from the same public address). They use different L2TP source ports, as a
 * Windows and a macOS/iOS client would; clients that all use port 1701 are nat-1701.ts.
 */
import { connectClient, pingOverPpp, resetClient } from '../lib/clients';
import { ScenarioSkipped } from '../lib/errors';
import type { Scenario } from '../lib/runner';
import { POOL_GATEWAY } from '../lib/topology';
import { check, listSessions, profile, seconds, waitFor, type E2eContext } from './context';

/** n2's L2TP source port: stands for a client that does not use 1701 (an ephemeral-range port). */
const N2_L2TP_PORT = 50123;

export const natScenarios: Scenario<E2eContext>[] = [
  {
    name: 'nat-t-forced',
    title: 'NAT-T: ESP in UDP 4500 (encap forced), ping gateway',
    async run(ctx) {
      if (ctx.ipsec === 'off') throw new ScenarioSkipped('IPsec is off in this run');
      const { guest } = ctx;
      try {
        const link = await connectClient(guest, 'c3', profile(ctx, 'c3', 'dave', 'mschapv2', { forceEncap: true }));
        const state = await guest.must('c3', 'ip xfrm state');
        check(/encap type espinudp sport 4500 dport 4500/.test(state), 'client SA is not ESP-in-UDP 4500');
        const { received } = await pingOverPpp(guest, 'c3', POOL_GATEWAY, 5);
        check(received === 5, `ping over ppp0: ${received}/5`);
        return `espinudp 4500/4500; ${link.localAddress} 5/5 ping; ike ${seconds(link.ikeMs)}, ppp ${seconds(link.pppMs)}`;
      } finally {
        await resetClient(guest, 'c3');
      }
    },
  },
  {
    name: 'nat-two-clients',
    title: 'Two clients behind one NAT (L2TP ports 1701 and 50123), both pass traffic at the same time',
    async run(ctx) {
      if (ctx.ipsec === 'off') throw new ScenarioSkipped('IPsec is off in this run');
      const { guest } = ctx;
      try {
        // n1 is Windows-like (L2TP from port 1701); n2 models clients that use another L2TP source
        // port (e.g. macOS/iOS). Their selectors differ, so this works with or without marks.
        const one = await connectClient(guest, 'n1', profile(ctx, 'n1', 'erin', 'mschapv2'));
        const two = await connectClient(guest, 'n2', profile(ctx, 'n2', 'frank', 'chap-md5', { l2tpPort: N2_L2TP_PORT })).catch(async (error: unknown) => {
          await dumpIpsecState(ctx);
          throw error;
        });
        check(one.localAddress !== two.localAddress, `both clients got ${one.localAddress}`);
        const pings = await Promise.all([pingOverPpp(guest, 'n1', POOL_GATEWAY, 5), pingOverPpp(guest, 'n2', POOL_GATEWAY, 5)]);
        const [a, b] = pings.map((p) => p.received);
        const encap = await guest.sh('n1', "ip xfrm state | grep -c 'encap type espinudp'");
        const sessions = await waitFor(ctx, 'two active sessions', 10_000, async () => {
          const all = [...(await listSessions(ctx, 'erin')), ...(await listSessions(ctx, 'frank'))].filter((s) => s.state === 'active');
          return all.length === 2 ? all : undefined;
        });
        if (a !== 5 || b !== 5) await dumpIpsecState(ctx);
        check(a === 5 && b === 5, `pings behind the NAT: n1 ${a}/5 (${pings[0]?.detail}), n2 ${b}/5 (${pings[1]?.detail})`);
        check(Number(encap.stdout.trim()) > 0, 'n1 SAs are not UDP-encapsulated although behind a NAT');
        let marks = '';
        if (ctx.ipsec === 'agent') {
          // The agent loaded mark_in/mark_out = %unique: each client's SAs carry their own mark.
          const state = await guest.must('server', 'ip xfrm state');
          const found = new Set([...state.matchAll(/\bmark (0x[0-9a-f]+)\/0xffffffff/g)].map((m) => m[1]));
          check(found.size >= 2, `expected a distinct mark per client SA at the server, found ${[...found].join(', ') || 'none'}`);
          marks = `; SA marks ${[...found].sort().join(' ')}`;
        }
        return `n1 ${one.localAddress} ${a}/5 (udp/1701), n2 ${two.localAddress} ${b}/5 (udp/${N2_L2TP_PORT}) via NAT-T; peers ${sessions.map((s) => s.peerAddress ?? '?').join(', ')}${marks}`;
      } finally {
        await resetClient(guest, 'n1');
        await resetClient(guest, 'n2');
      }
    },
  },
];

/** On failure: the server's marks, rules, SAs and policies into logs/server/ipsec-state.txt. */
async function dumpIpsecState(ctx: E2eContext): Promise<void> {
  await ctx.guest.sh(
    'server',
    `{ date; iptables-legacy -t mangle -L -v -n; ip -s xfrm state; ip xfrm policy; swanctl --list-sas --noblock; } >> /run/log/ipsec-state.txt 2>&1`,
    { timeoutMs: 15_000 },
  );
}
