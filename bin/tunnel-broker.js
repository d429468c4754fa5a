#!/usr/bin/env node
// `tunnel-broker` / `npx tunnel-broker`: the operator CLI (docs/cli.md), its TypeScript sources run
// through tsx like bin/edge-agent.js. It talks to the broker over HTTP only.
import { register } from 'tsx/esm/api';

register();
await import('../cli/src/main.ts');
