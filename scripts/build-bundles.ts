/**
 * Bundles the Lambda functions and the edge agent with the installed esbuild (no Docker, no
 * network): one ESM file per entry, minified, with a source map.
 *
 *   npx tsx scripts/build-bundles.ts [--out dist]
 *
 * Writes dist/functions/<name>/index.mjs and dist/edge-agent/edge-agent.mjs (see
 * infra/lib/bundle-layout.ts), and the web console into dist/functions/api/console/ (served by the
 * API function, docs/console.md). Optional entries whose source does not exist yet are skipped.
 * Native modules (koffi) cannot be bundled: they stay external and are listed in a package.json
 * next to the agent bundle, which the VM's boot script installs for its own CPU.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { BUNDLE_ENTRIES, type BundleEntry } from '../infra/lib/bundle-layout';
import { buildConsole } from './build-console';

/** Packages with native addons: never bundled, installed on the target instead. */
export const NATIVE_EXTERNALS: readonly string[] = ['koffi'];

// ESM output: CommonJS dependencies that call require() (pino, the AWS SDK's internals) need one.
const REQUIRE_BANNER = "import { createRequire as __bundleCreateRequire } from 'node:module'; const require = __bundleCreateRequire(import.meta.url);";

export interface BuildOptions {
  /** Repository root. @default the folder above scripts/ */
  readonly root?: string;
  /** Output directory. @default <root>/dist */
  readonly outDir?: string;
  /** Minify. @default true */
  readonly minify?: boolean;
}

export interface BuiltBundle {
  readonly name: BundleEntry['name'];
  readonly file: string;
  readonly bytes: number;
  readonly nativeExternals: readonly string[];
}

export interface BuildReport {
  readonly outDir: string;
  readonly built: readonly BuiltBundle[];
  /** Optional entries whose source is absent. */
  readonly skipped: readonly string[];
}

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Builds every bundle whose source exists; fails when a required entry's source is missing. */
export async function buildBundles(options: BuildOptions = {}): Promise<BuildReport> {
  const root = options.root ?? ROOT;
  const outDir = resolve(options.outDir ?? join(root, 'dist'));
  const missingRequired = BUNDLE_ENTRIES.filter((e) => e.required && !existsSync(join(root, e.source)));
  if (missingRequired.length > 0) {
    throw new Error(`cannot bundle: missing entry points ${missingRequired.map((e) => e.source).join(', ')}`);
  }
  const built: BuiltBundle[] = [];
  const skipped: string[] = [];
  for (const entry of BUNDLE_ENTRIES) {
    const source = join(root, entry.source);
    const dir = join(outDir, entry.outDir);
    rmSync(dir, { recursive: true, force: true });
    if (!existsSync(source)) {
      skipped.push(entry.source);
      continue;
    }
    mkdirSync(dir, { recursive: true });
    const file = join(dir, entry.outFile);
    const result = await build({
      entryPoints: [source],
      outfile: file,
      bundle: true,
      platform: 'node',
      target: 'node22',
      format: 'esm',
      minify: options.minify ?? true,
      sourcemap: true,
      legalComments: 'linked',
      banner: { js: REQUIRE_BANNER },
      // @aws-sdk/* is bundled, not external, although the nodejs22.x runtime ships SDK v3: the
      // runtime's copy changes version whenever AWS updates it, while the bundle carries exactly the
      // clients the tests ran with (client-dynamodb, -secrets-manager, -auto-scaling, -ssm,
      // -route-53 pinned alike in package.json). The cost is bundle size (about 1 MiB more for the
      // autoscaler), not cold-start correctness.
      external: [...NATIVE_EXTERNALS],
      metafile: true,
      logLevel: 'warning',
    });
    // The console is built into the function's own folder: Lambda cannot run esbuild (a
    // devDependency), and files in the asset change its hash, so a console change redeploys.
    if (entry.consoleDir) await buildConsole({ outDir: join(dir, entry.consoleDir), minify: options.minify ?? true });
    const natives = nativeImports(result.metafile);
    if (natives.length > 0) writeNativePackageJson(root, dir, entry, natives);
    built.push({ name: entry.name, file, bytes: readFileSync(file).length, nativeExternals: natives });
  }
  return { outDir, built, skipped };
}

function nativeImports(metafile: Metafile): string[] {
  const used = new Set<string>();
  for (const input of Object.values(metafile.inputs)) {
    for (const imp of input.imports) {
      const pkg = NATIVE_EXTERNALS.find((n) => imp.path === n || imp.path.startsWith(`${n}/`));
      if (imp.external && pkg) used.add(pkg);
    }
  }
  return [...used].sort();
}

/** Pins each native module to the version installed here, for `npm install` on the target. */
function writeNativePackageJson(root: string, dir: string, entry: BundleEntry, natives: readonly string[]): void {
  const dependencies: Record<string, string> = {};
  for (const name of natives) {
    const pkg = JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as { version: string };
    dependencies[name] = pkg.version;
  }
  const manifest = { name: `tunnel-broker-${entry.name}-bundle`, private: true, type: 'module', dependencies };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outFlag = process.argv.indexOf('--out');
  const outDir = outFlag >= 0 ? process.argv[outFlag + 1] : undefined;
  const report = await buildBundles({ outDir });
  for (const b of report.built) {
    const natives = b.nativeExternals.length ? ` (native, installed on target: ${b.nativeExternals.join(', ')})` : '';
    console.log(`built ${b.name.padEnd(10)} ${(b.bytes / 1024).toFixed(0).padStart(6)} KiB  ${b.file}${natives}`);
  }
  for (const s of report.skipped) console.log(`skipped ${s} (not written yet)`);
}
