/**
 * Builds the web console (console/src) into the static files the broker serves under /console:
 * index.html, app.js (one ES module, everything bundled) and app.css. esbuild is a devDependency,
 * so this runs before the app does: `npm start` and the tests build in memory (bundleConsole),
 * scripts/build-bundles.ts writes into the API bundle's folder, which Lambda ships as is.
 *
 *   npx tsx scripts/build-console.ts [--out console/dist]
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions } from 'esbuild';
import type { ConsoleAssets } from '../functions/src/http/console-files';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SRC = join(ROOT, 'console', 'src');

async function bundleOne(options: BuildOptions & { outfile: string }): Promise<Uint8Array> {
  const result = await build({ ...options, bundle: true, write: false, legalComments: 'none', logLevel: 'warning' });
  const out = result.outputFiles.find((f) => f.path === resolve(options.outfile));
  if (!out) throw new Error(`esbuild wrote no ${options.outfile}`);
  return out.contents;
}

/** The console's files in memory: what the local stack and the tests serve. */
export async function bundleConsole(options: { minify?: boolean } = {}): Promise<ConsoleAssets> {
  const minify = options.minify ?? true;
  const [js, css] = await Promise.all([
    bundleOne({ entryPoints: [join(SRC, 'main.ts')], outfile: join(SRC, 'app.js'), platform: 'browser', format: 'esm', target: 'es2022', minify }),
    bundleOne({ entryPoints: [join(SRC, 'app.css')], outfile: join(SRC, 'app.out.css'), minify }),
  ]);
  return { 'index.html': new Uint8Array(readFileSync(join(SRC, 'index.html'))), 'app.js': js, 'app.css': css };
}

/** Writes the console's files into `outDir` (replaced whole). */
export async function buildConsole(options: { outDir: string; minify?: boolean }): Promise<{ outDir: string; files: { name: string; bytes: number }[] }> {
  const assets = await bundleConsole(options);
  const outDir = resolve(options.outDir);
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  for (const [name, bytes] of Object.entries(assets)) writeFileSync(join(outDir, name), bytes);
  return { outDir, files: Object.entries(assets).map(([name, bytes]) => ({ name, bytes: bytes.length })) };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outFlag = process.argv.indexOf('--out');
  const built = await buildConsole({ outDir: outFlag >= 0 ? process.argv[outFlag + 1]! : join(ROOT, 'console', 'dist') });
  for (const f of built.files) console.log(`console ${f.name.padEnd(10)} ${(f.bytes / 1024).toFixed(1).padStart(6)} KiB  ${join(built.outDir, f.name)}`);
}
