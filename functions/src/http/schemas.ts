/**
 * Request and response schemas of the broker API. Routes validate with them and /openapi.json is
 * generated from them, so the document cannot drift from the code.
 */
import { z } from '@hono/zod-openapi';
import { TENANT_ID_PATTERN } from '../domain/ppp-auth';
import { AGENT_STATES, API_KEY_SCOPES, AUTH_METHODS, END_REASONS, SESSION_STATES } from '../domain/types';
import { MAX_RECONCILE_IDS } from '../domain/reconcile';
import { isCidrError, parseCidr } from '../domain/ip-allocation/ipv4';

// --- building blocks ------------------------------------------------------------------------------

export const TenantIdSchema = z
  .string()
  .regex(TENANT_ID_PATTERN, 'lower-case letters, digits, ".", "_", "-"; 1..64 characters, starting alphanumeric')
  .openapi({ example: 'acme' });

/** The user part only (no realm); `\` and control characters would make PPP names ambiguous. */
// eslint-disable-next-line no-control-regex
export const UsernameSchema = z.string().regex(/^[^\\\u0000-\u001f\u007f-\u009f]{1,128}$/, '1..128 characters, no "\\" or control characters').openapi({ example: 'alice' });

const Ipv4 = z.ipv4();
const IsoTime = z.string().openapi({ format: 'date-time', example: '2024-05-01T12:00:00.000Z' });
const Count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
export const IdParam = z.string().min(1).max(128);

export const CountersSchema = z
  .object({ bytesIn: Count, bytesOut: Count, packetsIn: Count, packetsOut: Count })
  .openapi('Counters');

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'validation-failed' }),
      message: z.string(),
      field: z.string().optional(),
    }),
  })
  .openapi('Error');

/** `limit` 1..100 (default 50) and the opaque `cursor` from the previous page. */
export const PageQuery = z.object({
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
  })
  .openapi({ type: 'string', example: '2024-05-01T00:00:00Z' });

// --- operator requests ----------------------------------------------------------------------------

export const CreateTenantBody = z
  .object({
    tenantId: TenantIdSchema,
    name: z.string().min(1).max(128),
    authMethods: z.array(z.enum(AUTH_METHODS)).min(1).optional(),
    maxSessions: z.number().int().positive().optional(),
    maxSessionsPerUser: z.number().int().positive().optional(),
  })
  .openapi('CreateTenant');

export const CreateUserBody = z
  .object({
    username: UsernameSchema,
    password: z.string().min(1).max(256),
    staticIp: Ipv4.optional(),
    chapMd5: z.boolean().optional(),
  })
  .openapi('CreateUser');

export const CreatePoolBody = z
  .object({
    poolId: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'lower-case letters, digits and "-", up to 32'),
    cidr: z.string().openapi({ example: '10.8.0.0/24' }),
    exclude: z.array(z.object({ first: Ipv4, last: Ipv4 })).max(64).optional(),
    dns: z.array(Ipv4).min(1).max(4),
    gateway: Ipv4.optional(),
    allowPublic: z
      .boolean()
      .optional()
      .openapi({ description: 'allow public address space (fleet-scoped operators only); private (RFC 1918) and shared (RFC 6598) space need no flag' }),
  })
  .openapi('CreatePool');

export const SessionsQuery = PageQuery.extend({
  tenantId: TenantIdSchema.optional(),
  username: UsernameSchema.optional(),
  agentId: IdParam.optional(),
  state: z.enum(SESSION_STATES).optional(),
  since: TimeQuery.optional(),
  until: TimeQuery.optional(),
});

export const CreateAgentBody = z
  .object({
    name: z.string().min(1).max(128),
    region: z.string().min(1).max(64).optional(),
    capacity: z.number().int().min(1).max(100_000).optional().openapi({ description: 'most sessions it may hold (default 100); the agent can lower it, never raise it' }),
    publicAddress: Ipv4.optional().openapi({ description: 'where clients reach it; pinned: the agent cannot change it (default: what its first registration reports)' }),
  })
  .openapi('CreateAgent');

export const PutIpsecBody = z
  .object({ psk: z.string().min(8).max(256), allowLegacyProposals: z.boolean().optional() })
  .openapi('PutIpsec');

export const CreateApiKeyBody = z
  .object({ scope: z.enum(API_KEY_SCOPES), tenantId: TenantIdSchema.optional(), name: z.string().min(1).max(128) })
  .superRefine((body, ctx) => {
    if (body.scope === 'tenant' && body.tenantId === undefined) {
      ctx.addIssue({ code: 'custom', path: ['tenantId'], message: 'required when scope is "tenant"' });
    }
    if (body.scope === 'fleet' && body.tenantId !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['tenantId'], message: 'only allowed when scope is "tenant"' });
    }
  })
  .openapi('CreateApiKey');

// --- agent requests -------------------------------------------------------------------------------

/** Broker session ids the agent still holds, for reconciliation (domain/reconcile.ts); absent = none done. */
const HeldSessionIds = z
  .array(z.string().min(1).max(128))
  .max(MAX_RECONCILE_IDS)
  .optional()
  .openapi({ description: 'session ids the agent still serves; the broker stops its other active sessions of this agent and answers which of these to tear down' });

/** Sessions the agent must tear down (stopped or unknown at the broker), from reconciliation. */
export const TearDownSchema = z
  .array(z.object({ sessionId: z.string(), reason: z.enum(END_REASONS) }))
  .openapi('AgentTearDown');

/** A strict IPv4 CIDR (host bits zero), e.g. a network of the agent's host. */
const CidrText = z
  .string()
  .max(18)
  .refine((text) => !isCidrError(parseCidr(text)), 'an IPv4 network a.b.c.d/n with its host bits zero')
  .openapi({ example: '172.31.0.0/16' });

export const RegisterBody = z
  .object({
    publicAddress: z.string().min(1).max(255).openapi({ description: 'used only when no address is on record (enrolment or a previous registration)' }),
    capacity: z.number().int().min(0).max(100_000).openapi({ description: 'capped at the enrolled capacity' }),
    version: z.string().min(1).max(64),
    sessionIds: HeldSessionIds,
    networks: z
      .array(CidrText)
      .max(64)
      .optional()
      .openapi({ description: 'the IPv4 networks of the agent\'s host: no pool may overlap them' }),
  })
  .openapi('AgentRegister');

export const HeartbeatBody = z
  .object({
    activeSessions: Count,
    counters: CountersSchema,
    ackCommandIds: z.array(z.string().min(1).max(128)).max(1000).default([]),
    sessionIds: HeldSessionIds,
  })
  .openapi('AgentHeartbeat');

const Hex = (bytes?: number) =>
  z.string().regex(bytes === undefined ? /^(?:[0-9a-fA-F]{2})+$/ : new RegExp(`^[0-9a-fA-F]{${bytes * 2}}$`), bytes === undefined ? 'hex bytes' : `${bytes} bytes as hex`);
const PppName = z.string().min(1).max(256).openapi({ description: 'the Name exactly as the peer sent it, with realm', example: 'alice@acme' });

/** Fields every authentication carries besides the method's own. */
const AuthCommonFields = {
  username: PppName,
  agentSessionRef: z.string().min(1).max(128).openapi({ description: 'the agent\'s reference of the session being set up: the grant answered is good for this start only' }),
  peerAddress: z.string().min(1).max(64).openapi({ description: 'the client\'s address as the agent sees it (IPv4, optionally :port): failures are counted per user and address', example: '198.51.100.4' }),
};

export const AuthenticateBody = z
  .discriminatedUnion('method', [
    z.object({ method: z.literal('pap'), ...AuthCommonFields, password: z.string().max(256) }),
    z.object({
      method: z.literal('chap-md5'),
      ...AuthCommonFields,
      id: z.number().int().min(0).max(255),
      challenge: Hex().max(512),
      response: Hex(16),
    }),
    z.object({
      method: z.literal('mschapv2'),
      ...AuthCommonFields,
      authenticatorChallenge: Hex(16),
      peerChallenge: Hex(16),
      ntResponse: Hex(24),
    }),
  ])
  .openapi('AgentAuthenticate');

export const StartSessionBody = z
  .object({
    agentSessionRef: z.string().min(1).max(128),
    tunnelId: z.number().int().min(1).max(65535),
    l2tpSessionId: z.number().int().min(1).max(65535),
    peerAddress: z.string().min(1).max(64).optional(),
    tenantId: TenantIdSchema,
    username: UsernameSchema,
    authMethod: z.enum(AUTH_METHODS),
    grant: z.string().min(1).max(2048).openapi({ description: 'the grant of this user\'s authentication for this agentSessionRef (required: a start without a valid one is 403)' }),
  })
  .openapi('AgentStartSession');

export const InterimBody = z.object({ counters: CountersSchema }).openapi('AgentInterim');

export const StopBody = z.object({ reason: z.enum(END_REASONS), counters: CountersSchema.optional() }).openapi('AgentStop');

// --- responses ------------------------------------------------------------------------------------

export const TenantSchema = z
  .object({
    tenantId: z.string(),
    name: z.string(),
    authMethods: z.array(z.enum(AUTH_METHODS)),
    maxSessions: z.number().optional(),
    maxSessionsPerUser: z.number().optional(),
    createdAt: IsoTime,
  })
  .openapi('Tenant');

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
  })
  .openapi('User');

export const AuthEventSchema = z
  .object({
    at: IsoTime,
    kind: z.enum(['failure', 'locked']),
    method: z.enum(AUTH_METHODS),
    reason: z.string(),
    agentId: z.string().optional(),
    source: z.string().optional().openapi({ description: 'the client\'s address as the relaying agent saw it' }),
  })
  .openapi('AuthEvent');

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
  })
  .openapi('Pool');

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
    authMethod: z.enum(AUTH_METHODS),
    poolId: z.string(),
    assignedIp: z.string(),
    state: z.enum(SESSION_STATES),
    startedAt: IsoTime,
    updatedAt: IsoTime,
    stoppedAt: IsoTime.optional(),
    endReason: z.enum(END_REASONS).optional(),
    disconnectRequestedAt: IsoTime.optional(),
    counters: CountersSchema,
  })
  .openapi('Session');

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
    activeSessions: z.number(),
    lastHeartbeatAt: IsoTime.optional(),
    registeredAt: IsoTime.optional(),
    version: z.string().optional(),
    counters: CountersSchema,
    createdAt: IsoTime,
  })
  .openapi('Agent');

export const ApiKeySchema = z
  .object({
    keyId: z.string(),
    scope: z.enum(API_KEY_SCOPES),
    tenantId: z.string().optional(),
    name: z.string(),
    revoked: z.boolean(),
    createdAt: IsoTime,
  })
  .openapi('ApiKey');

export const IpsecStatusSchema = z
  .object({ configured: z.boolean(), allowLegacyProposals: z.boolean(), revision: z.number(), updatedAt: IsoTime.optional() })
  .openapi('IpsecStatus');

export const CommandSchema = z
  .object({
    commandId: z.string(),
    type: z.enum(['disconnect-session', 'drain', 'reload-settings']),
    sessionId: z.string().optional(),
    deadline: IsoTime.optional(),
    createdAt: IsoTime,
  })
  .openapi('AgentCommand');

export const AgentSettingsSchema = z
  .object({
    revision: z.number().openapi({ description: 'IPsec settings revision; 0 = no PSK configured yet' }),
    heartbeatIntervalSeconds: z.number(),
    ipsec: z.object({ psk: z.string(), allowLegacyProposals: z.boolean() }).nullable(),
  })
  .openapi('AgentSettings');

/** `{ items, cursor? }` for a listing of `item`. */
export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), cursor: z.string().optional() });
}
