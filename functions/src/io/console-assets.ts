/** Reads the built web console from a folder once, at start-up (entry points only). */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONSOLE_FILES, type ConsoleAssets } from '../http/console-files';

/**
 * The console's files from `dir`; undefined when the folder holds no console at all (the app then
 * answers /console with a 404 that says so); throws when it holds only part of one.
 */
export function readConsoleAssets(dir: string): ConsoleAssets | undefined {
  const present = CONSOLE_FILES.filter((f) => existsSync(join(dir, f.name)));
  if (present.length === 0) return undefined;
  if (present.length < CONSOLE_FILES.length) {
    const missing = CONSOLE_FILES.filter((f) => !present.includes(f)).map((f) => f.name);
    throw new Error(`console assets in ${dir} are incomplete: missing ${missing.join(', ')} (rebuild with scripts/build-console.ts)`);
  }
  return Object.fromEntries(CONSOLE_FILES.map((f) => [f.name, new Uint8Array(readFileSync(join(dir, f.name)))])) as ConsoleAssets;
}
