/**
 * NAT traversal: ESP in UDP/4500 forced without a NAT, and two clients behind one masquerading
 * NAT at the same time (the case transport-mode L2TP/IPsec servers classically get wrong: both
 * clients' L2TP arrives from the same public address and, inside ESP, the same port 1701).
 */
import { connectClient, pingOverPpp, resetClient } from '../lib/clients';
import { ScenarioSkipped } from '../lib/errors';
import type { Scenario } from '../lib/runner';
import { POOL_GATEWAY } from '../lib/topology';
import { check, listSessions, profile, seconds, waitFor, type E2eContext } from './context';

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
    title: 'Two clients behind one NAT, both pass traffic at the same time',
    async run(ctx) {
      if (ctx.ipsec === 'off') throw new ScenarioSkipped('IPsec is off in this run');
      const { guest } = ctx;
      try {
        const one = await connectClient(guest, 'n1', profile(ctx, 'n1', 'erin', 'mschapv2'));
        const two = await connectClient(guest, 'n2', profile(ctx, 'n2', 'frank', 'chap-md5'));
        check(one.localAddress !== two.localAddress, `both clients got ${one.localAddress}`);
        const [a, b] = (await Promise.all([pingOverPpp(guest, 'n1', POOL_GATEWAY, 5), pingOverPpp(guest, 'n2', POOL_GATEWAY, 5)])).map((p) => p.received);
        const encap = await guest.sh('n1', "ip xfrm state | grep -c 'encap type espinudp'");
        const sessions = await waitFor('two active sessions', 10_000, async () => {
          const all = [...(await listSessions(ctx, 'erin')), ...(await listSessions(ctx, 'frank'))].filter((s) => s.state === 'active');
          return all.length === 2 ? all : undefined;
        });
        check(a === 5 && b === 5, `pings behind the NAT: n1 ${a}/5, n2 ${b}/5 (first client after the second connected: ${a})`);
        check(Number(encap.stdout.trim()) > 0, 'n1 SAs are not UDP-encapsulated although behind a NAT');
        return `n1 ${one.localAddress} ${a}/5, n2 ${two.localAddress} ${b}/5 via NAT-T; peers ${sessions.map((s) => s.peerAddress ?? '?').join(', ')}`;
      } finally {
        await resetClient(guest, 'n1');
        await resetClient(guest, 'n2');
      }
    },
  },
];
