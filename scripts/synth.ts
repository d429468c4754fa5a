/**
 * `npm run synth`: builds the function and agent bundles, then synthesizes the CDK app in-process into
 * cdk.out/ (templates + staged assets). Offline: no AWS credentials, no CDK CLI, no Docker.
 * Exits 1 when the assembly carries errors (including unsuppressed cdk-nag findings).
 *
 *   npx tsx scripts/synth.ts [-c key=value ...] [--out cdk.out]
 */
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dirname } from 'node:path';
import { buildBundles } from './build-bundles';
import { createBrokerApp } from '../infra/lib/app';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const context: Record<string, string> = {};
let outdir = join(root, 'cdk.out');
for (let i = 0; i < args.length; i++) {
  const arg = args[i];
  const next = args[i + 1];
  if ((arg === '-c' || arg === '--context') && next) {
    const eq = next.indexOf('=');
    if (eq > 0) context[next.slice(0, eq)] = next.slice(eq + 1);
    i++;
  } else if (arg === '--out' && next) {
    outdir = resolve(next);
    i++;
  }
}

const distDir = join(root, 'dist');
const report = await buildBundles({ root, outDir: distDir });
for (const b of report.built) console.log(`bundle ${b.name}: ${b.file}`);
for (const s of report.skipped) console.log(`bundle skipped: ${s} does not exist yet`);

const { app } = createBrokerApp({ distDir, outdir, context });
const assembly = app.synth();
let errors = 0;
for (const stack of assembly.stacks) {
  console.log(`template: ${join(outdir, stack.templateFile)}`);
  for (const message of stack.messages) {
    if (message.level === 'error') {
      errors++;
      console.error(`ERROR ${message.id}: ${String(message.entry.data)}`);
    } else if (message.level === 'warning') {
      console.warn(`warning ${message.id}: ${String(message.entry.data)}`);
    }
  }
}
if (errors > 0) {
  console.error(`${errors} error(s) in the assembly`);
  process.exit(1);
}
console.log(`synthesized to ${outdir}`);
