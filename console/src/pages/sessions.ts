/**
 * Live sessions: server-side filters (tenant, state, username) in the route, a search box over
 * what was loaded, a disconnect button per active session (after a confirm), reloaded every few
 * seconds so a disconnect is seen to end.
 */
import { h, table } from '../dom';
import { formatBytes, formatDuration, formatTime, sessionMatches, sessionStateText, type SessionView } from '../format';
import { REFRESH_MS, type PageContext } from '../page';
import { routeHash } from '../routes';
import { apiPath, type Page } from '../session';

interface Session extends SessionView {
  readonly startedAt: string;
  readonly stoppedAt?: string;
  readonly counters: { readonly bytesIn: number; readonly bytesOut: number };
}

/** One page of the newest sessions; more means "narrow the filters". */
const LIMIT = '100';

export async function renderSessions(ctx: PageContext): Promise<void> {
  const { params } = ctx.route;
  const { session } = ctx;
  const tenantSelect = h(
    'select',
    { name: 'tenantId', 'aria-label': 'Tenant' },
    ...(session.scope === 'fleet' ? [h('option', { value: '' }, 'all tenants')] : []),
    ...session.tenants.map((t) => h('option', { value: t.tenantId, selected: t.tenantId === params.tenantId }, t.tenantId)),
  );
  const stateSelect = h(
    'select',
    { name: 'state', 'aria-label': 'State' },
    ...[['', 'any state'], ['active', 'active'], ['stopped', 'ended']].map(([value, label]) => h('option', { value, selected: (params.state ?? '') === value }, label)),
  );
  const username = h('input', { name: 'username', placeholder: 'exact username (needs a tenant)', value: params.username ?? '', 'aria-label': 'Username' });
  const search = h('input', { type: 'search', name: 'q', placeholder: 'search user, address, agent, id', value: params.q ?? '', 'aria-label': 'Search' });
  const form = h(
    'form',
    { class: 'filters', on: { submit: (e) => (e.preventDefault(), apply()) } },
    tenantSelect,
    stateSelect,
    username,
    h('button', { type: 'submit' }, 'Apply'),
    search,
  );
  const notice = h('p', { class: 'notice', role: 'status' });
  const list = h('div', {});
  const stamp = h('p', { class: 'muted' });
  ctx.root.append(h('h1', {}, 'Sessions'), form, notice, list, stamp);

  const currentQuery = () => ({
    tenantId: tenantSelect.value || undefined,
    state: stateSelect.value || undefined,
    username: username.value.trim() || undefined,
    q: search.value.trim() || undefined,
  });
  function apply() {
    location.hash = routeHash('sessions', currentQuery());
  }
  let loaded: Session[] = [];
  let more = false;

  const draw = () => {
    const now = Date.now();
    const shown = loaded.filter((s) => sessionMatches(s, search.value));
    list.replaceChildren(
      table(
        ['User', 'Tenant', 'Address', 'Peer', 'Agent', 'Started', 'Duration', 'In / out', 'State', ''],
        shown.map((s) => ({
          attrs: { 'data-session-id': s.sessionId, 'data-state': s.state },
          cells: [
            s.username,
            s.tenantId,
            h('code', {}, s.assignedIp),
            s.peerAddress ?? '-',
            h('code', { title: s.agentId }, s.agentId.slice(0, 12)),
            formatTime(s.startedAt),
            formatDuration((s.stoppedAt ? Date.parse(s.stoppedAt) : now) - Date.parse(s.startedAt)),
            `${formatBytes(s.counters.bytesIn)} / ${formatBytes(s.counters.bytesOut)}`,
            h('span', { class: `badge ${s.state === 'active' ? (s.disconnectRequestedAt ? 'draining' : 'healthy') : 'ended'}`, 'data-testid': 'state' }, sessionStateText(s)),
            s.state === 'active' && !s.disconnectRequestedAt
              ? h('button', { type: 'button', class: 'danger', 'data-action': 'disconnect', on: { click: () => void disconnect(s) } }, 'Disconnect')
              : '',
          ],
        })),
        loaded.length === 0 ? 'No sessions match these filters.' : 'No loaded session matches the search.',
      ),
    );
    stamp.textContent = `${shown.length} of ${loaded.length} loaded session(s)${more ? ` (the newest ${LIMIT}: narrow the filters to see older ones)` : ''}; refreshed ${new Date(now).toISOString().slice(11, 19)} UTC, every ${REFRESH_MS / 1000} s`;
  };

  const load = async () => {
    const { tenantId, state, username: user } = currentQueryFromRoute();
    const page = await session.api.get<Page<Session>>('/v1/sessions', { tenantId, state, username: user, limit: LIMIT });
    loaded = page.items;
    more = page.cursor !== undefined;
    draw();
  };
  // The server-side filters are the route's (what Apply set), not whatever is half-typed in the form.
  const currentQueryFromRoute = () => ({ tenantId: params.tenantId, state: params.state, username: params.username, q: params.q });

  async function disconnect(s: Session) {
    if (!confirm(`Disconnect ${s.username}@${s.tenantId} (${s.assignedIp})? Its agent ends the PPP session.`)) return;
    try {
      await session.api.delete(apiPath('/v1/sessions/{sessionId}', { sessionId: s.sessionId }));
      notice.textContent = `Disconnect requested for ${s.username}@${s.tenantId} (${s.assignedIp}); its agent ends the session.`;
      await load();
    } catch (error) {
      ctx.fail(error);
    }
  }

  // Searching filters what is loaded at once and keeps the words in the address for a reload.
  search.addEventListener('input', () => {
    history.replaceState(null, '', routeHash('sessions', { ...currentQueryFromRoute(), q: search.value.trim() }));
    draw();
  });
  await load();
  const timer = setInterval(() => load().catch((e: unknown) => ctx.fail(e)), REFRESH_MS);
  ctx.onLeave(() => clearInterval(timer));
}
