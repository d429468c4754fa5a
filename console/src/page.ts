/** What each page gets from the shell. */
import type { Route } from './routes';
import type { ConsoleSession } from './session';

export interface PageContext {
  readonly session: ConsoleSession;
  readonly route: Route;
  /** The page's own area; the shell has emptied it. */
  readonly root: HTMLElement;
  /** Runs when the operator leaves the page (timers stop). */
  onLeave(cleanup: () => void): void;
  /** Reports an API failure: the shell shows it, and signs out on 401. */
  fail(error: unknown): void;
}

export type PageRenderer = (ctx: PageContext) => Promise<void>;

/** How often live pages (fleet, sessions) reload. */
export const REFRESH_MS = 5000;
