/** Per-tenant usage over a UTC date range: totals, per day and per user (GET /v1/tenants/{id}/usage). */
import { h, table } from '../dom';
import { defaultUsageRange, formatBytes } from '../format';
import type { PageContext } from '../page';
import { routeHash } from '../routes';
import { apiPath } from '../session';

interface Figures {
  readonly sessions: number;
  readonly sessionHours: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
}

interface Usage {
  readonly tenantId: string;
  readonly from: string;
  readonly to: string;
  readonly totals: Figures;
  readonly days: (Figures & { day: string })[];
  readonly users: (Figures & { username: string })[];
}

const figureCells = (f: Figures) => [String(f.sessions), f.sessionHours.toFixed(3), formatBytes(f.bytesIn), formatBytes(f.bytesOut)];

export async function renderUsage(ctx: PageContext): Promise<void> {
  const { session, route } = ctx;
  const range = defaultUsageRange(Date.now());
  const tenantId = route.params.tenantId ?? (session.tenants.length === 1 ? session.tenants[0]!.tenantId : undefined);
  const from = route.params.from ?? range.from;
  const to = route.params.to ?? range.to;
  const tenantSelect = h(
    'select',
    { name: 'tenantId', 'aria-label': 'Tenant' },
    h('option', { value: '' }, 'choose a tenant'),
    ...session.tenants.map((t) => h('option', { value: t.tenantId, selected: t.tenantId === tenantId }, t.tenantId)),
  );
  const fromInput = h('input', { type: 'date', name: 'from', value: from, 'aria-label': 'From (UTC, inclusive)' });
  const toInput = h('input', { type: 'date', name: 'to', value: to, 'aria-label': 'To (UTC, exclusive)' });
  const form = h(
    'form',
    {
      class: 'filters',
      on: {
        submit: (e) => {
          e.preventDefault();
          location.hash = routeHash('usage', { tenantId: tenantSelect.value || undefined, from: fromInput.value, to: toInput.value });
        },
      },
    },
    tenantSelect,
    h('label', {}, 'from ', fromInput),
    h('label', {}, 'to ', toInput),
    h('button', { type: 'submit' }, 'Show'),
  );
  ctx.root.append(h('h1', {}, 'Usage'), form);
  if (!tenantId) {
    ctx.root.append(h('p', { class: 'empty' }, 'Choose a tenant.'));
    return;
  }
  const usage = await session.api.get<Usage>(apiPath('/v1/tenants/{tenantId}/usage', { tenantId }), { from, to });
  const headers = ['Sessions', 'Session hours', 'Bytes in', 'Bytes out'];
  ctx.root.append(
    h('h2', {}, `${usage.tenantId}: ${usage.from.slice(0, 10)} to ${usage.to.slice(0, 10)} (UTC, end exclusive)`),
    table(headers, [{ cells: figureCells(usage.totals), attrs: { 'data-testid': 'usage-totals' } }], ''),
    h('h2', {}, 'Per day'),
    table(['Day', ...headers], usage.days.map((d) => ({ cells: [d.day, ...figureCells(d)] })), 'No sessions in this range.'),
    h('h2', {}, 'Per user'),
    table(['User', ...headers], usage.users.map((u) => ({ cells: [u.username, ...figureCells(u)] })), 'No sessions in this range.'),
  );
}
