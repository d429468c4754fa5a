/**
 * The broker's domain records. These are plain data: the store persists them, the HTTP layer
 * validates and renders them, the domain services decide what they mean. Times are epoch
 * milliseconds (numbers) so that they sort and compare without parsing.
 */

import type { AgentCounters, AuthMethod, EndReason, SessionIpsecSa, SessionState } from '../../../contract/src/values';

// The values the agent shares (auth methods, end reasons, session states, counters) are the
// contract's; the records below hold them, so they are handed on with the records.
export {
  AUTH_METHODS,
  END_REASONS,
  SESSION_STATES,
  type AgentCounters,
  type AuthMethod,
  type EndReason,
  type SessionIpsecSa,
  type SessionState,
} from '../../../contract/src/values';

export interface Tenant {
  readonly tenantId: string;
  readonly name: string;
  /** Allowed PPP auth methods in preference order; the agent offers the first one in LCP. */
  readonly authMethods: readonly AuthMethod[];
  /** Quota: concurrent sessions for the whole tenant (undefined = unlimited). */
  readonly maxSessions?: number;
  /** Quota: concurrent sessions per user (e.g. 1). */
  readonly maxSessionsPerUser?: number;
  /** What users' passwords must be (password-policy.ts); absent = the default. */
  readonly passwordPolicy?: PasswordPolicy;
  /** Where users are checked (radius-auth/auth-source.ts); absent = local. */
  readonly authSource?: TenantAuthSource;
  readonly createdAt: number;
  /** Last change by an operator (PATCH). */
  readonly updatedAt?: number;
  /**
   * RADIUS accounting (RFC 2866) of this tenant's sessions, absent = off
   * (domain/radius-accounting/). Never rendered: it holds the sealed shared secrets.
   */
  readonly accounting?: TenantAccounting;
}

/** Where and how often a tenant's sessions are accounted (docs/radius-accounting.md). */
export interface TenantAccounting {
  /** Tried in order: the next one only when the one before did not answer (failover). */
  readonly servers: readonly AccountingServer[];
  /** Seconds between Interim-Update records of a session (RFC 2869 §5.16's Acct-Interim-Interval). */
  readonly interimIntervalSeconds: number;
  readonly updatedAt: number;
}

export interface AccountingServer {
  /** IPv4 address or host name of the accounting server. */
  readonly host: string;
  readonly port: number;
  /** The RADIUS shared secret, sealed (secret box, context naming the tenant). */
  readonly secret: EncryptedBlob;
}

/** How a RADIUS tenant's User-Name is sent: as the peer sent it (with realm), or the user part only. */
export const RADIUS_USER_NAME_FORMS = ['as-sent', 'without-realm'] as const;
export type RadiusUserNameForm = (typeof RADIUS_USER_NAME_FORMS)[number];

/** One RADIUS server of a tenant (radius-auth/auth-source.ts). */
export interface RadiusServerSetting {
  readonly host: string;
  readonly port: number;
  /** The shared secret, sealed (context `radius-secret:<tenantId>`). */
  readonly secret: EncryptedBlob;
  /** Wait for an answer to each transmission. */
  readonly timeoutMs: number;
  /** Retransmissions after the first. */
  readonly retries: number;
}

/** A tenant's authentication source: the broker's users, or RADIUS servers in failover order. */
export type TenantAuthSource =
  | { readonly kind: 'local' }
  | { readonly kind: 'radius'; readonly servers: readonly RadiusServerSetting[]; readonly userName: RadiusUserNameForm };

/** A tenant's password rules (domain/password-policy.ts). */
export interface PasswordPolicy {
  /** Characters (code points) at least. */
  readonly minLength: number;
  /** Refuse a password that is, or contains, the user name. */
  readonly rejectUsername: boolean;
}

/**
 * What the broker keeps to verify a user. Never the clear-text password (docs/credentials.md):
 * - `ntHashSealed`: MD4(UTF-16LE(password)), needed by MS-CHAPv2 (RFC 2759) and enough to verify
 *   PAP, sealed with the secret box (AES-256-GCM, additional data naming tenant and user). It is
 *   password-equivalent for MS-CHAPv2, which is why it is never stored in clear.
 * - `ntHash`: the same hash in clear hex, as items written before sealing have it. Such a user
 *   still logs in, and the first successful login re-seals it (`ntHashSealed`, `ntHash` removed).
 * - `chapSecret`: CHAP-MD5 (RFC 1994) needs the secret itself, so the password is sealed, padded
 *   to one length for every password. Present only when CHAP-MD5 is enabled for the user.
 */
export interface UserCredentials {
  readonly ntHashSealed?: EncryptedBlob;
  /** Legacy only (hex, 32 chars): never written any more. */
  readonly ntHash?: string;
  readonly chapSecret?: EncryptedBlob;
}

export interface EncryptedBlob {
  readonly keyId: string;
  readonly iv: string; // base64
  readonly ciphertext: string; // base64
  readonly tag: string; // base64
  /**
   * 2: the plaintext is framed (2-byte length, then zero padding, secret-box.ts). Absent on blobs
   * sealed before framing existed; those open as they are.
   */
  readonly v?: 2;
}

export interface User {
  readonly tenantId: string;
  readonly username: string; // without realm
  readonly credentials: UserCredentials;
  /** Optional fixed address, must lie in one of the tenant's pools. */
  readonly staticIp?: string;
  readonly disabled?: boolean;
  readonly createdAt: number;
  /** Failed authentications since the last success (any source). */
  readonly failedAttempts: number;
  /** Source addresses of those failures (at most AUTH_SOURCES_KEPT), for the account lock. */
  readonly failureSources?: readonly string[];
  /** Account-wide lock (only where the operator enabled it: AUTH_LOCKOUT_SOURCES). */
  readonly lockedUntil?: number;
  /** Account locks since the last success: each one lasts twice as long as the one before. */
  readonly lockCount?: number;
  readonly lastFailureAt?: number;
  readonly lastFailureReason?: string;
  /** Last change by an operator (PATCH). */
  readonly updatedAt?: number;
}

/** One failed (or lockout) authentication event, kept for operators with a TTL. */
export interface AuthEvent {
  /** The client's address as the relaying agent saw it. */
  readonly source?: string;
  readonly tenantId: string;
  readonly username: string;
  readonly at: number;
  /** `outage`: a RADIUS server did not answer (or answered falsely); shown, never counted. */
  readonly kind: 'failure' | 'locked' | 'outage';
  readonly method: AuthMethod;
  readonly reason: string;
  readonly agentId?: string;
  readonly expiresAt: number;
}

/** Failures counted against one throttle key (domain/auth-throttle.ts), kept with a TTL. */
export interface AuthThrottle {
  readonly key: string;
  readonly failures: number;
  readonly lastFailureAt: number;
  readonly expiresAt: number;
}

export interface AddressRange {
  readonly first: string; // dotted IPv4
  readonly last: string;
}

export interface Pool {
  readonly tenantId: string;
  readonly poolId: string;
  readonly cidr: string; // e.g. 10.8.0.0/24
  /** Addresses never handed out (network, broadcast and the gateway are always excluded). */
  readonly exclude: readonly AddressRange[];
  readonly dns: readonly string[];
  /** The address the agent uses as its own end of every PPP link in this pool. */
  readonly gateway: string;
  /** A fleet operator allowed public address space for this pool (contract/src/address-policy.ts). */
  readonly allowPublic?: boolean;
  readonly createdAt: number;
}

/** A pool's block as the fleet-wide registry lists it: pools never overlap anywhere on the fleet. */
export interface PoolClaim {
  readonly tenantId: string;
  readonly poolId: string;
  readonly cidr: string;
}

/**
 * Every pool of the fleet, in one item: creating a pool replaces it only if its revision is still
 * the one read, so two overlapping pools created at the same time cannot both pass the check.
 */
export interface PoolRegistry {
  /** 0 = no registry item yet (pools created before it existed are listed from the tenants). */
  readonly revision: number;
  readonly pools: readonly PoolClaim[];
}

/** One leased address: the lease rule (ip-allocation/lease-rule.ts) says when it holds its address. */
export interface Lease {
  readonly tenantId: string;
  readonly poolId: string;
  readonly ip: string;
  readonly sessionId: string;
  readonly leasedAt: number;
  /** Set when the holder ended without its agent (lost, revoked): the address is free after this time. */
  readonly releaseAfter?: number;
}

export const AGENT_STATES = ['active', 'draining', 'dead'] as const;
export type AgentState = (typeof AGENT_STATES)[number];

export interface Agent {
  readonly agentId: string;
  readonly name: string;
  readonly region: string;
  /** SHA-256 (hex) of the agent's bearer credential; the credential itself is shown once at enrolment. */
  readonly tokenHash: string;
  readonly state: AgentState;
  readonly revoked: boolean;
  /**
   * Where clients reach it. Set at enrolment, else by the first registration; the agent cannot
   * change it afterwards (a stolen credential must not redirect a tenant's clients).
   */
  readonly publicAddress?: string;
  /** Sessions it may hold: the lower of what it reports and `enrolledCapacity`. */
  readonly capacity: number;
  /** The operator's cap from enrolment; the agent's registration can lower capacity, never raise it. */
  readonly enrolledCapacity?: number;
  /** IPv4 networks of the agent's host (CIDR), reported at registration: no pool may overlap them. */
  readonly networks?: readonly string[];
  /**
   * UDP port of the agent's command-nudge listener, reported at registration (0 or absent = none):
   * the broker nudges it there, at `publicAddress`, right after queueing a command (domain/command-nudge.ts).
   */
  readonly nudgePort?: number;
  readonly activeSessions: number;
  readonly lastHeartbeatAt?: number;
  readonly registeredAt?: number;
  readonly drainDeadline?: number;
  readonly counters: AgentCounters;
  readonly version?: string;
  readonly createdAt: number;
}

/** A command queued for an agent, delivered in heartbeat replies until acknowledged. */
export type AgentCommand =
  | { readonly commandId: string; readonly type: 'disconnect-session'; readonly sessionId: string; readonly createdAt: number }
  | { readonly commandId: string; readonly type: 'drain'; readonly deadline: number; readonly createdAt: number }
  | { readonly commandId: string; readonly type: 'reload-settings'; readonly createdAt: number };

export interface Session {
  readonly sessionId: string;
  readonly tenantId: string;
  readonly username: string;
  readonly agentId: string;
  /** The agent's own identifier for this L2TP session (idempotency key for start). */
  readonly agentSessionRef: string;
  readonly tunnelId: number;
  readonly l2tpSessionId: number;
  readonly peerAddress?: string;
  readonly ipsecSa?: SessionIpsecSa;
  readonly authMethod: AuthMethod;
  /** RADIUS Class attributes (base64) from the Access-Accept, for this session's accounting (RFC 2865 §5.25). */
  readonly radiusClass?: readonly string[];
  readonly poolId: string;
  readonly assignedIp: string;
  readonly startedAt: number;
  readonly updatedAt: number;
  readonly stoppedAt?: number;
  readonly state: SessionState;
  readonly endReason?: EndReason;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly packetsIn: number;
  readonly packetsOut: number;
  /**
   * Set by an operator's DELETE; the agent is nudged to fetch the command at once (its heartbeat is
   * the fallback). The agent's stop report with reason `admin-disconnect` confirms it (`stoppedAt`).
   */
  readonly disconnectRequestedAt?: number;
  /**
   * Why the broker asked for the disconnect, when it was not a plain DELETE of the session (the
   * user was deleted or disabled, the tenant deleted): the agent reports `admin-disconnect`, and
   * the session records this reason instead.
   */
  readonly disconnectReason?: EndReason;
  /**
   * Set at the start when the tenant had RADIUS accounting on: the store then writes this
   * session's Start, Interim-Update and Stop records to the accounting outbox in the same
   * transaction as the change (domain/radius-accounting/outbox-rules.ts).
   */
  readonly accounting?: SessionAccounting;
}

export interface SessionAccounting {
  readonly interimIntervalSeconds: number;
  /** When the last Interim-Update record was written (epoch ms); absent = none yet. */
  readonly lastInterimAt?: number;
}

/** The accounting requests of a session, as RFC 2866 §5.1's Acct-Status-Type names them. */
export const ACCOUNTING_STATUSES = ['start', 'interim', 'stop'] as const;
export type AccountingStatus = (typeof ACCOUNTING_STATUSES)[number];

/**
 * One accounting request waiting in the outbox until an accounting server acknowledged it
 * (an Accounting-Response). Written with the session change it reports, deleted only after the
 * acknowledgement (domain/radius-accounting/).
 */
export interface AccountingRecord {
  /** `<sessionId>#<eventAt, padded>#<1 start | 2 interim | 3 stop>`: one per event, in event order. */
  readonly recordId: string;
  readonly tenantId: string;
  readonly sessionId: string;
  readonly status: AccountingStatus;
  /** When the event happened: Acct-Delay-Time is the time since (RFC 2866 §5.2). */
  readonly eventAt: number;
  readonly startedAt: number;
  readonly username: string;
  readonly agentId: string;
  readonly assignedIp: string;
  readonly peerAddress?: string;
  readonly authMethod: AuthMethod;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly packetsIn: number;
  readonly packetsOut: number;
  /** Stop records only. */
  readonly endReason?: EndReason;
  /** The session's Class attributes (base64), echoed in order (RFC 2865 §5.25). */
  readonly radiusClass?: readonly string[];
  readonly interimIntervalSeconds: number;
  /** Send attempts that got no valid Accounting-Response. */
  readonly attempts: number;
  /** Not sent again before this time (epoch ms). */
  readonly nextAttemptAt: number;
  /** A sender holds it until this time (so two senders never send it at once). */
  readonly claimedUntil?: number;
  /** Why the last attempt failed (no secret, no address: safe to show operators). */
  readonly lastError?: string;
}

/**
 * One operator action, as the audit log keeps it: who (`admin` or `apikey:<keyId>`), what (the
 * route), when, on what (the concrete path and the tenant), and the names of the fields it sent.
 * Never a value a request carried: no password, PSK or token can reach it (audit.ts).
 */
export interface AuditEvent {
  readonly eventId: string;
  readonly at: number;
  readonly actor: string;
  /** e.g. `PATCH /v1/tenants/{tenantId}/users/{username}`. */
  readonly action: string;
  /** The concrete path, e.g. `/v1/tenants/acme/users/alice`. */
  readonly target: string;
  /** The tenant the action concerned; absent for fleet-wide actions (agents, fleet keys, IPsec). */
  readonly tenantId?: string;
  /** Ids the action created (e.g. `{ keyId }`), from its answer. */
  readonly created?: Readonly<Record<string, string>>;
  /** Names (never values) of the body fields and query parameters sent. */
  readonly fields: readonly string[];
  readonly status: number;
  readonly requestId?: string;
}

export const API_KEY_SCOPES = ['fleet', 'tenant'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

export interface ApiKey {
  readonly keyId: string;
  readonly scope: ApiKeyScope;
  readonly tenantId?: string; // set iff scope === 'tenant'
  readonly name: string;
  readonly secretHash: string; // SHA-256 hex of the secret part
  readonly revoked: boolean;
  readonly createdAt: number;
  /** Refused from this time on (epoch ms); absent = no expiry. (Not `expiresAt`: that is the table's TTL.) */
  readonly validUntil?: number;
}

export interface IpsecSettings {
  readonly psk: EncryptedBlob;
  /** Accept legacy proposals (3DES-SHA1, MODP1024) that Windows and older Android need. */
  readonly allowLegacyProposals: boolean;
  readonly updatedAt: number;
  /** Increments on every change so agents can tell they must reload. */
  readonly revision: number;
}

/**
 * One data-encryption key (AES-256-GCM) as the broker holds it in memory: the first of the ring
 * encrypts, all decrypt (secret box, grants, page cursors). The config module parses them.
 */
export interface DataKey {
  readonly keyId: string;
  /** base64 of 32 bytes. */
  readonly keyBase64: string;
}

/**
 * A data key as the table keeps it in AWS: only wrapped, the KMS ciphertext of 32 random bytes made
 * by GenerateDataKey under the stack's customer-managed key (entry/kms-data-keys.ts).
 */
export interface WrappedDataKey {
  readonly keyId: string;
  /** The KMS key that wrapped it. */
  readonly kmsKeyId: string;
  /** base64 of the KMS CiphertextBlob. */
  readonly ciphertext: string;
  readonly createdAt: number;
}

export interface IdempotencyRecord {
  readonly scope: string; // e.g. "agent:<id>" or "apikey:<id>"
  readonly key: string;
  readonly requestHash: string;
  readonly status: number;
  readonly responseBody: string;
  readonly createdAt: number;
  readonly expiresAt: number;
}

/** A page of results and the opaque cursor for the next page (absent on the last page). */
export interface Page<T> {
  readonly items: readonly T[];
  readonly cursor?: string;
}

export interface PageRequest {
  readonly limit: number;
  readonly cursor?: string;
}

/** Source of time, injected so tests can move it. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
