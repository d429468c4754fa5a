/**
 * `/console`: the web console's static files (docs/console.md), from memory. The page is locked
 * down by headers: scripts and styles from this origin only (no inline script), nothing may frame
 * it, no referrer leaves it. It sets no cookie: the console authenticates each API call with the
 * bearer key the operator typed, which no other site can make the browser send.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { BrokerError } from '../errors';
import { CONSOLE_FILES, type ConsoleAssets, type ConsoleFileName } from './console-files';
import type { AppEnv } from './context';

export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers on every console file. */
export const CONSOLE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONSOLE_CSP,
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  // Unversioned names: revalidate each time so a deploy is seen at once.
  'cache-control': 'no-cache',
};

export function registerConsoleRoutes(app: OpenAPIHono<AppEnv>, assets: ConsoleAssets | undefined): void {
  const serve = (c: Context<AppEnv>, name: ConsoleFileName) => {
    if (!assets) throw new BrokerError('not-found', 'not-found', 'the web console is not part of this build: build it with `npx tsx scripts/build-console.ts` (docs/console.md)');
    const file = CONSOLE_FILES.find((f) => f.name === name)!;
    return c.body(assets[name] as Uint8Array<ArrayBuffer>, 200, { ...CONSOLE_HEADERS, 'content-type': file.contentType });
  };
  // Both forms serve the page (its links are absolute): API Gateway routes `/console` and `/console/{proxy+}`.
  app.get('/console', (c) => serve(c, 'index.html'));
  app.get('/console/', (c) => serve(c, 'index.html'));
  for (const file of CONSOLE_FILES) app.get(`/console/${file.name}`, (c) => serve(c, file.name));
}
