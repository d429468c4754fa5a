/**
 * Where a tenant's clients should connect: agents chosen by the placement policy, the tenant's
 * stable DNS name (published by Route 53 in AWS; the API answer is enough locally) and which
 * IPsec PSK revision to use. The PSK itself is never part of the answer.
 */
import { allPages } from '../all-pages';
import { DEFAULT_ALLOW_LEGACY_PROPOSALS } from '../ipsec-settings';
import { BrokerError } from '../../errors';
import type { ServiceContext } from '../service-context';
import { requireTenant } from '../tenants';
import type { Agent } from '../types';
import { candidateAgents, chooseAgents, type PlacementRequest, type RandomSource } from './choose-agents';

/** Missed heartbeats after which an agent is no longer offered to clients. */
export const FRESH_HEARTBEATS = 3;

export interface TenantEndpoint {
  readonly tenantId: string;
  readonly agents: readonly Pick<Agent, 'agentId' | 'region' | 'publicAddress'>[];
  readonly dnsName?: string;
  /** The fleet PSK's name and revision (0 = none set yet); clients get the PSK out of band. */
  readonly ipsec: { readonly pskName: string; readonly pskRevision: number; readonly allowLegacyProposals: boolean };
}

export interface EndpointRequest {
  readonly region?: string;
  readonly count?: number;
}

/** `<tenantId>.vpn.<domain>` (tenant ids are already DNS-label safe: lower-case, digits, '-'). */
export function tenantDnsName(tenantId: string, domain: string | undefined): string | undefined {
  return domain === undefined ? undefined : `${tenantId}.vpn.${domain}`;
}

const allAgents = (ctx: Pick<ServiceContext, 'store'>): Promise<Agent[]> => allPages((page) => ctx.store.listAgents(page));

/**
 * An agent's activeSessions is the count of its last heartbeat; sessions started since then are
 * added (one query per candidate, on the sessions-by-agent index from that heartbeat's time), so
 * a burst of clients between two heartbeats is not sent to an agent that has meanwhile filled up
 * and would refuse them. Sessions ended since then are not subtracted: an estimate on the full side.
 */
async function withRecentStarts(ctx: Pick<ServiceContext, 'store'>, agents: Agent[], request: PlacementRequest): Promise<Agent[]> {
  const candidates = new Set(candidateAgents(agents, request));
  return Promise.all(
    agents.map(async (agent) => {
      if (!candidates.has(agent) || agent.lastHeartbeatAt === undefined) return agent;
      const headroom = agent.capacity - agent.activeSessions;
      const recent = await ctx.store.listSessions({ agentId: agent.agentId, state: 'active', since: agent.lastHeartbeatAt }, { limit: headroom });
      return recent.items.length === 0 ? agent : { ...agent, activeSessions: agent.activeSessions + recent.items.length };
    }),
  );
}

/** Fails with 503 `no-healthy-agent` / `all-agents-full` when nobody can take the tenant's clients. */
export async function tenantEndpoint(
  ctx: Pick<ServiceContext, 'store' | 'clock' | 'config'>,
  tenantId: string,
  request: EndpointRequest,
  random: RandomSource = Math.random,
): Promise<TenantEndpoint> {
  await requireTenant(ctx, tenantId);
  const placementRequest: PlacementRequest = {
    now: ctx.clock.now(),
    freshnessMs: FRESH_HEARTBEATS * ctx.config.heartbeatIntervalSeconds * 1000,
    ...(request.region !== undefined ? { region: request.region } : {}),
    count: request.count ?? 1,
  };
  const agents = await withRecentStarts(ctx, await allAgents(ctx), placementRequest);
  const placement = chooseAgents(agents, placementRequest, random);
  if (!placement.ok) {
    const where = request.region === undefined ? '' : ` in region ${request.region}`;
    const what = placement.reason === 'all-agents-full' ? 'every healthy agent is at capacity' : 'no healthy agent';
    throw new BrokerError('unavailable', placement.reason, `${what}${where}`);
  }
  const settings = await ctx.store.getIpsecSettings();
  const dnsName = tenantDnsName(tenantId, ctx.config.vpnDnsDomain);
  return {
    tenantId,
    agents: placement.agents.map((a) => ({ agentId: a.agentId, region: a.region, publicAddress: a.publicAddress })),
    ...(dnsName !== undefined ? { dnsName } : {}),
    ipsec: { pskName: 'fleet', pskRevision: settings?.revision ?? 0, allowLegacyProposals: settings?.allowLegacyProposals ?? DEFAULT_ALLOW_LEGACY_PROPOSALS },
  };
}
