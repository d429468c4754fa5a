/**
 * Request and response schemas of the broker API. Routes validate with them and /openapi.json is
 * generated from them, so the document cannot drift from the code. The agent protocol's schemas
 * are the contract's (contract/src/agent-protocol): this module names them as components of the
 * document and adds the operator API's own.
 */
import { z } from '@hono/zod-openapi';
import { IsoTime, TenantIdSchema, UsernameSchema } from '../../../contract/src/agent-protocol/fields';
import { agentProtocolSchemas } from '../../../contract/src/agent-protocol/schemas';
import { DEFAULT_DRAIN_SECONDS, MAX_DRAIN_SECONDS } from '../domain/agents-service';
import { DEFAULT_PASSWORD_POLICY, MIN_LENGTH_BOUNDS } from '../domain/password-policy';
import { AGENT_STATES, API_KEY_SCOPES, AUTH_METHODS, END_REASONS, RADIUS_USER_NAME_FORMS, SESSION_STATES } from '../domain/types';
import { refusedRadiusAddress } from '../radius/destination';
import { RADIUS_DEFAULT_PORT, RADIUS_DEFAULT_RETRIES, RADIUS_DEFAULT_TIMEOUT_MS, RADIUS_MAX_SERVERS, RADIUS_MAX_WAIT_MS } from '../domain/radius-auth/auth-source';

export { TenantIdSchema, UsernameSchema } from '../../../contract/src/agent-protocol/fields';

// --- the agent protocol, named -------------------------------------------------------------------

/** The contract's agent protocol, each named schema an OpenAPI component under its contract name. */
export const {
  CountersSchema,
  ErrorSchema,
  RegisterBody,
  HeartbeatBody,
  AuthenticateBody,
  IpsecSaSchema,
  StartSessionBody,
  InterimBody,
  StopBody,
  AgentSettingsSchema,
  TearDownSchema,
  CommandSchema,
  RegisterReplySchema,
  HeartbeatReplySchema,
  AuthResultSchema,
  SessionStartedSchema,
  SessionStateSchema,
} = agentProtocolSchemas((name, schema) => schema.openapi(name));

// --- building blocks ------------------------------------------------------------------------------

const Ipv4 = z.ipv4();
export const IdParam = z.string().min(1).max(128);

/**
 * Operator requests are strict: an unknown field (a typo such as `maxSession`) is a 400 naming it
 * (validation-hook.ts). The agent protocol's schemas (contract/) are not: an older broker must
 * accept a newer agent's extra fields, so agents of two versions can run side by side.
 */
const strict = z.strictObject;

/** `limit` 1..100 (default 50) and the opaque `cursor` from the previous page. */
export const PageQuery = strict({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().min(1).max(2048).optional(),
});

/** ISO-8601 text or epoch milliseconds -> epoch ms. */
const TimeQuery = z
  .string()
  .transform((raw, ctx) => {
  const value = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (!Number.isFinite(value)) {
    ctx.addIssue({ code: 'custom', message: 'must be ISO-8601 or epoch milliseconds' });
    return z.NEVER;
  }
  return value;
}).openapi({ type: 'string', example: '2024-05-01T00:00:00Z' });

// --- operator requests ----------------------------------------------------------------------------

const PasswordPolicyBody = strict({
  minLength: z.number().int().min(MIN_LENGTH_BOUNDS.min).max(MIN_LENGTH_BOUNDS.max).optional(),
  rejectUsername: z.boolean().optional(),
}).openapi({ description: `users' passwords: default minLength ${DEFAULT_PASSWORD_POLICY.minLength}, rejectUsername ${DEFAULT_PASSWORD_POLICY.rejectUsername} (not the user name, nor containing it)` });

export const CreateTenantBody = strict({
  tenantId: TenantIdSchema,
  name: z.string().min(1).max(128),
  authMethods: z.array(z.enum(AUTH_METHODS)).min(1).optional(),
  maxSessions: z.number().int().positive().optional(),
  maxSessionsPerUser: z.number().int().positive().optional(),
  passwordPolicy: PasswordPolicyBody.optional(),
}).openapi('CreateTenant');

export const UpdateTenantBody = strict({
  name: z.string().min(1).max(128).optional(),
  authMethods: z.array(z.enum(AUTH_METHODS)).min(1).optional().openapi({ description: 'from the next authentication on' }),
  maxSessions: z.number().int().positive().nullable().optional().openapi({ description: 'null removes the limit; from the next session start (running sessions are not cut)' }),
  maxSessionsPerUser: z.number().int().positive().nullable().optional().openapi({ description: 'null removes the limit' }),
  passwordPolicy: PasswordPolicyBody.optional().openapi({ description: 'merged over the policy in force; from the next password set' }),
})
  .refine((b) => Object.keys(b).length > 0, { message: 'give at least one field to change' })
  .openapi('UpdateTenant');

export const DeleteTenantQuery = strict({
  cascade: z.enum(['true', 'false']).optional().openapi({ description: 'true: end the sessions, delete users, keys and pools first' }),
});

export const CreateUserBody = strict({
  username: UsernameSchema,
  password: z.string().min(1).max(256),
  staticIp: Ipv4.optional(),
  chapMd5: z.boolean().optional(),
}).openapi('CreateUser');

export const UpdateUserBody = strict({
  password: z.string().min(1).max(256).optional(),
  chapMd5: z.boolean().optional().openapi({ description: 'with a new password: keep an encrypted copy for CHAP-MD5 (default: as before)' }),
  disabled: z.boolean().optional().openapi({ description: 'true ends the user\'s sessions (end reason user-disabled) and refuses new logins; false enables again' }),
  staticIp: Ipv4.nullable().optional().openapi({ description: 'an address of one of the tenant\'s pools; null clears it (takes effect at the next session)' }),
})
  .refine((b) => Object.keys(b).length > 0, { message: 'give at least one of password, disabled, staticIp' })
  .openapi('UpdateUser');

export const CreatePoolBody = strict({
  poolId: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'lower-case letters, digits and "-", up to 32'),
  cidr: z.string().openapi({ example: '10.8.0.0/24' }),
  exclude: z.array(strict({ first: Ipv4, last: Ipv4 })).max(64).optional(),
  dns: z.array(Ipv4).min(1).max(4),
  gateway: Ipv4.optional(),
  allowPublic: z
    .boolean()
    .optional()
    .openapi({ description: 'allow public address space (fleet-scoped operators only); private (RFC 1918) and shared (RFC 6598) space need no flag' }),
}).openapi('CreatePool');

export const UpdatePoolBody = strict({
  cidr: z.string().optional().openapi({ description: 'only when every leased address stays inside (409 pool-range-has-leases)', example: '10.8.0.0/23' }),
  gateway: Ipv4.optional(),
  exclude: z.array(strict({ first: Ipv4, last: Ipv4 })).max(64).optional(),
  dns: z.array(Ipv4).min(1).max(4).optional(),
})
  .refine((b) => Object.keys(b).length > 0, { message: 'give at least one of cidr, gateway, exclude, dns' })
  .openapi('UpdatePool');

export const ApiKeysQuery = PageQuery.extend({ tenantId: TenantIdSchema.optional() });

export const UsageQuery = strict({
  from: TimeQuery.openapi({ description: 'start of the range (inclusive), ISO-8601 or epoch ms' }),
  to: TimeQuery.openapi({ description: 'end of the range (exclusive); at most 92 days after from' }),
});

const UsageFiguresShape = {
  sessions: z.number().openapi({ description: 'sessions active at some time in the period' }),
  sessionHours: z.number().openapi({ description: 'hours of those sessions inside the period (3 decimals)' }),
  bytesIn: z.number(),
  bytesOut: z.number(),
};

export const UsageSchema = z
  .object({
    tenantId: z.string(),
    from: IsoTime,
    to: IsoTime,
    totals: z.object(UsageFiguresShape),
    days: z.array(z.object({ day: z.string().openapi({ example: '2024-05-01' }), ...UsageFiguresShape })).openapi({ description: 'UTC days' }),
    users: z.array(z.object({ username: z.string(), ...UsageFiguresShape })),
  })
  .openapi('Usage');

export const AuditQuery = PageQuery.extend({ since: TimeQuery.optional(), until: TimeQuery.optional() });

export const SessionsQuery = PageQuery.extend({
  tenantId: TenantIdSchema.optional(),
  username: UsernameSchema.optional(),
  agentId: IdParam.optional(),
  state: z.enum(SESSION_STATES).optional(),
  since: TimeQuery.optional(),
  until: TimeQuery.optional(),
});

export const CreateAgentBody = strict({
  name: z.string().min(1).max(128),
  region: z.string().min(1).max(64).optional(),
  capacity: z.number().int().min(1).max(100_000).optional().openapi({ description: 'most sessions it may hold (default 100); the agent can lower it, never raise it' }),
  publicAddress: Ipv4.optional().openapi({ description: 'where clients reach it; pinned: the agent cannot change it (default: what its first registration reports)' }),
}).openapi('CreateAgent');

export const DrainAgentBody = strict({
  deadlineSeconds: z.number().int().min(0).max(MAX_DRAIN_SECONDS).optional().openapi({
    description: `seconds until the agent ends the sessions it still holds (default ${DEFAULT_DRAIN_SECONDS}); an agent already draining keeps its first deadline`,
  }),
}).openapi('DrainAgent');

export const PutIpsecBody = strict({ psk: z.string().min(8).max(256), allowLegacyProposals: z.boolean().optional() }).openapi('PutIpsec');

/** An ISO-8601 time with its offset -> epoch ms. */
const IsoInput = z.iso.datetime({ offset: true }).transform((text) => Date.parse(text)).openapi({ type: 'string', example: '2025-01-01T00:00:00Z' });

export const CreateApiKeyBody = strict({
  scope: z.enum(API_KEY_SCOPES),
  tenantId: TenantIdSchema.optional(),
  name: z.string().min(1).max(128),
  expiresAt: IsoInput.optional().openapi({ description: 'refused from then on (401 api-key-expired); default: no expiry' }),
})
  .superRefine((body, ctx) => {
    if (body.scope === 'tenant' && body.tenantId === undefined) {
      ctx.addIssue({ code: 'custom', path: ['tenantId'], message: 'required when scope is "tenant"' });
    }
    if (body.scope === 'fleet' && body.tenantId !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['tenantId'], message: 'only allowed when scope is "tenant"' });
    }
  }).openapi('CreateApiKey');

// --- responses ------------------------------------------------------------------------------------

export const TenantSchema = z
  .object({
    tenantId: z.string(),
    name: z.string(),
    authMethods: z.array(z.enum(AUTH_METHODS)),
    maxSessions: z.number().optional(),
    maxSessionsPerUser: z.number().optional(),
    passwordPolicy: z.object({ minLength: z.number(), rejectUsername: z.boolean() }).openapi({ description: 'the policy in force (the default unless set)' }),
    authSource: z.enum(['local', 'radius']).openapi({ description: 'where users are checked: GET /v1/tenants/{tenantId}/auth for the details' }),
    createdAt: IsoTime,
    updatedAt: IsoTime.optional(),
  }).openapi('Tenant');

/** Refuses a literal address no RADIUS server may have (link-local, multicast...: radius/destination.ts). */
export function refuseForbiddenRadiusAddress(host: string, ctx: z.RefinementCtx): void {
  const why = refusedRadiusAddress(host);
  if (why) ctx.addIssue({ code: 'custom', message: `${host} is ${why}: never a RADIUS server` });
}

/** A RADIUS server's address: an IPv4 address or a DNS name (resolved at each exchange). */
const RadiusHost = z
  .string()
  .min(1)
  .max(253)
  .regex(/^(?:(?:\d{1,3}\.){3}\d{1,3}|(?=.*[a-zA-Z])[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*)$/, 'an IPv4 address or a DNS name')
  .superRefine(refuseForbiddenRadiusAddress)
  .openapi({ example: '10.20.0.5' });

const RadiusServerBody = strict({
  host: RadiusHost,
  port: z.number().int().min(1).max(65535).optional().openapi({ description: `default ${RADIUS_DEFAULT_PORT}` }),
  secret: z.string().min(8).max(128).openapi({ description: 'the shared secret: stored encrypted, never shown again' }),
  timeoutMs: z.number().int().min(100).max(RADIUS_MAX_WAIT_MS).optional().openapi({ description: `wait per transmission, default ${RADIUS_DEFAULT_TIMEOUT_MS}` }),
  retries: z.number().int().min(0).max(5).optional().openapi({ description: `retransmissions after the first, default ${RADIUS_DEFAULT_RETRIES}` }),
});

export const SetAuthSourceBody = z
  .discriminatedUnion('kind', [
    strict({ kind: z.literal('local') }),
    strict({
      kind: z.literal('radius'),
      servers: z.array(RadiusServerBody).min(1).max(RADIUS_MAX_SERVERS).openapi({
        description: `tried in this order (failover); timeouts x (1 + retries), summed over all servers, at most ${RADIUS_MAX_WAIT_MS} ms`,
      }),
      userName: z.enum(RADIUS_USER_NAME_FORMS).optional().openapi({
        description: 'User-Name sent: as-sent (the PPP Name with its realm, default) or without-realm (the user part only; MS-CHAPv2 then works only with the TENANT\\user form)',
      }),
    }),
  ])
  .openapi('SetAuthSource');

export const AuthSourceSchema = z
  .object({
    tenantId: z.string(),
    kind: z.enum(['local', 'radius']),
    servers: z
      .array(z.object({ host: z.string(), port: z.number(), timeoutMs: z.number(), retries: z.number(), secretSet: z.literal(true) }))
      .optional()
      .openapi({ description: 'in failover order; secrets are never shown' }),
    userName: z.enum(RADIUS_USER_NAME_FORMS).optional(),
  })
  .openapi('AuthSource');

export const UserSchema = z
  .object({
    tenantId: z.string(),
    username: z.string(),
    staticIp: z.string().optional(),
    disabled: z.boolean(),
    chapMd5: z.boolean().openapi({ description: 'a CHAP-MD5 secret is stored (encrypted)' }),
    createdAt: IsoTime,
    failedAttempts: z.number(),
    locked: z.boolean(),
    lockedUntil: IsoTime.optional(),
    lastFailureAt: IsoTime.optional(),
    lastFailureReason: z.string().optional(),
    updatedAt: IsoTime.optional(),
  }).openapi('User');

export const UserChangeSchema = UserSchema.extend({
  sessionsEnded: z.number().openapi({ description: 'sessions of the user the change asked the agents to end' }),
}).openapi('UserChange');

export const AuthEventSchema = z
  .object({
    at: IsoTime,
    kind: z.enum(['failure', 'locked', 'outage']).openapi({ description: 'outage: no RADIUS server answered (or none answered genuinely); never counted' }),
    method: z.enum(AUTH_METHODS),
    reason: z.string(),
    agentId: z.string().optional(),
    source: z.string().optional().openapi({ description: 'the client\'s address as the relaying agent saw it' }),
  }).openapi('AuthEvent');

export const PoolSchema = z
  .object({
    tenantId: z.string(),
    poolId: z.string(),
    cidr: z.string(),
    exclude: z.array(z.object({ first: z.string(), last: z.string() })),
    dns: z.array(z.string()),
    gateway: z.string(),
    allowPublic: z.boolean().optional(),
    createdAt: IsoTime,
  }).openapi('Pool');

export const SessionSchema = z
  .object({
    sessionId: z.string(),
    tenantId: z.string(),
    username: z.string(),
    agentId: z.string(),
    agentSessionRef: z.string(),
    tunnelId: z.number(),
    l2tpSessionId: z.number(),
    peerAddress: z.string().optional(),
    ipsecSa: IpsecSaSchema.optional(),
    authMethod: z.enum(AUTH_METHODS),
    poolId: z.string(),
    assignedIp: z.string(),
    state: z.enum(SESSION_STATES),
    startedAt: IsoTime,
    updatedAt: IsoTime,
    stoppedAt: IsoTime.optional(),
    endReason: z.enum(END_REASONS).optional(),
    disconnectRequestedAt: IsoTime.optional().openapi({ description: 'when an operator asked for the disconnect (DELETE); the agent is nudged at once' }),
    disconnectConfirmedAt: IsoTime.optional().openapi({ description: 'when the agent reported the session stopped by that disconnect (its stop report, reason admin-disconnect)' }),
    disconnectReason: z.enum(END_REASONS).optional().openapi({ description: 'why the broker asked for the disconnect, when not a plain DELETE (user-deleted, user-disabled, tenant-deleted)' }),
    counters: CountersSchema,
  }).openapi('Session');

export const AgentSchema = z
  .object({
    agentId: z.string(),
    name: z.string(),
    region: z.string(),
    state: z.enum(AGENT_STATES),
    revoked: z.boolean(),
    publicAddress: z.string().optional(),
    capacity: z.number().openapi({ description: 'the lower of the enrolled capacity and what the agent reports' }),
    enrolledCapacity: z.number().optional(),
    networks: z.array(z.string()).optional(),
    nudgePort: z.number().optional().openapi({ description: 'UDP port of the agent\'s command-nudge listener (absent: none; commands wait for its heartbeat)' }),
    activeSessions: z.number(),
    drainDeadline: IsoTime.optional().openapi({ description: 'while draining: when the agent ends the sessions it still holds' }),
    lastHeartbeatAt: IsoTime.optional(),
    registeredAt: IsoTime.optional(),
    version: z.string().optional(),
    counters: CountersSchema,
    createdAt: IsoTime,
  }).openapi('Agent');

export const ApiKeySchema = z
  .object({
    keyId: z.string(),
    scope: z.enum(API_KEY_SCOPES),
    tenantId: z.string().optional(),
    name: z.string(),
    revoked: z.boolean(),
    createdAt: IsoTime,
    expiresAt: IsoTime.optional(),
    expired: z.boolean(),
  }).openapi('ApiKey');

export const AuditEventSchema = z
  .object({
    eventId: z.string(),
    at: IsoTime,
    actor: z.string().openapi({ description: '"admin" or "apikey:<keyId>"' }),
    action: z.string().openapi({ example: 'PATCH /v1/tenants/{tenantId}/users/{username}' }),
    target: z.string().openapi({ example: '/v1/tenants/acme/users/alice' }),
    tenantId: z.string().optional(),
    created: z.record(z.string(), z.string()).optional(),
    fields: z.array(z.string()).openapi({ description: 'names of the fields sent, never their values' }),
    status: z.number(),
    requestId: z.string().optional(),
  })
  .openapi('AuditEvent');

export const IpsecStatusSchema = z
  .object({ configured: z.boolean(), allowLegacyProposals: z.boolean(), revision: z.number(), updatedAt: IsoTime.optional() }).openapi('IpsecStatus');

/** `{ items, cursor? }` for a listing of `item`. */
export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), cursor: z.string().optional() });
}
