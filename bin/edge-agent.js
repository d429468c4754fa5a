#!/usr/bin/env node
// `edge-agent` / `npx edge-agent`: runs the TypeScript sources through tsx. Deployments use the
// esbuild bundle (dist/edge-agent/edge-agent.mjs) instead, which needs no loader.
import { register } from 'tsx/esm/api';

register();
await import('../edge-agent/src/cli.ts');
