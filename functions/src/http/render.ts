/** Domain records -> API JSON: times as ISO-8601, secrets and hashes never included. */
import { disconnectConfirmedAt } from '../domain/sessions-service';
import { effectivePolicy } from '../domain/password-policy';
import type { Agent, AgentCommand, ApiKey, AuditEvent, AuthEvent, Pool, Session, Tenant, User } from '../domain/types';

export const iso = (ms: number): string => new Date(ms).toISOString();
const optIso = <K extends string>(key: K, ms: number | undefined): { [P in K]?: string } =>
  (ms === undefined ? {} : { [key]: iso(ms) }) as { [P in K]?: string };

export function renderTenant(t: Tenant) {
  return {
    tenantId: t.tenantId,
    name: t.name,
    authMethods: [...t.authMethods],
    ...(t.maxSessions !== undefined ? { maxSessions: t.maxSessions } : {}),
    ...(t.maxSessionsPerUser !== undefined ? { maxSessionsPerUser: t.maxSessionsPerUser } : {}),
    passwordPolicy: { ...effectivePolicy(t.passwordPolicy) },
    authSource: t.authSource?.kind ?? 'local',
    createdAt: iso(t.createdAt),
    ...optIso('updatedAt', t.updatedAt),
  };
}

/** A tenant's authentication source without its secrets (only that one is set). */
export function renderAuthSource(t: Tenant) {
  const source = t.authSource ?? { kind: 'local' as const };
  if (source.kind === 'local') return { tenantId: t.tenantId, kind: 'local' as const };
  return {
    tenantId: t.tenantId,
    kind: 'radius' as const,
    servers: source.servers.map((s) => ({ host: s.host, port: s.port, timeoutMs: s.timeoutMs, retries: s.retries, secretSet: true as const })),
    userName: source.userName,
  };
}

export function renderUser(u: User, now: number) {
  return {
    tenantId: u.tenantId,
    username: u.username,
    ...(u.staticIp !== undefined ? { staticIp: u.staticIp } : {}),
    disabled: u.disabled ?? false,
    chapMd5: u.credentials.chapSecret !== undefined,
    createdAt: iso(u.createdAt),
    failedAttempts: u.failedAttempts,
    locked: u.lockedUntil !== undefined && u.lockedUntil > now,
    ...optIso('lockedUntil', u.lockedUntil),
    ...optIso('lastFailureAt', u.lastFailureAt),
    ...(u.lastFailureReason !== undefined ? { lastFailureReason: u.lastFailureReason } : {}),
    ...optIso('updatedAt', u.updatedAt),
  };
}

export function renderAuthEvent(e: AuthEvent) {
  return {
    at: iso(e.at),
    kind: e.kind,
    method: e.method,
    reason: e.reason,
    ...(e.agentId !== undefined ? { agentId: e.agentId } : {}),
    ...(e.source !== undefined ? { source: e.source } : {}),
  };
}

export function renderPool(p: Pool) {
  return {
    tenantId: p.tenantId,
    poolId: p.poolId,
    cidr: p.cidr,
    exclude: p.exclude.map((r) => ({ first: r.first, last: r.last })),
    dns: [...p.dns],
    gateway: p.gateway,
    ...(p.allowPublic ? { allowPublic: true } : {}),
    createdAt: iso(p.createdAt),
  };
}

export function renderSession(s: Session) {
  return {
    sessionId: s.sessionId,
    tenantId: s.tenantId,
    username: s.username,
    agentId: s.agentId,
    agentSessionRef: s.agentSessionRef,
    tunnelId: s.tunnelId,
    l2tpSessionId: s.l2tpSessionId,
    ...(s.peerAddress !== undefined ? { peerAddress: s.peerAddress } : {}),
    ...(s.ipsecSa !== undefined ? { ipsecSa: s.ipsecSa } : {}),
    authMethod: s.authMethod,
    poolId: s.poolId,
    assignedIp: s.assignedIp,
    state: s.state,
    startedAt: iso(s.startedAt),
    updatedAt: iso(s.updatedAt),
    ...optIso('stoppedAt', s.stoppedAt),
    ...(s.endReason !== undefined ? { endReason: s.endReason } : {}),
    ...optIso('disconnectRequestedAt', s.disconnectRequestedAt),
    ...optIso('disconnectConfirmedAt', disconnectConfirmedAt(s)),
    ...(s.disconnectReason !== undefined ? { disconnectReason: s.disconnectReason } : {}),
    counters: { bytesIn: s.bytesIn, bytesOut: s.bytesOut, packetsIn: s.packetsIn, packetsOut: s.packetsOut },
  };
}

export function renderAgent(a: Agent) {
  return {
    agentId: a.agentId,
    name: a.name,
    region: a.region,
    state: a.state,
    revoked: a.revoked,
    ...(a.publicAddress !== undefined ? { publicAddress: a.publicAddress } : {}),
    capacity: a.capacity,
    ...(a.enrolledCapacity !== undefined ? { enrolledCapacity: a.enrolledCapacity } : {}),
    ...(a.networks !== undefined ? { networks: [...a.networks] } : {}),
    ...(a.nudgePort ? { nudgePort: a.nudgePort } : {}),
    activeSessions: a.activeSessions,
    ...(a.state === 'draining' ? optIso('drainDeadline', a.drainDeadline) : {}),
    ...optIso('lastHeartbeatAt', a.lastHeartbeatAt),
    ...optIso('registeredAt', a.registeredAt),
    ...(a.version !== undefined ? { version: a.version } : {}),
    counters: { ...a.counters },
    createdAt: iso(a.createdAt),
  };
}

export function renderApiKey(k: ApiKey, now: number) {
  return {
    keyId: k.keyId,
    scope: k.scope,
    ...(k.tenantId !== undefined ? { tenantId: k.tenantId } : {}),
    name: k.name,
    revoked: k.revoked,
    createdAt: iso(k.createdAt),
    ...optIso('expiresAt', k.validUntil),
    expired: k.validUntil !== undefined && now >= k.validUntil,
  };
}

export function renderAuditEvent(e: AuditEvent) {
  return {
    eventId: e.eventId,
    at: iso(e.at),
    actor: e.actor,
    action: e.action,
    target: e.target,
    ...(e.tenantId !== undefined ? { tenantId: e.tenantId } : {}),
    ...(e.created !== undefined ? { created: { ...e.created } } : {}),
    fields: [...e.fields],
    status: e.status,
    ...(e.requestId !== undefined ? { requestId: e.requestId } : {}),
  };
}

export function renderCommand(cmd: AgentCommand) {
  switch (cmd.type) {
    case 'disconnect-session':
      return { commandId: cmd.commandId, type: cmd.type, sessionId: cmd.sessionId, createdAt: iso(cmd.createdAt) };
    case 'drain':
      return { commandId: cmd.commandId, type: cmd.type, deadline: iso(cmd.deadline), createdAt: iso(cmd.createdAt) };
    case 'reload-settings':
      return { commandId: cmd.commandId, type: cmd.type, createdAt: iso(cmd.createdAt) };
  }
}
