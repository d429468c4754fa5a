/**
 * Issue 20: a RADIUS tenant with real, unmodified clients. A user known only to FreeRADIUS (no
 * user at the broker) logs in with MS-CHAPv2 through strongSwan + xl2tpd + pppd: the broker turns
 * the relayed response into an Access-Request, FreeRADIUS's MS-CHAP2-Success carries the
 * authenticator response, and pppd checks it (mutual authentication: pppd drops the link on a wrong
 * one). The client gets the Framed-IP-Address FreeRADIUS assigns and pings the agent. Negative
 * control: the same user with a wrong password is refused, and the broker records the reject.
 *
 * FreeRADIUS runs on the host beside the broker (its own config in a temporary directory), on a
 * loopback port, for the duration of the scenario.
 */
import { ipsecUp, l2tpUp, configureClient, connectClient, hangUp, pingOverPpp, resetClient } from '../lib/clients';
import { E2eError } from '../lib/errors';
import type { Scenario } from '../lib/runner';
import { startFreeRadius } from '../../support/radius/freeradius';
import { check, profile, seconds, waitFor, type E2eContext } from './context';

export const RADIUS_TENANT = 'radco';
const RADIUS_POOL = '10.66.0.0/24';
const RADIUS_GATEWAY = '10.66.0.1';
const FRAMED_IP = '10.66.0.77';
const USER = 'rad-erin';
const PASSWORD = 'erin-only-in-freeradius';

async function ensureRadiusTenant(ctx: E2eContext, port: number, secret: string): Promise<void> {
  const { broker } = ctx;
  const existing = await broker.admin('GET', `/v1/tenants/${RADIUS_TENANT}`);
  if (existing.status === 404) {
    const t = await broker.admin('POST', '/v1/tenants', { tenantId: RADIUS_TENANT, name: 'RADIUS tenant', authMethods: ['mschapv2'] });
    if (t.status !== 201) throw new E2eError(`POST /v1/tenants: ${t.status} ${JSON.stringify(t.body)}`);
    const p = await broker.admin('POST', `/v1/tenants/${RADIUS_TENANT}/pools`, { poolId: 'main', cidr: RADIUS_POOL, gateway: RADIUS_GATEWAY, dns: ['192.0.2.53'] });
    if (p.status !== 201) throw new E2eError(`POST pools: ${p.status} ${JSON.stringify(p.body)}`);
  }
  const auth = await broker.admin('PUT', `/v1/tenants/${RADIUS_TENANT}/auth`, {
    kind: 'radius',
    servers: [{ host: '127.0.0.1', port, secret, timeoutMs: 1500, retries: 1 }],
  });
  if (auth.status !== 200) throw new E2eError(`PUT auth: ${auth.status} ${JSON.stringify(auth.body)}`);
}

export const radiusScenarios: Scenario<E2eContext>[] = [
  {
    name: 'radius-mschapv2',
    title: 'RADIUS tenant: a user known only to FreeRADIUS logs in with MS-CHAPv2 (mutual auth), gets its Framed-IP-Address, pings; a wrong password is refused',
    async run(ctx) {
      const { guest } = ctx;
      const secret = `fr-${Math.random().toString(36).slice(2, 14)}`;
      const fr = await startFreeRadius({ secret, users: [{ username: `${USER}@${RADIUS_TENANT}`, password: PASSWORD, reply: [`Framed-IP-Address = ${FRAMED_IP}`] }] });
      try {
        await ensureRadiusTenant(ctx, fr.port, secret);
        const asUser = { ...ctx, tenantId: RADIUS_TENANT };
        const link = await connectClient(guest, 'c2', profile(asUser, 'c2', USER, 'mschapv2', { password: PASSWORD }));
        let detail: string;
        try {
          check(link.localAddress === FRAMED_IP, `ppp0 address ${link.localAddress}, expected FreeRADIUS's Framed-IP-Address ${FRAMED_IP}`);
          check(link.peerAddress === RADIUS_GATEWAY, `ppp0 peer ${link.peerAddress}, expected the pool gateway ${RADIUS_GATEWAY}`);
          const ping = await pingOverPpp(guest, 'c2', RADIUS_GATEWAY, 3);
          check(ping.received === 3, `ping ${RADIUS_GATEWAY} over ppp0: ${ping.received}/3: ${ping.detail}`);
          const session = await waitFor(ctx, 'the RADIUS user\'s active session', 10_000, async () => {
            const r = await ctx.broker.admin<{ items: { username: string; state: string; assignedIp: string }[] }>('GET', `/v1/sessions?tenantId=${RADIUS_TENANT}&username=${USER}&limit=10`);
            return r.body.items.find((s) => s.state === 'active' && s.assignedIp === FRAMED_IP);
          });
          const users = await ctx.broker.admin<{ items: unknown[] }>('GET', `/v1/tenants/${RADIUS_TENANT}/users`);
          check(users.body.items.length === 0, 'the tenant has no local user: the login was FreeRADIUS\'s alone');
          check(/Login OK: \[rad-erin@radco\]/.test(fr.log()), 'FreeRADIUS logged no "Login OK" for the user');
          detail = `${session.username} ${link.localAddress} (Framed-IP) -> ${RADIUS_GATEWAY} 3/3 ping; ike ${seconds(link.ikeMs)}, ppp ${seconds(link.pppMs)}; pppd accepted FreeRADIUS's authenticator response`;
          await hangUp(guest, 'c2');
        } finally {
          await resetClient(guest, 'c2');
        }
        // Negative control: the same user, wrong password: PPP refused, the reject recorded.
        const since = Date.now();
        await configureClient(guest, 'c2', profile(asUser, 'c2', USER, 'mschapv2', { password: 'not-the-password' }));
        try {
          if (ctx.ipsec !== 'off') await ipsecUp(guest, 'c2');
          let refused = false;
          try {
            await l2tpUp(guest, 'c2', 15_000);
          } catch (error) {
            if (!(error instanceof E2eError)) throw error;
            refused = true;
          }
          check(refused, 'ppp0 came up with a wrong password');
          const event = await waitFor(ctx, 'the reject in auth-events', 10_000, async () => {
            const r = await ctx.broker.admin<{ items: { at: string; kind: string; reason: string }[] }>('GET', `/v1/tenants/${RADIUS_TENANT}/users/${USER}/auth-events`);
            return (r.body?.items ?? []).find((e) => new Date(e.at).getTime() >= since - 1000);
          });
          check(event.kind === 'failure' && event.reason === 'bad-credentials', `broker recorded ${event.kind} ${event.reason}`);
          return `${detail}; wrong password: refused, broker ${event.kind} ${event.reason}`;
        } finally {
          await resetClient(guest, 'c2');
        }
      } finally {
        await fr.stop();
      }
    },
  },
];
