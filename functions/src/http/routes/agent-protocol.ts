/**
 * The edge agent's API under /v1/agent (agent credentials only). Every call is safe to retry:
 * session start is idempotent on (agent, agentSessionRef), counters only grow, stop is once.
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { heartbeat, registerAgent } from '../../domain/agents-service';
import { nudgeKeyFor } from '../../domain/command-nudge';
import { authenticate, readAuthAhead } from '../../domain/auth-service';
import { parseToken } from '../../domain/bearer-tokens';
import { agentIpsecSettings, ipsecRevision } from '../../domain/ipsec-settings';
import type { ServiceContext } from '../../domain/service-context';
import { reconcileAgentSessions, type ReconcileResult } from '../../domain/reconcile';
import { reportInterim, startSession, stopSession } from '../../domain/sessions-service';
import type { Session } from '../../domain/types';
import { formatIpv4 } from '../../../../contract/src/ipv4';
import type { ReadAhead } from '../auth';
import type { AppEnv } from '../context';
import type { BrokerMetrics } from '../metrics';
import { iso, renderCommand } from '../render';
import { bearerSecurity, errorResponses, jsonBody, jsonResponse } from '../route-helpers';
import {
  AgentSettingsSchema,
  AuthenticateBody,
  AuthResultSchema,
  HeartbeatBody,
  HeartbeatReplySchema,
  IdParam,
  InterimBody,
  RegisterBody,
  RegisterReplySchema,
  SessionStartedSchema,
  SessionStateSchema,
  StartSessionBody,
  StopBody,
} from '../schemas';

const SessionParams = z.object({ sessionId: IdParam });

function sessionState(s: Session) {
  return {
    sessionId: s.sessionId,
    state: s.state,
    counters: { bytesIn: s.bytesIn, bytesOut: s.bytesOut, packetsIn: s.packetsIn, packetsOut: s.packetsOut },
    ...(s.endReason !== undefined ? { endReason: s.endReason } : {}),
    disconnectRequested: s.disconnectRequestedAt !== undefined,
  };
}

function reconcileReply(result: ReconcileResult) {
  return { tearDown: result.tearDown.map((t) => ({ sessionId: t.sessionId, reason: t.reason })), sessionsStopped: result.stopped.length };
}

/** POST /v1/agent/authenticate reads the user and the throttles it needs: started with the credential check. */
export function authenticateReadAhead(ctx: Pick<ServiceContext, 'store' | 'clock'>): ReadAhead {
  return {
    method: 'POST',
    path: '/v1/agent/authenticate',
    start(c, body) {
      // The agent id as the credential claims it; authenticate uses the reads only for the verified one.
      const claimed = parseToken('agent', /^Bearer\s+(\S+)\s*$/i.exec(c.req.header('authorization') ?? '')?.[1] ?? '')?.id;
      if (claimed === undefined || typeof body !== 'object' || body === null) return;
      c.set('authReadAhead', readAuthAhead(ctx, body as { username?: unknown; peerAddress?: unknown }, claimed));
    },
  };
}

export function registerAgentProtocolRoutes(app: OpenAPIHono<AppEnv>, ctx: ServiceContext, metrics?: BrokerMetrics): void {
  const settings = async () => {
    const ipsec = await agentIpsecSettings(ctx);
    return {
      revision: ipsec?.revision ?? 0,
      heartbeatIntervalSeconds: ctx.config.heartbeatIntervalSeconds,
      ipsec: ipsec ? { psk: ipsec.psk, allowLegacyProposals: ipsec.allowLegacyProposals } : null,
    };
  };

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/agent/register',
      summary: 'Agent start-up: record address, capacity, version; returns settings',
      security: bearerSecurity,
      request: { body: jsonBody(RegisterBody) },
      responses: {
        200: jsonResponse(RegisterReplySchema, 'registered'),
        ...errorResponses(400, 401, 403),
      },
    }),
    async (c) => {
      const { sessionIds, ...input } = c.req.valid('json');
      const agent = await registerAgent(ctx, c.get('agent'), { ...input, ...(sessionIds !== undefined ? { activeSessions: sessionIds.length } : {}) });
      const reconciled = sessionIds === undefined ? {} : reconcileReply(await reconcileAgentSessions(ctx, agent, sessionIds));
      if (agent.publicAddress !== input.publicAddress) {
        c.get('log').warn({ reported: input.publicAddress, onRecord: agent.publicAddress }, 'agent reported another public address: the one on record is kept');
      }
      const nudgeKey = nudgeKeyFor(ctx, agent);
      return c.json(
        {
          agentId: agent.agentId,
          publicAddress: agent.publicAddress ?? input.publicAddress,
          capacity: agent.capacity,
          settings: await settings(),
          ...reconciled,
          ...(nudgeKey !== undefined ? { nudgeKey } : {}),
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/agent/heartbeat',
      summary: 'Liveness and load; acknowledges commands and returns the pending ones',
      security: bearerSecurity,
      request: { body: jsonBody(HeartbeatBody) },
      responses: {
        200: jsonResponse(HeartbeatReplySchema, 'pending commands'),
        ...errorResponses(400, 401, 403),
      },
    }),
    async (c) => {
      const { sessionIds, ...input } = c.req.valid('json');
      const { agent, commands } = await heartbeat(ctx, c.get('agent'), input);
      const reconciled = sessionIds === undefined ? {} : reconcileReply(await reconcileAgentSessions(ctx, agent, sessionIds));
      const nudgeKey = nudgeKeyFor(ctx, agent);
      return c.json(
        {
          commands: commands.map(renderCommand),
          settingsRevision: await ipsecRevision(ctx),
          heartbeatIntervalSeconds: ctx.config.heartbeatIntervalSeconds,
          ...reconciled,
          ...(nudgeKey !== undefined ? { nudgeKey } : {}),
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/agent/settings',
      summary: 'Current settings, including the IPsec PSK in clear (agents only)',
      security: bearerSecurity,
      responses: { 200: jsonResponse(AgentSettingsSchema, 'settings'), ...errorResponses(401, 403) },
    }),
    async (c) => c.json(await settings(), 200),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/agent/authenticate',
      summary: 'Verify a PPP authentication (PAP, CHAP-MD5, MS-CHAPv2) relayed by the agent',
      description: 'Always 200 with ok true/false; byte fields are hex. The tenant comes from the realm of username.',
      security: bearerSecurity,
      request: { body: jsonBody(AuthenticateBody) },
      responses: { 200: jsonResponse(AuthResultSchema, 'verdict'), ...errorResponses(400, 401, 403) },
    }),
    async (c) => {
      const result = await authenticate(ctx, c.get('agent').agentId, c.req.valid('json'), c.get('authReadAhead'));
      metrics?.authResult(result.ok ? 'accepted' : result.reason);
      if (result.ok) return c.json(result, 200);
      const { lockedUntil, ...rest } = result;
      return c.json({ ...rest, ...(lockedUntil !== undefined ? { lockedUntil: iso(lockedUntil) } : {}) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/agent/sessions',
      summary: 'Start an authenticated session: allocate an address; idempotent on agentSessionRef',
      description:
        '201 when created, 200 on a retry of the same agentSessionRef (even once its grant expired). Needs the grant of this session\'s authentication. Refusals: 403 grant-invalid, 409 quota-exceeded, 409 agent-draining, 503 pool-exhausted, 403 method-not-allowed, 404 unknown tenant.',
      security: bearerSecurity,
      request: { body: jsonBody(StartSessionBody) },
      responses: {
        200: jsonResponse(SessionStartedSchema, 'already started (retry)'),
        201: jsonResponse(SessionStartedSchema, 'started'),
        ...errorResponses(400, 401, 403, 404, 409, 503),
      },
    }),
    async (c) => {
      const { session, pool: { pool, block }, created } = await startSession(ctx, c.get('agent'), c.req.valid('json'));
      if (created) metrics?.sessionStarted();
      const body = {
        sessionId: session.sessionId,
        address: session.assignedIp,
        gateway: pool.gateway,
        dns: [...pool.dns],
        poolId: pool.poolId,
        cidr: pool.cidr,
        // The pool as parsed for this start, handed on: the agent routes it without parsing text.
        block: { network: formatIpv4(block.network), prefixLength: block.prefix },
        created,
      };
      return created ? c.json(body, 201) : c.json(body, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/agent/sessions/{sessionId}/interim',
      summary: 'Interim accounting with cumulative counters (never decrease; duplicates harmless)',
      security: bearerSecurity,
      request: { params: SessionParams, body: jsonBody(InterimBody) },
      responses: { 200: jsonResponse(SessionStateSchema, 'recorded'), ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const s = await reportInterim(ctx, c.get('agent'), c.req.valid('param').sessionId, c.req.valid('json').counters);
      return c.json(sessionState(s), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/agent/sessions/{sessionId}/stop',
      summary: 'Stop a session and release its address (idempotent)',
      security: bearerSecurity,
      request: { params: SessionParams, body: jsonBody(StopBody) },
      responses: { 200: jsonResponse(SessionStateSchema, 'stopped'), ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const s = await stopSession(ctx, c.get('agent'), c.req.valid('param').sessionId, c.req.valid('json'));
      metrics?.sessionStopReported(s.endReason ?? c.req.valid('json').reason);
      return c.json(sessionState(s), 200);
    },
  );
}
