/**
 * The broker's error codes, each with the hint every error answer carries (`error.hint`): what the
 * caller can do about it. One owner: BrokerError takes only these codes (errors.ts), the error
 * handler adds the hint, and docs/api.md lists every one of them (test/unit/functions/http/error-codes.test.ts
 * holds the two together).
 */
export const ERROR_HINTS = {
  // 400
  'validation-failed': 'fix the field named in error.field; every route\'s schema is at /openapi.json',
  'bad-request': 'the request could not be read; send a well-formed JSON body',
  'pool-address-not-allowed': 'use private (RFC 1918) or shared (RFC 6598) space; public space needs allowPublic from a fleet operator',
  'password-too-weak': 'choose a longer password that does not contain the user name (the tenant\'s passwordPolicy)',
  // 401
  unauthorized: 'send Authorization: Bearer <token>: the admin token or an API key (tbk_...) on operator routes, an agent credential (tba_...) on /v1/agent',
  'api-key-revoked': 'this API key was revoked; ask a fleet operator for a new one',
  'api-key-expired': 'this API key is past its expiresAt; ask a fleet operator for a new one',
  'agent-revoked': 'this agent credential was revoked; enrol the agent again (POST /v1/agents)',
  // 403
  forbidden: 'this route needs another credential: fleet-scoped for fleet routes, an agent credential on /v1/agent',
  'public-pool-forbidden': 'tenant keys may use private and shared space only; ask a fleet operator for a public pool',
  'grant-invalid': 'authenticate the user on this agent for this session (POST /v1/agent/authenticate), then start with its grant',
  'method-not-allowed': 'the tenant does not allow this PPP authentication method (its authMethods)',
  // 404
  'not-found': 'check the id; another tenant\'s resources are not found either',
  'route-not-found': 'check the path against /openapi.json (or /docs)',
  // 405
  'http-method-not-allowed': 'use one of the methods the Allow header lists',
  // 409
  'already-exists': 'an item with this id exists; read it, or pick another id',
  'tenant-exists': 'pick another tenantId, or read the tenant that exists',
  'user-exists': 'pick another username (names are compared in canonical form), or change the existing user',
  'pool-exists': 'pick another poolId, or update the pool that exists (PATCH)',
  'pool-overlap': 'pick a block that overlaps no pool of the fleet',
  'pool-overlaps-agent-network': 'pick a block outside the networks the agents reported for their hosts',
  'pool-not-allowed': 'give the tenant a pool this agent may serve (outside reserved space and the agent\'s networks)',
  'pool-in-use': 'end the sessions that hold addresses of this pool first (DELETE /v1/sessions/{id}), then retry',
  'pool-range-has-leases': 'end the sessions holding the listed addresses first, or keep them inside the new range',
  'tenant-not-empty': 'delete the tenant\'s pools and end its sessions first, or repeat with ?cascade=true',
  'quota-exceeded': 'end a session, or raise the tenant\'s maxSessions / maxSessionsPerUser',
  'agent-dead': 'this agent takes no sessions; use another (GET /v1/tenants/{id}/endpoint)',
  'agent-draining': 'this agent is draining; connect through another (GET /v1/tenants/{id}/endpoint)',
  'agent-full': 'this agent is at capacity; connect through another (GET /v1/tenants/{id}/endpoint)',
  'session-stopped': 'the session has ended; nothing to do, or start a new one',
  'static-address-unavailable': 'free the user\'s static address or change it (PATCH the user)',
  'idempotency-key-reused': 'use a new Idempotency-Key for a different request',
  'credential-not-replayed': 'the first request created the credential named in the message; revoke it and create another with a new key',
  // 413, 415
  'payload-too-large': 'send a smaller body (MAX_BODY_BYTES)',
  'unsupported-media-type': 'send the body as JSON with Content-Type: application/json',
  // 423
  locked: 'wait until the lock ends, or have an operator unlock the user (POST .../unlock)',
  // 503, 504, 500
  'pool-exhausted': 'every address of the tenant\'s pools is leased; add a pool or widen one',
  'no-healthy-agent': 'no healthy agent serves this region; retry later or start one',
  'all-agents-full': 'every healthy agent is at capacity; retry later or add capacity',
  'service-unavailable': 'the store is unavailable; retry with backoff',
  timeout: 'the broker did not answer in time; retry (writes are idempotent with an Idempotency-Key)',
  internal: 'an unexpected fault, logged with this request\'s X-Request-Id; retry, or report that id',
} as const;

export type ErrorCode = keyof typeof ERROR_HINTS;

export const ERROR_CODES = Object.keys(ERROR_HINTS) as ErrorCode[];

/** The hint for a code (every code has one). */
export function hintFor(code: ErrorCode): string {
  return ERROR_HINTS[code];
}

/** The body of every error answer. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; field?: string; hint: string };
}

/** `{ error: { code, message, field?, hint } }`. */
export function errorBody(code: ErrorCode, message: string, field?: string): ErrorBody {
  return { error: { code, message, ...(field !== undefined ? { field } : {}), hint: hintFor(code) } };
}
