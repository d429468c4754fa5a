/**
 * Test-only: tiny stand-in bundle folders, so template assertions do not depend on the real
 * functions or agent being built (the synth test builds the real ones).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrokerBundles } from '../../../infra/lib/tunnel-broker-stack';

export function stubBundles(which: { autoscaler?: boolean; agent?: boolean; radiusAccounting?: boolean } = {}): BrokerBundles {
  const root = mkdtempSync(join(tmpdir(), 'tb-bundles-'));
  const fn = (name: string): string => {
    const dir = join(root, name);
    mkdirSync(dir);
    writeFileSync(join(dir, 'index.mjs'), `export const handler = async () => ${JSON.stringify(name)};\n`);
    return dir;
  };
  const agentDir = join(root, 'edge-agent');
  if (which.agent !== false) {
    mkdirSync(agentDir);
    writeFileSync(join(agentDir, 'edge-agent.mjs'), 'console.log("agent");\n');
  }
  return {
    api: fn('api'),
    reaper: fn('reaper'),
    ...(which.autoscaler !== false ? { autoscaler: fn('autoscaler') } : {}),
    // Off unless asked for (test/integration/infra/radius-accounting-stack.test.ts).
    ...(which.radiusAccounting === true ? { radiusAccounting: fn('radius-accounting') } : {}),
    ...(which.agent !== false ? { agent: agentDir } : {}),
  };
}
