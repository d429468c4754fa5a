/**
 * The agent protocol (`/v1/agent/*`): every request the edge agent sends and every answer the
 * broker gives, as zod schemas. The broker validates requests with them and publishes them in
 * /openapi.json; the agent types its calls from them. Changing one changes both sides' compile.
 *
 * The names given to `name` are the schemas' component names in the broker's OpenAPI document.
 * `agentProtocolSchemas()` without a namer (the exports at the bottom) leaves them plain; the broker
 * passes its OpenAPI layer's namer (functions/src/http/schemas.ts), so the schemas that refer to a
 * named one (every `counters`, `settings`, `tearDown`, `commands`) refer to the named instance.
 */
import { z } from 'zod';
import { isCidrError, parseCidr } from '../ipv4';
import { AUTH_FAILURE_REASONS, AUTH_METHODS, END_REASONS, SESSION_STATES } from '../values';
import { Count, Hex, IsoTime, TenantIdSchema, UsernameSchema } from './fields';

/** At most this many held session ids per report (the agent omits the list above it: no reconciliation). */
export const MAX_RECONCILE_IDS = 1000;

/** Attaches a component name to a schema; it must return a schema of the same type. */
export type SchemaNamer = <T extends z.ZodType>(name: string, schema: T) => T;

const unnamed: SchemaNamer = (_name, schema) => schema;

/** Builds the protocol's schemas, each named component passed through `name` once. */
export function agentProtocolSchemas(name: SchemaNamer = unnamed) {
  const CountersSchema = name('Counters', z.object({ bytesIn: Count, bytesOut: Count, packetsIn: Count, packetsOut: Count }));

  /** The body of every error answer (4xx/5xx), the agent protocol's and the operator API's alike. */
  const ErrorSchema = name(
    'Error',
    z.object({
      error: z.object({
        code: z.string().meta({ example: 'validation-failed' }),
        message: z.string(),
        field: z.string().optional(),
        hint: z.string().optional().meta({ description: 'what the caller can do about it' }),
      }),
    }),
  );

  // --- requests -----------------------------------------------------------------------------------

  /** Broker session ids the agent still holds, for reconciliation (functions/src/domain/reconcile.ts); absent = none done. */
  const HeldSessionIds = z
    .array(z.string().min(1).max(128))
    .max(MAX_RECONCILE_IDS)
    .optional()
    .meta({ description: 'session ids the agent still serves; the broker stops its other active sessions of this agent and answers which of these to tear down' });

  /** A strict IPv4 CIDR (host bits zero), e.g. a network of the agent's host. */
  const CidrText = z
    .string()
    .max(18)
    .refine((text) => !isCidrError(parseCidr(text)), 'an IPv4 network a.b.c.d/n with its host bits zero')
    .meta({ example: '172.31.0.0/16' });

  const RegisterBody = name(
    'AgentRegister',
    z.object({
      publicAddress: z.string().min(1).max(255).meta({ description: 'used only when no address is on record (enrolment or a previous registration)' }),
      capacity: z.number().int().min(0).max(100_000).meta({ description: 'capped at the enrolled capacity' }),
      version: z.string().min(1).max(64),
      sessionIds: HeldSessionIds,
      networks: z
        .array(CidrText)
        .max(64)
        .optional()
        .meta({ description: 'the IPv4 networks of the agent\'s host: no pool may overlap them' }),
      nudgePort: z
        .number()
        .int()
        .min(0)
        .max(65535)
        .optional()
        .meta({ description: 'UDP port where the agent listens for command nudges (contract/src/command-nudge.ts); 0 or absent = none' }),
    }),
  );

  const HeartbeatBody = name(
    'AgentHeartbeat',
    z.object({
      activeSessions: Count,
      counters: CountersSchema,
      ackCommandIds: z.array(z.string().min(1).max(128)).max(1000).default([]),
      sessionIds: HeldSessionIds,
    }),
  );

  const PppName = z.string().min(1).max(256).meta({ description: 'the Name exactly as the peer sent it, with realm', example: 'alice@acme' });

  /** Fields every authentication carries besides the method's own. */
  const AuthCommonFields = {
    username: PppName,
    agentSessionRef: z.string().min(1).max(128).meta({ description: 'the agent\'s reference of the session being set up: the grant answered is good for this start only' }),
    peerAddress: z.string().min(1).max(64).meta({ description: 'the client\'s address as the agent sees it (IPv4, optionally :port): failures are counted per user and address', example: '198.51.100.4' }),
  };

  const AuthenticateBody = name(
    'AgentAuthenticate',
    z.discriminatedUnion('method', [
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
        id: z.number().int().min(0).max(255).optional().meta({ description: 'the Identifier of the Challenge (RFC 2759 §3); a RADIUS tenant\'s MS-CHAP2-Response carries it (0 when absent)' }),
        authenticatorChallenge: Hex(16),
        peerChallenge: Hex(16),
        ntResponse: Hex(24),
      }),
    ]),
  );

  /** values.ts SessionIpsecSa: the SA that carried a session's L2TP at its start. */
  const IpsecSaSchema = name(
    'SessionIpsecSa',
    z
      .object({
        ikeSaId: z.string().min(1).max(32),
        childSaId: z.string().min(1).max(32),
        mark: z.number().int().min(1).max(0xffffffff).optional(),
        ikePeer: z.string().min(1).max(64),
      })
      .meta({
        description:
          'the IPsec SA that carried the session\'s L2TP when it started: charon\'s IKE_SA and CHILD_SA ids (as `swanctl --list-sas` numbers them), the CHILD_SA\'s packet mark (what tells clients behind one NAT apart) and the client\'s IKE address:port',
      }),
  );

  const StartSessionBody = name(
    'AgentStartSession',
    z.object({
      agentSessionRef: z.string().min(1).max(128),
      tunnelId: z.number().int().min(1).max(65535),
      l2tpSessionId: z.number().int().min(1).max(65535),
      peerAddress: z.string().min(1).max(64).optional(),
      ipsecSa: IpsecSaSchema.optional(),
      tenantId: TenantIdSchema,
      username: UsernameSchema,
      authMethod: z.enum(AUTH_METHODS),
      grant: z.string().min(1).max(2048).meta({ description: 'the grant of this user\'s authentication for this agentSessionRef (required: a start without a valid one is 403)' }),
    }),
  );

  const InterimBody = name('AgentInterim', z.object({ counters: CountersSchema }));

  const StopBody = name('AgentStop', z.object({ reason: z.enum(END_REASONS), counters: CountersSchema.optional() }));

  // --- answers ------------------------------------------------------------------------------------

  const AgentSettingsSchema = name(
    'AgentSettings',
    z.object({
      revision: z.number().meta({ description: 'IPsec settings revision; 0 = no PSK configured yet' }),
      heartbeatIntervalSeconds: z.number(),
      ipsec: z.object({ psk: z.string(), allowLegacyProposals: z.boolean() }).nullable(),
    }),
  );

  /** Sessions the agent must tear down (stopped or unknown at the broker), from reconciliation. */
  const TearDownSchema = name('AgentTearDown', z.array(z.object({ sessionId: z.string(), reason: z.enum(END_REASONS) })));

  const CommandSchema = name(
    'AgentCommand',
    z.object({
      commandId: z.string(),
      type: z.enum(['disconnect-session', 'drain', 'reload-settings']),
      sessionId: z.string().optional(),
      deadline: IsoTime.optional(),
      createdAt: IsoTime,
    }),
  );

  /** The answer to a registration (not a named component: the document shows it inline). */
  const RegisterReplySchema = z.object({
    agentId: z.string(),
    publicAddress: z.string().meta({ description: 'the address on record (enrolled or pinned); the agent warns when it reported another' }),
    capacity: z.number().int().meta({ description: 'the capacity on record: the lower of the reported and the enrolled one' }),
    settings: AgentSettingsSchema,
    tearDown: TearDownSchema.optional().meta({ description: 'present when sessionIds were sent' }),
    sessionsStopped: z.number().int().optional().meta({ description: 'active sessions of this agent it no longer holds, now stopped (agent-lost)' }),
    nudgeKey: z
      .string()
      .optional()
      .meta({ description: 'base64 key of this agent\'s command nudges (present when it reported a nudgePort); the previous key stays valid until the next one arrives' }),
  });

  /** The answer to a heartbeat (inline in the document, like the registration's). */
  const HeartbeatReplySchema = z.object({
    commands: z.array(CommandSchema),
    settingsRevision: z.number(),
    heartbeatIntervalSeconds: z.number(),
    tearDown: TearDownSchema.optional().meta({ description: 'present when sessionIds were sent' }),
    sessionsStopped: z.number().int().optional(),
    nudgeKey: z
      .string()
      .optional()
      .meta({ description: 'base64 key of this agent\'s command nudges (present when it reported a nudgePort); the previous key stays valid until the next one arrives' }),
  });

  /** The verdict on an authentication: always 200, `ok` says which. */
  const AuthResultSchema = name(
    'AgentAuthResult',
    z.union([
      z.object({
        ok: z.literal(true),
        tenantId: z.string(),
        username: z.string(),
        authenticatorResponse: z.string().optional().meta({ description: 'MS-CHAPv2 only: the S=<40 hex> string for the Success packet' }),
        sessionTimeoutSeconds: z.number().int().min(1).optional().meta({ description: 'RADIUS Session-Timeout: the agent ends the session (session-timeout) this long after it is up' }),
        idleTimeoutSeconds: z.number().int().min(1).optional().meta({ description: 'RADIUS Idle-Timeout: the agent ends the session (idle-timeout) after this long without a packet from the client' }),
        grant: z.string().meta({ description: 'required by the start of this session (agentSessionRef), valid 60 s, for this agent only' }),
      }),
      z.object({
        ok: z.literal(false),
        reason: z.enum(AUTH_FAILURE_REASONS),
        retryable: z.boolean(),
        lockedUntil: z.string().optional(),
      }),
    ]),
  );

  /** A pool's block as the broker parsed it: network and prefix length, so the agent parses no CIDR text. */
  const PoolBlockSchema = z
    .object({
      network: z.string().meta({ description: 'the first address of the block (host bits zero)', example: '10.8.0.0' }),
      prefixLength: z.number().int().min(0).max(32).meta({ example: 24 }),
    })
    .meta({ description: 'the pool\'s block (the same as cidr), structured; agents that predate it read cidr' });

  const SessionStartedSchema = name(
    'AgentSessionStarted',
    z.object({
      sessionId: z.string(),
      address: z.string(),
      gateway: z.string(),
      dns: z.array(z.string()),
      poolId: z.string(),
      cidr: z.string().meta({ description: 'the pool\'s CIDR: the agent routes it into its TUN once per pool' }),
      block: PoolBlockSchema,
      created: z.boolean().meta({ description: 'false when this was a retry of an already recorded start' }),
    }),
  );

  /** A session as interim and stop answer it. */
  const SessionStateSchema = name(
    'AgentSessionState',
    z.object({
      sessionId: z.string(),
      state: z.enum(SESSION_STATES),
      counters: CountersSchema,
      endReason: z.enum(END_REASONS).optional(),
      disconnectRequested: z.boolean(),
    }),
  );

  return {
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
    PoolBlockSchema,
    SessionStartedSchema,
    SessionStateSchema,
  };
}

export type AgentProtocolSchemas = ReturnType<typeof agentProtocolSchemas>;

export const {
  CountersSchema,
  ErrorSchema,
  RegisterBody,
  HeartbeatBody,
  AuthenticateBody,
  StartSessionBody,
  InterimBody,
  StopBody,
  AgentSettingsSchema,
  TearDownSchema,
  CommandSchema,
  RegisterReplySchema,
  HeartbeatReplySchema,
  AuthResultSchema,
  PoolBlockSchema,
  SessionStartedSchema,
  SessionStateSchema,
} = agentProtocolSchemas();
