/**
 * CDK entry point (infra/cdk.json runs it): builds the bundles with the project's esbuild step, then
 * synthesizes the stack. `npx cdk deploy` from infra/ therefore needs no separate build command.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBundles } from '../../scripts/build-bundles';
import { createBrokerApp } from '../lib/app';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const distDir = join(root, 'dist');
if (process.env.SKIP_BUNDLE !== '1') await buildBundles({ root, outDir: distDir });
const { app } = createBrokerApp({ distDir });
app.synth();
