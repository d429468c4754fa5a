import type { Page, PageRequest } from './types';

/**
 * Every item of a paged listing, pages read in order. For fleet-sized lists (agents, tenants) that
 * a caller needs whole; long lists it changes while reading (sessions) are walked page by page.
 */
export async function allPages<T>(list: (page: PageRequest) => Promise<Page<T>>, limit = 100): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await list({ limit, ...(cursor ? { cursor } : {}) });
    items.push(...page.items);
    cursor = page.cursor;
  } while (cursor);
  return items;
}
