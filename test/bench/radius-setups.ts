/**
 * Issue 20: session setups per second of a RADIUS tenant beside a local tenant, in the same run
 * and the same rounds (alternating, so a drift of the shared machine hits both alike). One setup =
 * POST /v1/agent/authenticate (MS-CHAPv2) + POST /v1/agent/sessions, at the same concurrency. The
 * RADIUS tenant's authentication is an Access-Request to a real FreeRADIUS on loopback (its own
 * config, started here); the local tenant's is the broker's own verification: the ratio is what
 * the RADIUS round trip (and the server's MS-CHAPv2 work) costs a setup.
 *
 * The RADIUS user is `bench` on the server for every tenant: clients log in as `TENANT\bench`
 * and the tenant sends the user part (userName `without-realm`), which MS-CHAPv2 allows with the
 * domain form (RFC 2759 §8.2 hashes the name after the backslash).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createPppClientCrypto } from '../../edge-agent/src/ppp';
import { startFreeRadius } from '../support/radius/freeradius';
import { fixturePassword } from '../support/fixture-password';
import type { ChildRpc } from './child-rpc';
import { jsonClient } from './http-client';
import { median, percentile, runLimited } from './stats';

export interface RadiusSetupFigures {
  readonly concurrency: number;
  readonly rounds: number;
  readonly setupsPerRound: number;
  readonly local: { readonly perSec: number; readonly p50Ms: number; readonly p99Ms: number };
  readonly radius: { readonly perSec: number; readonly p50Ms: number; readonly p99Ms: number };
  readonly failures: { readonly local: number; readonly radius: number };
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

export async function benchRadiusSetups(
  broker: ChildRpc,
  options: { concurrency: number; rounds: number; setupsPerRound: number },
  log: (line: string) => void,
): Promise<RadiusSetupFigures> {
  const info = await broker.call<{ url: string }>('info');
  const { token } = await broker.call<{ agentId: string; token: string }>('enrol', { name: 'bench-radius' });
  const password = fixturePassword('bench');
  const secret = randomBytes(12).toString('hex');
  const fr = await startFreeRadius({ secret, users: [{ username: 'bench', password }] });
  const crypto = await createPppClientCrypto(password);
  const http = jsonClient(info.url, token, options.concurrency);
  let seq = 0;
  const failures = { local: 0, radius: 0 };
  try {
    const newTenant = async (kind: 'local' | 'radius') => {
      const n = seq++;
      const tenantId = `rs${Date.now().toString(36)}${n}`;
      // 10.230-249: the other figures seed 10.0-229 and 10.250 on the same broker, and pools may not overlap (at most 12 tenants here).
      await broker.call('seed', { tenantId, cidr: `10.${230 + (n % 20)}.0.0/16`, users: ['bench'] });
      if (kind === 'radius') {
        const res = await broker.call<{ status: number }>('admin', {
          method: 'PUT',
          path: `/v1/tenants/${tenantId}/auth`,
          body: { kind: 'radius', userName: 'without-realm', servers: [{ host: '127.0.0.1', port: fr.port, secret, timeoutMs: 2000, retries: 1 }] },
        });
        if (res.status !== 200) throw new Error(`radius bench: PUT auth ${res.status}`);
      }
      return tenantId;
    };
    const round = async (kind: 'local' | 'radius', count: number) => {
      const tenantId = await newTenant(kind);
      const name = `${tenantId}\\bench`;
      const requests = Array.from({ length: count }, (_, i) => {
        const authenticatorChallenge = randomBytes(16);
        const peerChallenge = randomBytes(16);
        const { ntResponse } = crypto.msChapV2(authenticatorChallenge, peerChallenge, name);
        const ref = randomUUID();
        return {
          auth: { method: 'mschapv2', username: name, id: 1, agentSessionRef: ref, peerAddress: '127.0.0.1', authenticatorChallenge: hex(authenticatorChallenge), peerChallenge: hex(peerChallenge), ntResponse: hex(ntResponse) },
          start: { agentSessionRef: ref, tunnelId: 1 + (i % 60000), l2tpSessionId: 1 + (i % 60000), peerAddress: '127.0.0.1', tenantId, authMethod: 'mschapv2' },
        };
      });
      const latencies: number[] = [];
      const t0 = performance.now();
      await runLimited(requests, options.concurrency, async (r) => {
        const s = performance.now();
        const auth = await http.post<{ ok: boolean; grant?: string; username?: string }>('/v1/agent/authenticate', r.auth);
        const start = auth.body?.ok ? await http.post('/v1/agent/sessions', { ...r.start, username: auth.body.username, grant: auth.body.grant }) : undefined;
        if (start?.status === 201) latencies.push(performance.now() - s);
        else failures[kind]++;
      });
      const elapsed = performance.now() - t0;
      return { perSec: (latencies.length / elapsed) * 1000, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) };
    };
    await round('local', 30); // warm-up of both paths, outside the figures
    await round('radius', 30);
    failures.local = 0;
    failures.radius = 0;
    const local: { perSec: number; p50Ms: number; p99Ms: number }[] = [];
    const radius: typeof local = [];
    for (let r = 0; r < options.rounds; r++) {
      for (const kind of r % 2 === 0 ? (['local', 'radius'] as const) : (['radius', 'local'] as const)) {
        (kind === 'local' ? local : radius).push(await round(kind, options.setupsPerRound));
      }
    }
    const med = (xs: typeof local) => ({ perSec: median(xs.map((x) => x.perSec)), p50Ms: median(xs.map((x) => x.p50Ms)), p99Ms: median(xs.map((x) => x.p99Ms)) });
    const out = { concurrency: options.concurrency, rounds: options.rounds, setupsPerRound: options.setupsPerRound, local: med(local), radius: med(radius), failures };
    log(
      `radius setups c=${options.concurrency}: local ${out.local.perSec.toFixed(0)}/s p99 ${out.local.p99Ms.toFixed(1)} ms; ` +
        `RADIUS (FreeRADIUS) ${out.radius.perSec.toFixed(0)}/s p99 ${out.radius.p99Ms.toFixed(1)} ms; failed ${failures.local}/${failures.radius}`,
    );
    return out;
  } finally {
    http.close();
    await fr.stop();
  }
}
