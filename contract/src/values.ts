/**
 * The values the agent and the broker both speak in: they cross the wire in the agent protocol
 * (agent-protocol/schemas.ts) and the broker keeps them in its records (functions/src/domain/types.ts).
 */

/** PPP authentication methods a tenant can allow, strongest first. */
export const AUTH_METHODS = ['mschapv2', 'chap-md5', 'pap'] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];

/** Why a session ended. Shared by the agent (which reports) and the broker (which records). */
export const END_REASONS = [
  'user-request',
  'idle-timeout',
  'lcp-timeout',
  'admin-disconnect',
  'auth-failure',
  'pool-exhausted',
  'agent-shutdown',
  'agent-lost',
  'agent-revoked',
  'tunnel-closed',
  'quota-exceeded',
  'error',
  // The broker ends these through the agent (issue 18): recorded in place of `admin-disconnect`.
  'user-deleted',
  'user-disabled',
  'tenant-deleted',
  // RADIUS Session-Timeout (RFC 2865 §5.27) reached: the agent ends the session.
  'session-timeout',
] as const;
export type EndReason = (typeof END_REASONS)[number];

/**
 * The IPsec SA that carried a session's L2TP when it started, as the agent's charon knows it
 * (docs/ipsec.md, "Several clients behind one NAT"): the agent reports it at the start, the broker
 * keeps it with the session. A client that sets up a new SA later is served through that one.
 */
export interface SessionIpsecSa {
  /** IKE_SA unique id (`swanctl --list-sas` shows it as `#<id>`). */
  readonly ikeSaId: string;
  /** CHILD_SA unique id. */
  readonly childSaId: string;
  /** The CHILD_SA's packet mark, which told this client apart from others behind its NAT. */
  readonly mark?: number;
  /** The client's IKE address and port as the server sees them (its NAT's, behind one). */
  readonly ikePeer: string;
}

/** A session as the broker records it: active until stopped. */
export const SESSION_STATES = ['active', 'stopped'] as const;
export type SessionState = (typeof SESSION_STATES)[number];

/** Why the broker refused an authentication the agent relayed (`ok: false` verdicts). */
export const AUTH_FAILURE_REASONS = [
  'malformed-username',
  'unknown-tenant',
  'unknown-user',
  'method-not-allowed',
  'user-disabled',
  'locked',
  'throttled',
  'bad-credentials',
  'malformed-request',
  'chap-secret-unavailable',
  // A RADIUS tenant (docs/radius.md): no server answered (an outage, never counted towards a lock).
  'radius-unavailable',
  // Servers answered, but no answer passed the checks (Message-Authenticator, authenticators): not counted.
  'radius-refused',
  // An Access-Accept the broker cannot use (e.g. MS-CHAPv2 without MS-CHAP2-Success): not counted.
  'radius-bad-answer',
  // Access-Accept with a Framed-IP-Address outside every pool of the tenant.
  'framed-address-outside-pool',
] as const;
export type AuthFailureReason = (typeof AUTH_FAILURE_REASONS)[number];

/** Cumulative data counters of a session or an agent: they only grow. */
export interface AgentCounters {
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly packetsIn: number;
  readonly packetsOut: number;
}

/**
 * Tenant ids, also as realms of PPP names (`user@tenant`): lower-case letters, digits, `.`, `_`,
 * `-`; 1..64 characters, starting alphanumeric.
 */
export const TENANT_ID_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;
