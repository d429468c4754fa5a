/**
 * The agent behind a cloud's 1:1 NAT (issue 15): the `cloud` namespace has only 10.99.0.10 and
 * the `igw` namespace maps 198.51.100.2 to it, like an EC2 instance and its public IP. What
 * Windows checks is IKE NAT detection (RFC 3947): if the client's charon logs "remote host is
 * behind NAT", Windows would refuse the server (error 809). With the agent's cloud NAT mode on,
 * no client may log it, whether it is behind a NAT itself (NAT-T) or not (raw ESP); with the mode
 * off the same topology makes the client log it (the negative control).
 */
import type { AuthMethod } from '../../../functions/src/domain/types';
import { connectClient, ikeSaCount, ipsecUp, configureClient, pingOverPpp, resetClient, waitPppGone } from '../lib/clients';
import { WINDOWS_ESP_PROPOSALS, WINDOWS_IKE_PROPOSALS, type ClientProfile } from '../lib/configs';
import { E2eError, ScenarioSkipped } from '../lib/errors';
import type { Guest } from '../lib/guest';
import type { Scenario } from '../lib/runner';
import { CLOUD_PRIVATE_ADDRESS, CLOUD_PUBLIC_ADDRESS, POOL_GATEWAY, type GuestNamespace } from '../lib/topology';
import { espBytes } from './connect';
import { check, listSessions, profile, seconds, waitFor, type E2eContext } from './context';

const REMOTE_NAT = 'remote host is behind NAT';
const LOCAL_NAT = 'local host is behind NAT';

function cloudOf(ctx: E2eContext) {
  if (ctx.ipsec !== 'agent' || !ctx.cloud) throw new ScenarioSkipped('needs the cloud agent with agent-driven IPsec');
  return ctx.cloud;
}

/** Lines in the client's charon log so far; `logSince` reads what came after. */
async function logMark(guest: Guest, ns: GuestNamespace): Promise<number> {
  return Number((await guest.sh(ns, 'wc -l < /run/log/charon.log 2>/dev/null || echo 0')).stdout.trim()) || 0;
}

async function logSince(guest: Guest, ns: GuestNamespace, mark: number): Promise<string> {
  return (await guest.sh(ns, `tail -n +${mark + 1} /run/log/charon.log 2>/dev/null`)).stdout;
}

/**
 * Connect through the 1:1 NAT with the mode on, then every check of the issue: no "remote host is
 * behind NAT" at the client, NAT-T exactly when the client itself is behind a NAT, the agent's
 * SAs on the public address, a pool address on ppp0, 5/5 pings, the session at the broker on the
 * cloud agent, and an operator disconnect that takes ppp0 and the client's IKE SA down. Before the
 * disconnect, the cloud namespace's conntrack forgets the IKE, NAT-T and ESP flows (`conntrack -D`,
 * as after an idle period), so the agent's IKE DELETE and its L2TP goodbye (inside ESP) must leave
 * through the mode's SNAT rules: the `igw` drops anything the VM sends from its public address,
 * as a VPC does.
 */
async function cloudSession(
  ctx: E2eContext,
  ns: GuestNamespace,
  user: string,
  method: AuthMethod,
  behindNat: boolean,
  extra: Partial<ClientProfile> = {},
  whileUp?: () => Promise<string>,
): Promise<string> {
  const cloud = cloudOf(ctx);
  const { guest } = ctx;
  await cloud.ensure('on');
  const mark = await logMark(guest, ns);
  try {
    const link = await connectClient(guest, ns, profile(ctx, ns, user, method, { server: CLOUD_PUBLIC_ADDRESS, ...extra })).catch(async (error: unknown) => {
      await dumpCloudState(ctx);
      throw error;
    });
    const log = await logSince(guest, ns, mark);
    check(!log.includes(REMOTE_NAT), `the client's charon logged "${REMOTE_NAT}": Windows would refuse this server (error 809)`);
    check(log.includes(LOCAL_NAT) === behindNat, behindNat ? `the client behind a NAT did not log "${LOCAL_NAT}"` : `the client with a public address logged "${LOCAL_NAT}"`);
    const clientSa = await guest.must(ns, 'ip xfrm state');
    check(/encap type espinudp/.test(clientSa) === behindNat, behindNat ? 'no NAT-T (ESP in UDP 4500) although the client is behind a NAT' : 'ESP is UDP-encapsulated although there is no NAT at either end');
    const agentSa = await guest.must('cloud', 'ip xfrm state');
    check(agentSa.includes(`src ${CLOUD_PUBLIC_ADDRESS}`) && !agentSa.includes(CLOUD_PRIVATE_ADDRESS), `the agent's SAs are not on the public address:\n${agentSa.slice(0, 400)}`);
    check(link.peerAddress === POOL_GATEWAY && link.localAddress.startsWith('10.8.0.'), `ppp0 ${link.localAddress} peer ${link.peerAddress}`);
    const active = await waitFor(ctx, 'the active session at the broker', 10_000, async () =>
      (await listSessions(ctx, user)).find((s) => s.state === 'active' && s.assignedIp === link.localAddress),
    );
    check((active as { agentId?: string }).agentId === cloud.agentId, `the session is on agent ${(active as { agentId?: string }).agentId}, not the cloud agent`);
    const ping = await pingOverPpp(guest, ns, POOL_GATEWAY, 5);
    check(ping.received === 5, `ping ${POOL_GATEWAY} over ppp0: ${ping.received}/5 (${ping.detail})`);
    const esp = await espBytes(guest, ns);
    check(esp > 0, 'client ESP SAs carried no bytes');
    const more = whileUp ? `${await whileUp()}; ` : '';

    // Forget the IKE, NAT-T and ESP flows, then disconnect: the agent's packets are then no
    // replies conntrack can map back, so only the SNAT rules can give them the private source.
    const forgotten = await forgetIpsecFlows(guest);
    check(forgotten > 0, 'conntrack had no IKE/NAT-T/ESP flow to forget');
    const reply = await ctx.broker.admin('DELETE', `/v1/sessions/${active.sessionId}`);
    check(reply.status === 202, `DELETE /v1/sessions/${active.sessionId}: HTTP ${reply.status}`);
    const goneMs = await waitPppGone(guest, ns, 20_000);
    check(goneMs !== undefined, 'client ppp0 still up 20 s after the operator disconnect');
    const stopped = await waitFor(ctx, 'the session stopped', 10_000, async () => {
      const s = (await listSessions(ctx, user)).find((x) => x.sessionId === active.sessionId);
      return s?.state === 'stopped' ? s : undefined;
    });
    check(stopped.endReason === 'admin-disconnect', `endReason ${stopped.endReason}`);
    await waitFor(ctx, "the agent's IKE DELETE to clear the client's IKE SA", 20_000, async () => ((await ikeSaCount(guest, ns)) === 0 ? true : undefined));
    const snat = await snatPackets(ctx);
    check(snat > 0, 'no packet went through the SNAT rules: the expired-conntrack path was not exercised');
    return (
      `${behindNat ? `NAT-T ("${LOCAL_NAT}" only)` : 'raw ESP, no NAT either side'}, no "${REMOTE_NAT}"; agent SAs on ${CLOUD_PUBLIC_ADDRESS}; ` +
      `${link.localAddress} 5/5 ping, esp ${esp} B; ike ${seconds(link.ikeMs)}, ppp ${seconds(link.pppMs)}; ${more}` +
      `operator disconnect after conntrack forgot the IKE/ESP flows: ppp0 down ${seconds(goneMs)}, client IKE SA cleared (${snat} packets SNATed)`
    );
  } finally {
    await resetClient(guest, ns);
  }
}

/** Deletes the cloud namespace's conntrack entries of IKE (udp/500), NAT-T (udp/4500) and ESP; resolves with how many. */
async function forgetIpsecFlows(guest: Guest): Promise<number> {
  const out = await guest.sh(
    'cloud',
    `for f in '-p udp --orig-port-dst 500' '-p udp --orig-port-dst 4500' '-p udp --orig-port-src 500' '-p udp --orig-port-src 4500' '-p 50'; do
       conntrack -D $f 2>&1 | grep -o '[0-9]* flow entries have been deleted'; done; true`,
  );
  return [...out.stdout.matchAll(/(\d+) flow entries/g)].reduce((sum, m) => sum + Number(m[1]), 0);
}

/** On failure: the cloud agent's conntrack table, NAT and mangle rules, SAs and policies into logs/cloud/ipsec-state.txt. */
async function dumpCloudState(ctx: E2eContext): Promise<void> {
  const iptables = cloudOf(ctx).iptables;
  await ctx.guest.sh(
    'cloud',
    `{ date; cat /proc/net/nf_conntrack; ${iptables} -w -t nat -L -v -n; iptables-legacy -t mangle -L -v -n; ip -s xfrm state; ip xfrm policy; swanctl --list-sas --noblock; } >> /run/log/ipsec-state.txt 2>&1`,
    { timeoutMs: 15_000 },
  );
}

/** Packets that went through the agent's SNAT chain (charon's own IKE/ESP after conntrack forgot the flow). */
async function snatPackets(ctx: E2eContext): Promise<number> {
  const out = await ctx.guest.sh('cloud', `${cloudOf(ctx).iptables} -w -t nat -L TB-CLOUD-NAT-OUT -v -n -x 2>/dev/null`);
  return out.stdout
    .split('\n')
    .filter((line) => /SNAT/.test(line))
    .reduce((sum, line) => sum + (Number(line.trim().split(/\s+/)[0]) || 0), 0);
}

/** The broker revision an agent's log says it applied last ("ipsec: settings applied"). */
async function appliedRevision(guest: Guest, ns: 'server' | 'cloud'): Promise<number> {
  const out = await guest.sh(ns, `grep '"msg":"ipsec: settings applied"' /run/log/agent.log | tail -1`);
  return Number(/"revision":(\d+)/.exec(out.stdout)?.[1] ?? 0);
}

async function putLegacy(ctx: E2eContext, allowLegacyProposals: boolean): Promise<number> {
  const reply = await ctx.broker.admin<{ revision: number; allowLegacyProposals: boolean }>('PUT', '/v1/ipsec', { psk: ctx.psk, allowLegacyProposals });
  check(reply.status === 200 && reply.body.allowLegacyProposals === allowLegacyProposals, `PUT /v1/ipsec: ${reply.status} ${JSON.stringify(reply.body)}`);
  await waitFor(ctx, `the cloud agent to apply revision ${reply.body.revision}`, 15_000, async () =>
    (await appliedRevision(ctx.guest, 'cloud')) >= reply.body.revision ? true : undefined,
  );
  return reply.body.revision;
}

const windows = { ikeProposals: WINDOWS_IKE_PROPOSALS, espProposals: WINDOWS_ESP_PROPOSALS } as const;

export const cloudNatScenarios: Scenario<E2eContext>[] = [
  {
    name: 'cloud-nat-esp',
    title: 'Agent behind a 1:1 NAT (mode on), client with a public address: raw ESP, no "remote host is behind NAT"',
    cloudAgent: true,
    run: (ctx) => cloudSession(ctx, 'c1', 'alice', 'mschapv2', false),
  },
  {
    name: 'cloud-nat-nat-t',
    title: 'Agent behind a 1:1 NAT (mode on), client behind a masquerading NAT: NAT-T, no "remote host is behind NAT"',
    cloudAgent: true,
    run: (ctx) => cloudSession(ctx, 'n1', 'erin', 'mschapv2', true),
  },
  {
    name: 'windows-proposals',
    title: "Only the PSK set: Windows' proposals (3DES/AES128-SHA1-MODP1024) connect, behind NAT, to the cloud agent",
    cloudAgent: true,
    async run(ctx) {
      const status = await ctx.broker.admin<{ allowLegacyProposals: boolean }>('GET', '/v1/ipsec');
      check(status.body.allowLegacyProposals === true, `GET /v1/ipsec: allowLegacyProposals ${status.body.allowLegacyProposals}; the run set only the PSK, so the default must be on`);
      const detail = await cloudSession(ctx, 'n2', 'frank', 'mschapv2', true, windows, async () => {
        const sas = await ctx.guest.must('n2', 'swanctl --list-sas --noblock');
        const ike = /(3DES_CBC|AES_CBC-128)\/HMAC_SHA1_96\/PRF_HMAC_SHA1\/MODP_1024/.exec(sas)?.[0];
        check(ike !== undefined, `the client's IKE SA is not one of Windows' proposals:\n${sas.slice(0, 600)}`);
        return `IKE ${ike}`;
      });
      return `legacy on by default; ${detail}`;
    },
  },
  {
    name: 'windows-proposals-refused',
    title: "Negative control: allowLegacyProposals=false refuses Windows' proposals (NO_PROPOSAL_CHOSEN)",
    cloudAgent: true,
    async run(ctx) {
      const cloud = cloudOf(ctx);
      const { guest } = ctx;
      await cloud.ensure('on');
      try {
        const revision = await putLegacy(ctx, false);
        await resetClient(guest, 'n2');
        await configureClient(guest, 'n2', profile(ctx, 'n2', 'frank', 'mschapv2', { server: CLOUD_PUBLIC_ADDRESS, ...windows }));
        const mark = await logMark(guest, 'n2');
        let refused: string | undefined;
        try {
          await ipsecUp(guest, 'n2');
        } catch (error) {
          if (!(error instanceof E2eError)) throw error;
          refused = error.message;
        }
        check(refused !== undefined, 'IKE with only MODP1024 proposals succeeded although legacy proposals are off');
        const log = await logSince(guest, 'n2', mark);
        check(/NO_PROPOSAL_CHOSEN/.test(log), `the client's charon did not log NO_PROPOSAL_CHOSEN: ${refused}`);
        return `revision ${revision} (legacy off) applied; client: NO_PROPOSAL_CHOSEN`;
      } finally {
        await resetClient(guest, 'n2');
        await putLegacy(ctx, true);
      }
    },
  },
  {
    name: 'cloud-nat-restart',
    title: 'Agent killed (SIGKILL) and restarted in cloud NAT mode: no duplicate rules or addresses',
    cloudAgent: true,
    async run(ctx) {
      const cloud = cloudOf(ctx);
      await cloud.ensure('on');
      const before = await cloud.hostState();
      check(before.rules.filter((r) => / -j (DNAT|SNAT) /.test(r)).length === 6, `expected 3 DNAT + 3 SNAT rules, found:\n${before.rules.join('\n')}`);
      check(before.addresses.length === 1 && before.addresses[0] === `${CLOUD_PUBLIC_ADDRESS}/32`, `tb-public addresses: ${before.addresses.join(', ')}`);
      await cloud.kill();
      const leftover = await cloud.hostState();
      check(leftover.linkExists && leftover.rules.length === before.rules.length, 'a killed agent cannot clean up: its set-up should still be there');
      const crashesBefore = cloud.crashes.length;
      const restartMs = await cloud.ensure('on');
      const crashed = cloud.crashes.slice(crashesBefore).join('; ');
      const after = await cloud.hostState();
      check(JSON.stringify(after) === JSON.stringify(before), `after the restart:\n${after.rules.join('\n')}\naddresses ${after.addresses.join(', ')}\nbefore:\n${before.rules.join('\n')}`);
      return `${before.rules.length} rule lines (${cloud.iptables}) and ${CLOUD_PUBLIC_ADDRESS}/32 on tb-public, the same after SIGKILL + restart (${seconds(restartMs)}${crashed ? `; ${crashed}` : ''})`;
    },
  },
  {
    name: 'cloud-nat-off',
    title: 'Negative control: clean stop removes the set-up; with CLOUD_NAT=off the client logs "remote host is behind NAT"',
    cloudAgent: true,
    async run(ctx) {
      const cloud = cloudOf(ctx);
      const { guest } = ctx;
      await cloud.ensure('on');
      await cloud.stop();
      const cleared = await cloud.hostState();
      check(!cleared.linkExists && cleared.rules.length === 0, `after a clean stop: link ${cleared.linkExists}, rules:\n${cleared.rules.join('\n')}`);
      await cloud.ensure('off');
      const mark = await logMark(guest, 'c2');
      await resetClient(guest, 'c2');
      await configureClient(guest, 'c2', profile(ctx, 'c2', 'bob', 'chap-md5', { server: CLOUD_PUBLIC_ADDRESS }));
      try {
        await ipsecUp(guest, 'c2');
        const log = await logSince(guest, 'c2', mark);
        check(log.includes(REMOTE_NAT), `with the mode off the client did not log "${REMOTE_NAT}": the check would not catch what Windows refuses`);
        const agentSa = await guest.must('cloud', 'ip xfrm state');
        return `clean stop removed tb-public and every rule; mode off: client logged "${REMOTE_NAT}"${agentSa.includes(`src ${CLOUD_PRIVATE_ADDRESS}`) ? `, agent SA on the private ${CLOUD_PRIVATE_ADDRESS}` : ''}`;
      } finally {
        await resetClient(guest, 'c2');
      }
    },
  },
];
