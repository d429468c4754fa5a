/** Fleet: the broker's health and every agent with its load, heartbeat and drain state (operator keys). */
import { h, table } from '../dom';
import { agentHealth, agentLoadPercent, formatAge } from '../format';
import { REFRESH_MS, type PageContext } from '../page';
import { allPages } from '../session';

interface Agent {
  readonly agentId: string;
  readonly name: string;
  readonly region: string;
  readonly state: string;
  readonly revoked: boolean;
  readonly publicAddress?: string;
  readonly capacity: number;
  readonly activeSessions: number;
  readonly lastHeartbeatAt?: string;
  readonly drainDeadline?: string;
  readonly version?: string;
}

export async function renderFleet(ctx: PageContext): Promise<void> {
  const health = h('p', { class: 'status', 'data-testid': 'broker-health' }, 'Broker: checking...');
  const list = h('div', {});
  const stamp = h('p', { class: 'muted' });
  ctx.root.append(h('h1', {}, 'Fleet'), health, list, stamp);

  const load = async () => {
    const healthz = await fetch('/healthz').then((r) => r.json() as Promise<{ status: string }>).catch(() => ({ status: 'unreachable' }));
    health.textContent = `Broker: ${healthz.status}`;
    health.className = `status ${healthz.status === 'ok' ? 'good' : 'bad'}`;
    const agents = await allPages<Agent>(ctx.session.api, '/v1/agents');
    const now = Date.now();
    list.replaceChildren(
      table(
        ['Agent', 'Region', 'Address', 'Health', 'Load', 'Sessions', 'Last heartbeat', 'Version'],
        agents.map((a) => {
          const percent = agentLoadPercent(a);
          const state = agentHealth(a, now);
          return {
            attrs: { 'data-agent-id': a.agentId },
            cells: [
              h('span', {}, h('strong', {}, a.name), h('br'), h('code', {}, a.agentId)),
              a.region,
              a.publicAddress ?? '-',
              h('span', { class: `badge ${state.replace(' ', '-')}` }, state, a.drainDeadline ? ` until ${a.drainDeadline.slice(11, 19)}` : ''),
              h('span', { class: 'load' }, h('meter', { min: 0, max: 100, value: percent, high: 80 }), ` ${percent}%`),
              `${a.activeSessions} / ${a.capacity}`,
              formatAge(a.lastHeartbeatAt, now),
              a.version ?? '-',
            ],
          };
        }),
        'No agents are enrolled.',
      ),
    );
    stamp.textContent = `${agents.length} agent(s); refreshed ${new Date(now).toISOString().slice(11, 19)} UTC, every ${REFRESH_MS / 1000} s`;
  };
  await load();
  const timer = setInterval(() => load().catch((e: unknown) => ctx.fail(e)), REFRESH_MS);
  ctx.onLeave(() => clearInterval(timer));
}
