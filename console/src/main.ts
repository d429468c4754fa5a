/**
 * The console's shell: sign-in, navigation, the error banner, and one page at a time by hash
 * route. Served from /console by the broker's own app (docs/console.md).
 */
import { createApiClient, describeError, isUnauthorized } from './api-client';
import { errorBox, h } from './dom';
import { createKeyStore, normalizeKey, type KeyStorage } from './key-store';
import type { PageContext, PageRenderer } from './page';
import { renderAuthEvents } from './pages/auth-events';
import { renderFleet } from './pages/fleet';
import { renderSessions } from './pages/sessions';
import { renderTenants } from './pages/tenants';
import { renderUsage } from './pages/usage';
import { parseRoute, routeHash, type PageName } from './routes';
import { identify, type ConsoleSession } from './session';

const PAGES: Record<Exclude<PageName, 'sign-in'>, { title: string; render: PageRenderer; fleetOnly?: boolean }> = {
  fleet: { title: 'Fleet', render: renderFleet, fleetOnly: true },
  tenants: { title: 'Tenants', render: renderTenants },
  sessions: { title: 'Sessions', render: renderSessions },
  'auth-events': { title: 'Auth events', render: renderAuthEvents },
  usage: { title: 'Usage', render: renderUsage },
};

function sessionStorageOrNone(): KeyStorage | undefined {
  try {
    return window.sessionStorage;
  } catch {
    return undefined; // storage disabled: the key lives in memory only
  }
}

const keys = createKeyStore(sessionStorageOrNone());
const app = document.getElementById('app')!;
let session: ConsoleSession | undefined;
let leave: (() => void)[] = [];
let generation = 0;

const fetchJson = (input: string, init: { method: string; headers: Record<string, string> }) => window.fetch(input, { ...init, credentials: 'omit', cache: 'no-store' });

function signOut(message?: string): void {
  keys.clear();
  session = undefined;
  renderSignIn(message);
}

function renderSignIn(message?: string): void {
  stopPage();
  document.title = 'Sign in · tunnel-broker console';
  const input = h('input', { type: 'password', name: 'apiKey', id: 'api-key', autocomplete: 'off', spellcheck: 'false', required: true, placeholder: 'tbk_... or the admin token' });
  const remember = h('input', { type: 'checkbox', name: 'remember', checked: true });
  const alert = h('div', {});
  if (message) alert.append(errorBox(message));
  const button = h('button', { type: 'submit' }, 'Sign in');
  const form = h(
    'form',
    {
      class: 'sign-in',
      on: {
        submit: (event) => {
          event.preventDefault();
          const parsed = normalizeKey(input.value);
          if ('error' in parsed) return void alert.replaceChildren(errorBox(parsed.error));
          button.disabled = true;
          alert.replaceChildren(h('p', { class: 'muted' }, 'Checking the key...'));
          identify(createApiClient({ token: parsed.key, fetch: fetchJson }))
            .then((signedIn) => {
              keys.set(parsed.key, remember.checked);
              session = signedIn;
              const route = parseRoute(location.hash);
              if (!route || route.page === 'sign-in') location.hash = landing(signedIn);
              else void show();
            })
            .catch((error: unknown) => {
              button.disabled = false;
              alert.replaceChildren(errorBox(describeError(error)));
            });
        },
      },
    },
    h('h1', {}, 'tunnel-broker console'),
    h('label', { for: 'api-key' }, 'API key'),
    input,
    h('label', { class: 'check' }, remember, ' keep it for this browser tab (sessionStorage; closing the tab forgets it)'),
    button,
    alert,
    h('p', { class: 'muted' }, 'An operator key (or the admin token) sees the whole fleet; a tenant key sees its own tenant only. The key is sent as a bearer header, never stored in a cookie.'),
  );
  app.replaceChildren(h('main', { class: 'narrow' }, form));
  input.focus();
}

const landing = (s: ConsoleSession) => routeHash(s.scope === 'fleet' ? 'fleet' : 'sessions');

function stopPage(): void {
  for (const cleanup of leave) cleanup();
  leave = [];
  generation++;
}

async function show(): Promise<void> {
  if (!session) return renderSignIn();
  const route = parseRoute(location.hash);
  if (!route || route.page === 'sign-in') {
    location.hash = landing(session);
    return;
  }
  stopPage();
  const mine = generation;
  const page = PAGES[route.page];
  document.title = `${page.title} · tunnel-broker console`;
  const banner = h('div', { id: 'banner' });
  const root = h('main', { 'data-page': route.page });
  const current = session;
  const nav = h(
    'nav',
    {},
    ...Object.entries(PAGES)
      .filter(([, p]) => current.scope === 'fleet' || !p.fleetOnly)
      .map(([name, p]) => h('a', { href: routeHash(name as PageName), class: name === route.page ? 'current' : undefined, 'aria-current': name === route.page ? 'page' : undefined }, p.title)),
  );
  const who = current.scope === 'fleet' ? 'operator key (whole fleet)' : `tenant key: ${current.tenants.map((t) => t.tenantId).join(', ') || 'no tenant'}`;
  const header = h(
    'header',
    {},
    h('span', { class: 'brand' }, 'tunnel-broker'),
    nav,
    h('span', { class: 'who', 'data-testid': 'who' }, who),
    h('button', { type: 'button', class: 'secondary', on: { click: () => signOut() } }, 'Sign out'),
  );
  app.replaceChildren(header, banner, root);
  const ctx: PageContext = {
    session: current,
    route,
    root,
    onLeave: (cleanup) => leave.push(cleanup),
    fail(error) {
      if (mine !== generation) return; // a late answer for a page already left
      if (isUnauthorized(error)) return signOut(describeError(error));
      banner.replaceChildren(errorBox(describeError(error)));
    },
  };
  try {
    await page.render(ctx);
  } catch (error) {
    ctx.fail(error);
  }
}

window.addEventListener('hashchange', () => void show());

async function boot(): Promise<void> {
  const stored = keys.get();
  if (!stored) return renderSignIn();
  try {
    session = await identify(createApiClient({ token: stored, fetch: fetchJson }));
    await show();
  } catch (error) {
    if (isUnauthorized(error)) signOut(describeError(error));
    else renderSignIn(describeError(error));
  }
}

void boot();
