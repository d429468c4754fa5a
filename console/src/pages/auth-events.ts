/** A user's failed authentications and lockouts: pick a tenant, then a user from its list. */
import { h, table } from '../dom';
import { formatTime } from '../format';
import type { PageContext } from '../page';
import { routeHash } from '../routes';
import { allPages, apiPath } from '../session';

interface User {
  readonly username: string;
  readonly disabled: boolean;
  readonly locked: boolean;
  readonly failedAttempts: number;
}

interface AuthEvent {
  readonly at: string;
  readonly kind: string;
  readonly method: string;
  readonly reason: string;
  readonly agentId?: string;
  readonly source?: string;
}

export async function renderAuthEvents(ctx: PageContext): Promise<void> {
  const { session } = ctx;
  const tenantId = ctx.route.params.tenantId ?? (session.tenants.length === 1 ? session.tenants[0]!.tenantId : undefined);
  const { username } = ctx.route.params;
  const go = (params: Record<string, string | undefined>): void => void (location.hash = routeHash('auth-events', params));
  const tenantSelect: HTMLSelectElement = h(
    'select',
    { name: 'tenantId', 'aria-label': 'Tenant', on: { change: () => go({ tenantId: tenantSelect.value || undefined }) } },
    h('option', { value: '' }, 'choose a tenant'),
    ...session.tenants.map((t) => h('option', { value: t.tenantId, selected: t.tenantId === tenantId }, t.tenantId)),
  );
  ctx.root.append(h('h1', {}, 'Authentication events'), h('form', { class: 'filters', on: { submit: (e) => e.preventDefault() } }, tenantSelect));
  if (!tenantId) {
    ctx.root.append(h('p', { class: 'empty' }, 'Choose a tenant to list its users.'));
    return;
  }
  const users = await allPages<User>(session.api, apiPath('/v1/tenants/{tenantId}/users', { tenantId }));
  ctx.root.append(
    h('h2', {}, `Users of ${tenantId}`),
    table(
      ['User', 'Status', 'Failed attempts', ''],
      users.map((u) => ({
        attrs: { 'data-username': u.username },
        cells: [
          u.username,
          u.disabled ? 'disabled' : u.locked ? 'locked' : 'ok',
          String(u.failedAttempts),
          h('a', { href: routeHash('auth-events', { tenantId, username: u.username }) }, 'events'),
        ],
      })),
      'This tenant has no users.',
    ),
  );
  if (!username) return;
  const events = await allPages<AuthEvent>(session.api, apiPath('/v1/tenants/{tenantId}/users/{username}/auth-events', { tenantId, username }));
  ctx.root.append(
    h('h2', {}, `Events of ${username}@${tenantId}`),
    table(
      ['Time', 'Kind', 'Method', 'Reason', 'Agent', 'Source'],
      events.map((e) => ({ cells: [formatTime(e.at), e.kind, e.method, e.reason, e.agentId ?? '-', e.source ?? '-'] })),
      'No failed authentications or lockouts recorded for this user.',
    ),
  );
}
