/** Builders of valid domain records for store tests (override what a test cares about). */
import { sessionIdFor } from '../../functions/src/domain/session-id';
import type { Agent, Pool, Session, Tenant, User, Lease } from '../../functions/src/domain/types';

export const tenant = (o: Partial<Tenant> = {}): Tenant => ({
  tenantId: 'acme',
  name: 'Acme',
  authMethods: ['mschapv2', 'pap'],
  createdAt: 1_000,
  ...o,
});

export const user = (o: Partial<User> = {}): User => ({
  tenantId: 'acme',
  username: 'alice',
  credentials: { ntHash: '0'.repeat(32) },
  createdAt: 1_000,
  failedAttempts: 0,
  ...o,
});

export const pool = (o: Partial<Pool> = {}): Pool => ({
  tenantId: 'acme',
  poolId: 'main',
  cidr: '10.8.0.0/24',
  exclude: [],
  dns: ['1.1.1.1'],
  gateway: '10.8.0.1',
  createdAt: 1_000,
  ...o,
});

export const agent = (o: Partial<Agent> = {}): Agent => ({
  agentId: 'agent-1',
  name: 'edge one',
  region: 'eu-west-1',
  tokenHash: 'f'.repeat(64),
  state: 'active',
  revoked: false,
  capacity: 100,
  activeSessions: 0,
  counters: { bytesIn: 0, bytesOut: 0, packetsIn: 0, packetsOut: 0 },
  createdAt: 1_000,
  ...o,
});

let n = 0;
/** A session; its id is derived from agent and ref, as the store requires (domain/session-id.ts). */
export const session = (o: Partial<Session> = {}): Session => {
  n++;
  const s: Session = {
    sessionId: '',
    tenantId: 'acme',
    username: 'alice',
    agentId: 'agent-1',
    agentSessionRef: `ref-${n}-${Math.random().toString(36).slice(2, 8)}`,
    tunnelId: 1,
    l2tpSessionId: n,
    authMethod: 'mschapv2',
    poolId: 'main',
    assignedIp: `10.8.0.${(n % 250) + 2}`,
    startedAt: 10_000 + n,
    updatedAt: 10_000 + n,
    state: 'active',
    bytesIn: 0,
    bytesOut: 0,
    packetsIn: 0,
    packetsOut: 0,
    ...o,
  };
  return o.sessionId !== undefined ? s : { ...s, sessionId: sessionIdFor(s.agentId, s.agentSessionRef) };
};

export const leaseFor = (s: Session, o: Partial<Lease> = {}): Lease => ({
  tenantId: s.tenantId,
  poolId: s.poolId,
  ip: s.assignedIp,
  sessionId: s.sessionId,
  leasedAt: s.startedAt,
  ...o,
});
