import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { BrokerBundles } from './tunnel-broker-stack';

/**
 * Where scripts/build-bundles.ts takes each entry point from and where it writes it, relative to
 * the repository root. Optional entries are built (and deployed) only when their source exists.
 */
export interface BundleEntry {
  readonly name: 'api' | 'reaper' | 'autoscaler' | 'radiusAccounting' | 'agent';
  readonly source: string;
  /** Output folder under the dist directory. */
  readonly outDir: string;
  readonly outFile: string;
  readonly required: boolean;
  /** Subfolder that receives the web console's built files (scripts/build-console.ts), served by this function. */
  readonly consoleDir?: string;
}

export const BUNDLE_ENTRIES: readonly BundleEntry[] = [
  { name: 'api', source: 'functions/src/entry/lambda.ts', outDir: 'functions/api', outFile: 'index.mjs', required: true, consoleDir: 'console' },
  { name: 'reaper', source: 'functions/src/entry/reaper.ts', outDir: 'functions/reaper', outFile: 'index.mjs', required: true },
  { name: 'autoscaler', source: 'functions/src/entry/autoscaler.ts', outDir: 'functions/autoscaler', outFile: 'index.mjs', required: false },
  { name: 'radiusAccounting', source: 'functions/src/entry/radius-accounting.ts', outDir: 'functions/radius-accounting', outFile: 'index.mjs', required: false },
  { name: 'agent', source: 'edge-agent/src/cli.ts', outDir: 'edge-agent', outFile: 'edge-agent.mjs', required: false },
];

/** The bundle folders present under `distDir`, in the shape the stack takes. Throws if a required one is missing. */
export function bundlesIn(distDir: string): BrokerBundles {
  const found: Partial<Record<BundleEntry['name'], string>> = {};
  const missing: string[] = [];
  for (const entry of BUNDLE_ENTRIES) {
    const dir = join(distDir, entry.outDir);
    if (existsSync(join(dir, entry.outFile))) found[entry.name] = dir;
    else if (entry.required) missing.push(join(dir, entry.outFile));
  }
  if (missing.length > 0 || !found.api || !found.reaper) {
    throw new Error(`missing bundles ${missing.join(', ')}: run \`npx tsx scripts/build-bundles.ts\` first`);
  }
  return { api: found.api, reaper: found.reaper, autoscaler: found.autoscaler, radiusAccounting: found.radiusAccounting, agent: found.agent };
}
