/**
 * A ServiceContext on the in-memory store, for unit tests of domain services: a clock the test
 * moves, grants signed with a test key, a spy that counts the store calls a service makes.
 */
import { createAuthGrants, type AuthGrants } from '../../../functions/src/domain/auth-grant';
import { LeaseHints } from '../../../functions/src/domain/ip-allocation';
import type { DomainSettings } from '../../../functions/src/domain/service-context';
import type { Store } from '../../../functions/src/domain/store';
import type { AuthMethod, Clock } from '../../../functions/src/domain/types';
import { createInMemoryStore } from '../../../functions/src/store/memory';

const SETTINGS: DomainSettings = {
  authThrottle: { sourceThreshold: 5, baseDelayMs: 30_000, maxDelayMs: 900_000, agentPressurePerMinute: 60 },
  lockout: { threshold: 10, durationMs: 900_000, sources: 0 },
  authEventTtlMs: 86_400_000,
  heartbeatIntervalSeconds: 30,
  idempotencyTtlMs: 3_600_000,
};

export interface DomainContext {
  readonly store: Store;
  readonly clock: Clock & { advance(ms: number): void };
  readonly grants: AuthGrants;
  readonly leaseHints: LeaseHints;
  readonly config: DomainSettings;
  /** Store calls by method since the last `calls.clear()`. */
  readonly calls: Map<string, number>;
  /** A grant as authentication issues it for this agent, user, method and session. */
  grant(agentId: string, tenantId: string, username: string, agentSessionRef: string, method?: AuthMethod, staticIp?: string): string;
}

export function domainContext(options: { readonly now?: number; readonly store?: Store } = {}): DomainContext {
  let now = options.now ?? 1_700_000_000_000;
  const clock = { now: () => now, advance: (ms: number) => void (now += ms) };
  const calls = new Map<string, number>();
  const inner = options.store ?? createInMemoryStore({ clock });
  const store = new Proxy(inner, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.set(String(property), (calls.get(String(property)) ?? 0) + 1);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  const grants = createAuthGrants([{ keyId: 'k1', keyBase64: Buffer.alloc(32, 7).toString('base64') }]);
  return {
    store,
    clock,
    grants,
    leaseHints: new LeaseHints(clock.now),
    config: SETTINGS,
    calls,
    grant: (agentId, tenantId, username, agentSessionRef, method = 'mschapv2', staticIp) =>
      grants.issue({ agentId, tenantId, username, method, agentSessionRef, ...(staticIp !== undefined ? { staticIp } : {}) }, now),
  };
}
