/**
 * Figure 1: session setups per second over HTTP against the broker process on DynamoDB Local. One
 * setup = POST /v1/agent/authenticate (MS-CHAPv2) + POST /v1/agent/sessions (address + session
 * record). The baseline ("floor") issues, with the SDK and at the same concurrency, the store work
 * a correct setup cannot skip:
 *   authenticate: BatchGetItem of the agent (revocable credential: never cached), the user (its
 *                 sealed hashes) and the three throttle records (pair, agent's minute, the minute
 *                 before) that guessing protection reads before verifying (issue 14 #4)
 *   start:        GetItem agent + TransactWriteItems [session, lease] (same item shapes; the session
 *                 id names agent and ref, so no pointer item is needed for idempotency)
 * Each round uses a fresh tenant, so every round starts from the same state.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { BatchGetItemCommand, GetItemCommand, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import { agentWindowKey, pairKey, windowOf } from '../../functions/src/domain/auth-throttle';
import { createPppClientCrypto } from '../../edge-agent/src/ppp';
import { createDynamoClient } from '../../functions/src/store/dynamo';
import { toAttributes, toItem } from '../../functions/src/store/dynamo/item-codec';
import { keys } from '../../functions/src/store/dynamo/keys';
import { sessionItem } from '../../functions/src/store/dynamo/session-items';
import { sessionIdFor } from '../../functions/src/domain/session-id';
import type { Session } from '../../functions/src/domain/types';
import type { ChildRpc } from './child-rpc';
import { jsonClient } from './http-client';
import { findPid, processCpuSeconds } from './cpu-meter';
import { median, percentile, runLimited } from './stats';
import { fixturePassword } from '../support/fixture-password';

export interface RoundFigures {
  readonly perSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export interface ConcurrencyFigures {
  readonly concurrency: number;
  readonly broker: RoundFigures;
  readonly floor: RoundFigures;
  readonly failures: number;
  /** CPU milliseconds per setup (median of rounds) of the broker process and of DynamoDB Local during the broker rounds. */
  readonly cpuMsPerSetup: { readonly broker: number; readonly dynamo: number };
}

export interface ControlPlaneOptions {
  readonly concurrency: readonly number[];
  readonly rounds: number;
  readonly setupsPerRound: number;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function summarize(latencies: number[], elapsedMs: number): RoundFigures {
  return { perSec: (latencies.length / elapsedMs) * 1000, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) };
}

function medianFigures(rounds: readonly RoundFigures[]): RoundFigures {
  return { perSec: median(rounds.map((r) => r.perSec)), p50Ms: median(rounds.map((r) => r.p50Ms)), p99Ms: median(rounds.map((r) => r.p99Ms)) };
}

export async function benchControlPlane(broker: ChildRpc, options: ControlPlaneOptions, log: (line: string) => void): Promise<ConcurrencyFigures[]> {
  const info = await broker.call<{ url: string; tableName: string; endpoint: string }>('info');
  const { agentId, token } = await broker.call<{ agentId: string; token: string }>('enrol', { name: 'bench-cp' });
  const password = fixturePassword('bench');
  const crypto = await createPppClientCrypto(password);
  const sdk = createDynamoClient({ endpoint: info.endpoint });
  const out: ConcurrencyFigures[] = [];
  const brokerPid = broker.child.pid;
  const dynamoPid = findPid(['-port', new URL(info.endpoint).port]);
  let tenantSeq = 0;

  // Pools never overlap anywhere on the fleet (issue 14): each round's tenant gets a /16 of its own.
  const newTenant = async () => {
    const seq = tenantSeq++;
    const tenantId = `cp${Date.now().toString(36)}${seq}`;
    await broker.call('seed', { tenantId, cidr: `10.${seq % 200}.0.0/16`, users: ['bench'] });
    return tenantId;
  };

  for (const concurrency of options.concurrency) {
    const http = jsonClient(info.url, token, concurrency);
    const brokerRounds: RoundFigures[] = [];
    const floorRounds: RoundFigures[] = [];
    let failures = 0;
    const cpuBroker: number[] = [];
    const cpuDynamo: number[] = [];
    // Warm-up: JIT, sockets and the table, outside the figures.
    await runBrokerRound(await newTenant(), Math.min(50, options.setupsPerRound), concurrency);
    for (let round = 0; round < options.rounds; round++) {
      // Alternate which one goes first, so a drift of the shared machine hits both alike.
      const order = round % 2 === 0 ? ['broker', 'floor'] : ['floor', 'broker'];
      for (const which of order) {
        const tenantId = await newTenant();
        if (which === 'broker') {
          const b0 = brokerPid ? processCpuSeconds(brokerPid) : 0;
          const d0 = dynamoPid ? processCpuSeconds(dynamoPid) : 0;
          brokerRounds.push(await runBrokerRound(tenantId, options.setupsPerRound, concurrency));
          cpuBroker.push(((brokerPid ? processCpuSeconds(brokerPid) : 0) - b0) * 1000 / options.setupsPerRound);
          cpuDynamo.push(((dynamoPid ? processCpuSeconds(dynamoPid) : 0) - d0) * 1000 / options.setupsPerRound);
        }
        else floorRounds.push(await runFloorRound(tenantId, options.setupsPerRound, concurrency));
      }
    }
    http.close();
    const figures = { concurrency, broker: medianFigures(brokerRounds), floor: medianFigures(floorRounds), failures, cpuMsPerSetup: { broker: median(cpuBroker), dynamo: median(cpuDynamo) } };
    log(
      `control plane c=${concurrency}: broker ${figures.broker.perSec.toFixed(0)}/s p99 ${figures.broker.p99Ms.toFixed(1)} ms; floor ${figures.floor.perSec.toFixed(0)}/s p99 ${figures.floor.p99Ms.toFixed(1)} ms; ` +
        `CPU per setup: broker ${figures.cpuMsPerSetup.broker.toFixed(1)} ms, DynamoDB Local ${figures.cpuMsPerSetup.dynamo.toFixed(1)} ms`,
    );
    out.push(figures);

    async function runBrokerRound(tenantId: string, count: number, c: number): Promise<RoundFigures> {
      const username = `bench@${tenantId}`;
      // The client's MS-CHAPv2 work happens on the user's machine: computed before the clock starts.
      const requests = Array.from({ length: count }, (_, i) => {
        const authenticatorChallenge = randomBytes(16);
        const peerChallenge = randomBytes(16);
        const { ntResponse } = crypto.msChapV2(authenticatorChallenge, peerChallenge, username);
        const ref = randomUUID();
        return {
          auth: { method: 'mschapv2', username, agentSessionRef: ref, peerAddress: '127.0.0.1', authenticatorChallenge: hex(authenticatorChallenge), peerChallenge: hex(peerChallenge), ntResponse: hex(ntResponse) },
          start: { agentSessionRef: ref, tunnelId: 1 + (i % 60000), l2tpSessionId: 1 + (i % 60000), peerAddress: '127.0.0.1', tenantId, username: 'bench', authMethod: 'mschapv2' },
        };
      });
      const latencies: number[] = [];
      const t0 = performance.now();
      await runLimited(requests, c, async (r) => {
        const s = performance.now();
        // As the agent does: the grant from the authentication goes with the start.
        const auth = await http.post<{ ok: boolean; grant?: string }>('/v1/agent/authenticate', r.auth);
        const start = auth.body?.ok ? await http.post('/v1/agent/sessions', { ...r.start, grant: auth.body.grant }) : undefined;
        if (start?.status === 201) latencies.push(performance.now() - s);
        else failures++;
      });
      return summarize(latencies, performance.now() - t0);
    }

    async function runFloorRound(tenantId: string, count: number, c: number): Promise<RoundFigures> {
      const TableName = info.tableName;
      const items = Array.from({ length: count }, (_, i) => i);
      const latencies: number[] = [];
      const agentKey = toAttributes(keys.agent(agentId));
      const userKey = toAttributes(keys.user(tenantId, 'bench'));
      const t0 = performance.now();
      await runLimited(items, c, async (i) => {
        const s = performance.now();
        const window = windowOf(Date.now());
        const throttleKeys = [pairKey(tenantId, 'bench', '127.0.0.1'), agentWindowKey(agentId, window), agentWindowKey(agentId, window - 1)];
        await sdk.send(new BatchGetItemCommand({ RequestItems: { [TableName]: { Keys: [agentKey, userKey, ...throttleKeys.map((k) => toAttributes(keys.authThrottle(k)))], ConsistentRead: true } } }));
        await sdk.send(new GetItemCommand({ TableName, Key: agentKey }));
        const now = Date.now();
        const agentSessionRef = randomUUID();
        const sessionId = sessionIdFor(agentId, agentSessionRef);
        const ip = `10.0.${(i >> 8) & 0xff}.${i & 0xff}`;
        const session: Session = {
          sessionId, tenantId, username: 'bench', agentId, agentSessionRef, tunnelId: 1, l2tpSessionId: 1, peerAddress: '127.0.0.1',
          authMethod: 'mschapv2', poolId: 'main', assignedIp: ip, startedAt: now, updatedAt: now, state: 'active', bytesIn: 0, bytesOut: 0, packetsIn: 0, packetsOut: 0,
        };
        await sdk.send(new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName, Item: sessionItem(session), ConditionExpression: 'attribute_not_exists(PK)' } },
            { Put: { TableName, Item: toItem(keys.lease(tenantId, 'main', ip), 'lease', { tenantId, poolId: 'main', ip, sessionId, leasedAt: now }), ConditionExpression: 'attribute_not_exists(PK) OR releaseAfter < :now', ExpressionAttributeValues: toAttributes({ ':now': now }) } },
          ],
        }));
        latencies.push(performance.now() - s);
      });
      return summarize(latencies, performance.now() - t0);
    }
  }
  sdk.destroy();
  return out;
}

export interface AuthFailureFigures {
  readonly attempts: number;
  /** A wrong password for a user that exists. */
  readonly known: { readonly p50Ms: number; readonly p99Ms: number };
  /** Any password for a name that does not exist. */
  readonly unknown: { readonly p50Ms: number; readonly p99Ms: number };
  /** The right password (the baseline of the same run). */
  readonly success: { readonly p50Ms: number; readonly p99Ms: number };
}

/**
 * Issue 14 #4: a wrong password for an existing user and any answer for a missing one should cost
 * the broker the same store work, so their latencies should not tell which names exist (they used
 * to be ~19 ms and ~9 ms). One at a time, interleaved, each from a fresh source address so no
 * (user, source) wait is reached; a successful login is measured alongside as the baseline.
 */
export async function benchAuthFailures(broker: ChildRpc, options: { attempts: number }, log: (line: string) => void): Promise<AuthFailureFigures> {
  const info = await broker.call<{ url: string }>('info');
  const { token } = await broker.call<{ agentId: string; token: string }>('enrol', { name: 'bench-auth' });
  const tenantId = `af${Date.now().toString(36)}`;
  await broker.call('seed', { tenantId, cidr: '10.250.0.0/16', users: ['bench'] });
  const crypto = await createPppClientCrypto(fixturePassword('bench'));
  const http = jsonClient(info.url, token, 1);
  const times: Record<'known' | 'unknown' | 'success', number[]> = { known: [], unknown: [], success: [] };
  let source = 0;
  const attempt = async (kind: keyof typeof times, record: boolean) => {
    const username = kind === 'unknown' ? `nobody${source}@${tenantId}` : `bench@${tenantId}`;
    const authenticatorChallenge = randomBytes(16);
    const peerChallenge = randomBytes(16);
    // The right response for `bench`; a flipped byte makes it wrong for the "known" case.
    const ntResponse = Buffer.from(crypto.msChapV2(authenticatorChallenge, peerChallenge, username).ntResponse);
    if (kind === 'known') ntResponse[0] = (ntResponse[0] ?? 0) ^ 0xff;
    const peerAddress = `10.${(source >> 16) & 0xff}.${(source >> 8) & 0xff}.${source & 0xff}`;
    source++;
    const body = { method: 'mschapv2', username, agentSessionRef: randomUUID(), peerAddress, authenticatorChallenge: hex(authenticatorChallenge), peerChallenge: hex(peerChallenge), ntResponse: hex(ntResponse) };
    const s = performance.now();
    const res = await http.post<{ ok: boolean; reason?: string }>('/v1/agent/authenticate', body);
    const ms = performance.now() - s;
    const expected = kind === 'success' ? true : false;
    if (res.body?.ok !== expected) throw new Error(`auth failures bench: ${kind} answered ${JSON.stringify(res.body)}`);
    if (record) times[kind].push(ms);
  };
  for (let i = 0; i < 20; i++) for (const kind of ['known', 'unknown', 'success'] as const) await attempt(kind, false); // warm-up
  for (let i = 0; i < options.attempts; i++) {
    // Rotate the order so a drift of the shared machine hits all three alike.
    const order = (['known', 'unknown', 'success'] as const).map((_, j, all) => all[(i + j) % 3]!);
    for (const kind of order) await attempt(kind, true);
  }
  http.close();
  const fig = (xs: number[]) => ({ p50Ms: percentile(xs, 50), p99Ms: percentile(xs, 99) });
  const out = { attempts: options.attempts, known: fig(times.known), unknown: fig(times.unknown), success: fig(times.success) };
  log(
    `auth failures (c=1, ${options.attempts} each): wrong password of a known user p50 ${out.known.p50Ms.toFixed(1)} ms p99 ${out.known.p99Ms.toFixed(1)} ms; ` +
      `unknown user p50 ${out.unknown.p50Ms.toFixed(1)} ms p99 ${out.unknown.p99Ms.toFixed(1)} ms; success (baseline) p50 ${out.success.p50Ms.toFixed(1)} ms`,
  );
  return out;
}
