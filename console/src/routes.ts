/**
 * The console's pages as hash routes (`#/sessions?state=active&q=bob`): pure parse and format, so a
 * link, the back button and a reload all land on the same view with the same filters.
 */

export type PageName = 'sign-in' | 'fleet' | 'tenants' | 'sessions' | 'auth-events' | 'usage';

export const PAGES: readonly PageName[] = ['sign-in', 'fleet', 'tenants', 'sessions', 'auth-events', 'usage'];

/** Query parameters each page understands; anything else in the hash is dropped. */
const PARAMS: Record<PageName, readonly string[]> = {
  'sign-in': [],
  fleet: [],
  tenants: [],
  sessions: ['tenantId', 'state', 'username', 'q'],
  'auth-events': ['tenantId', 'username'],
  usage: ['tenantId', 'from', 'to'],
};

export interface Route {
  readonly page: PageName;
  readonly params: Readonly<Record<string, string>>;
}

/**
 * `#/usage?tenantId=acme` -> { page: 'usage', params: { tenantId: 'acme' } }; no page or an unknown
 * one -> undefined (the shell then opens the key's landing page).
 */
export function parseRoute(hash: string): Route | undefined {
  const body = hash.replace(/^#?\/?/, '');
  const [path = '', query = ''] = body.split('?', 2);
  const page = path as PageName;
  if (!PAGES.includes(page)) return undefined;
  const params: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(query)) {
    if (PARAMS[page].includes(key) && value !== '') params[key] = value;
  }
  return { page, params };
}

/** The inverse of parseRoute: empty parameters are left out, the rest in the page's own order. */
export function routeHash(page: PageName, params: Readonly<Record<string, string | undefined>> = {}): string {
  const query = new URLSearchParams();
  for (const key of PARAMS[page]) {
    const value = params[key];
    if (value !== undefined && value !== '') query.set(key, value);
  }
  const text = query.toString();
  return `#/${page}${text ? `?${text}` : ''}`;
}
