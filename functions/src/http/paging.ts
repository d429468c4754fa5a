/**
 * Listing routes take and give page cursors through here, so every cursor the API hands out is
 * signed and bound to its listing (domain/page-cursors.ts): the route, the caller and every query
 * parameter except `cursor` and `limit` (a client may change the page size between pages).
 */
import type { Context } from 'hono';
import type { ServiceContext } from '../domain/service-context';
import type { Page, PageRequest } from '../domain/types';
import type { AppEnv } from './context';

function scopeOf(c: Context<AppEnv>): string {
  const params = new URL(c.req.url).searchParams;
  const filter = [...params.entries()].filter(([k]) => k !== 'cursor' && k !== 'limit').sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([c.req.method, c.req.path, c.get('operator')?.id ?? '', filter]);
}

/** The store's page request for a listing query: a given cursor must be one this listing handed out (400 otherwise). */
export function pageRequest(ctx: Pick<ServiceContext, 'cursors'>, c: Context<AppEnv>, query: { limit: number; cursor?: string | undefined }): PageRequest {
  return { limit: query.limit, ...(query.cursor !== undefined ? { cursor: ctx.cursors.open(query.cursor, scopeOf(c)) } : {}) };
}

/** `{ items, cursor? }` with the store's cursor signed for this listing. */
export function renderSignedPage<T, R>(ctx: Pick<ServiceContext, 'cursors'>, c: Context<AppEnv>, page: Page<T>, render: (item: T) => R) {
  return { items: page.items.map(render), ...(page.cursor !== undefined ? { cursor: ctx.cursors.seal(page.cursor, scopeOf(c)) } : {}) };
}
