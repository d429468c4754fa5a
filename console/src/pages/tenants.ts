/** Tenants the key can see (the API scopes the list), with links to their sessions, usage and users. */
import { h, table } from '../dom';
import { formatTime } from '../format';
import type { PageContext } from '../page';
import { routeHash } from '../routes';
import { allPages, type Tenant } from '../session';

export async function renderTenants(ctx: PageContext): Promise<void> {
  // Fresh from the API, not the sign-in snapshot: tenants come and go.
  const tenants = await allPages<Tenant>(ctx.session.api, '/v1/tenants');
  ctx.root.append(
    h('h1', {}, 'Tenants'),
    table(
      ['Tenant', 'Name', 'Auth methods', 'Session limit', 'Created', ''],
      tenants.map((t) => ({
        attrs: { 'data-tenant-id': t.tenantId },
        cells: [
          h('code', {}, t.tenantId),
          t.name,
          t.authMethods.join(', '),
          t.maxSessions === undefined ? 'none' : String(t.maxSessions),
          formatTime(t.createdAt),
          h(
            'span',
            { class: 'links' },
            h('a', { href: routeHash('sessions', { tenantId: t.tenantId }) }, 'sessions'),
            ' · ',
            h('a', { href: routeHash('usage', { tenantId: t.tenantId }) }, 'usage'),
            ' · ',
            h('a', { href: routeHash('auth-events', { tenantId: t.tenantId }) }, 'users'),
          ),
        ],
      })),
      'This key sees no tenant.',
    ),
  );
}
