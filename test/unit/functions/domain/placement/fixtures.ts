/** Agent records and fast-check arbitraries for placement and scaling tests. */
import fc from 'fast-check';
import type { Agent, AgentState } from '../../../../../functions/src/domain/types';

export const NOW = 1_700_000_000_000;
export const FRESH_MS = 90_000;

export function agent(overrides: Partial<Agent> & { agentId: string }): Agent {
  return {
    name: overrides.agentId,
    region: 'eu',
    tokenHash: 'x',
    state: 'active',
    revoked: false,
    publicAddress: '198.51.100.1',
    capacity: 100,
    activeSessions: 0,
    lastHeartbeatAt: NOW - 1_000,
    counters: { bytesIn: 0, bytesOut: 0, packetsIn: 0, packetsOut: 0 },
    createdAt: NOW - 86_400_000,
    ...overrides,
  };
}

/** Any mix of healthy, draining, dead, revoked, stale, unregistered, full, other-region agents. */
export const agentArb = (id: number) =>
  fc
    .record({
      state: fc.constantFrom<AgentState>('active', 'active', 'active', 'draining', 'dead'),
      revoked: fc.integer({ min: 0, max: 9 }).map((n) => n < 2),
      region: fc.constantFrom('eu', 'eu', 'us'),
      capacity: fc.integer({ min: 0, max: 200 }),
      load: fc.integer({ min: 0, max: 250 }),
      heartbeatAge: fc.oneof(fc.integer({ min: 0, max: FRESH_MS }), fc.integer({ min: FRESH_MS + 1, max: 10 * FRESH_MS })),
      registered: fc.integer({ min: 0, max: 9 }).map((n) => n > 0),
    })
    .map((r) =>
      agent({
        agentId: `a${id}`,
        state: r.state,
        revoked: r.revoked,
        region: r.region,
        capacity: r.capacity,
        activeSessions: r.load,
        lastHeartbeatAt: NOW - r.heartbeatAge,
        ...(r.registered ? {} : { publicAddress: undefined }),
      }),
    );

export const fleetArb = fc.integer({ min: 0, max: 12 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => agentArb(i))));

/** Deterministic [0,1) source for reproducible weighted draws. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4_294_967_296;
  };
}
