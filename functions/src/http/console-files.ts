/** The web console's files (built by scripts/build-console.ts) and the types they are served as. */
export const CONSOLE_FILES = [
  { name: 'index.html', contentType: 'text/html; charset=utf-8' },
  { name: 'app.js', contentType: 'text/javascript; charset=utf-8' },
  { name: 'app.css', contentType: 'text/css; charset=utf-8' },
] as const;

export type ConsoleFileName = (typeof CONSOLE_FILES)[number]['name'];

/** The built console in memory, read once at start-up by the entry point (io/console-assets.ts). */
export type ConsoleAssets = Readonly<Record<ConsoleFileName, Uint8Array>>;
