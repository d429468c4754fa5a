import type { Store } from './store';
import type { ThrottlePolicy } from './auth-throttle';
import type { AuthGrants } from './auth-grant';
import type { PageCursors } from './page-cursors';
import type { SecretBox } from './ppp-auth';
import type { RandomBytes } from './bearer-tokens';
import type { LeaseHints } from './ip-allocation/lease-hints';
import type { Clock } from './types';
import type { NasIdentity, RadiusExchange } from './radius-auth/types';

/**
 * The settings domain services read. The broker's config module (functions/src/config) parses
 * them from the environment; the domain never sees the environment or the rest of the config.
 */
export interface DomainSettings {
  /** Waits per (user, source address) pair and per agent (auth-throttle.ts). */
  readonly authThrottle: ThrottlePolicy;
  /**
   * The account-wide lock, off unless `sources` >= 2: a user is locked once `threshold` failures
   * since the last success came from at least `sources` different addresses; each lock lasts
   * twice as long as the one before (from `durationMs`, at most 24 h).
   */
  readonly lockout: {
    readonly threshold: number;
    readonly durationMs: number;
    /** Distinct source addresses needed; 0 = no account lock. */
    readonly sources: number;
  };
  /** How long auth events are kept (DynamoDB TTL). */
  readonly authEventTtlMs: number;
  readonly heartbeatIntervalSeconds: number;
  readonly idempotencyTtlMs: number;
  /** Domain under which per-tenant names `<tenantId>.vpn.<domain>` are published (Route 53 in AWS). */
  readonly vpnDnsDomain?: string;
  /** NAS-Identifier / NAS-IP-Address in Access-Requests (radius-auth/access-request.ts); identifier `tunnel-broker` by default. */
  readonly radiusNas?: NasIdentity;
}

/** What every broker domain service needs; built once per app (container). */
/** Sends one datagram; resolves once sent or given up, never rejects (an I/O adapter: io/udp-nudge-sender.ts). */
export interface NudgeSender {
  send(datagram: Uint8Array, port: number, address: string): Promise<void>;
}

/** The nudge key of an agent under the current data key (cached per process). */
export type NudgeKeys = (agentId: string) => Uint8Array;

export interface ServiceContext {
  readonly store: Store;
  readonly clock: Clock;
  readonly random: RandomBytes;
  readonly secretBox: SecretBox;
  /** Signs and checks the grants authentication hands to the session start. */
  readonly grants: AuthGrants;
  /** Signs the page cursors listings hand out, and checks the ones they are given. */
  readonly cursors: PageCursors;
  readonly config: DomainSettings;
  /** Addresses this process saw leased, so its random address probes skip them (a hint only). */
  readonly leaseHints?: LeaseHints;
  /** Derives each agent's command-nudge key (absent: no nudges, commands wait for the heartbeat). */
  readonly nudgeKeys?: NudgeKeys;
  /** Talks to tenants' RADIUS servers (absent: a RADIUS tenant's logins end as radius-unavailable). */
  readonly radius?: RadiusExchange;
  /** Sends command nudges to agents (absent: no nudges). */
  readonly nudgeSender?: NudgeSender;
  /**
   * Asks the accounting sender to drain the outbox soon, without waiting for it (the local stack;
   * absent in Lambda, where the schedule drains it): a session change that wrote an accounting
   * record is never slowed by its delivery.
   */
  readonly accountingKick?: () => void;
}
