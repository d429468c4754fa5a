/** What every scenario gets: the guest, the broker, the seeded tenant and how IPsec is owned. */
import type { LiveBroker } from '../../support/live-broker';
import type { CloudAgent } from '../lib/cloud-agent';
import type { ClientProfile } from '../lib/configs';
import type { Guest } from '../lib/guest';
import type { IpsecMode } from '../lib/server';
import type { AuthMethod, Session } from '../../../functions/src/domain/types';
import { CLIENT_ADDRESSES } from '../lib/topology';
import { E2eError } from '../lib/errors';
import { setTimeout as sleep } from 'node:timers/promises';
import { fixturePassword } from '../../support/fixture-password';

export interface E2eContext {
  readonly guest: Guest;
  readonly broker: LiveBroker;
  readonly tenantId: string;
  readonly psk: string;
  readonly ipsec: IpsecMode;
  /** The agent behind the 1:1 NAT (cloud NAT mode); present when a selected scenario needs it. */
  readonly cloud?: CloudAgent;
  /** Restarts the server's agent with more settings (`{}`: as the run started it); resolves with its start time. */
  readonly server?: { restart(env: Readonly<Record<string, string>>): Promise<number> };
}

/** Session as the API renders it (times as ISO strings). */
export type ApiSession = Pick<Session, 'sessionId' | 'username' | 'state' | 'endReason' | 'assignedIp' | 'authMethod' | 'peerAddress'> & {
  readonly startedAt: string;
  readonly stoppedAt?: string;
  readonly counters: { bytesIn: number; bytesOut: number; packetsIn: number; packetsOut: number };
};

/** Client profile for `user` in namespace `ns`; password fixturePassword(user) unless given. */
export function profile(ctx: E2eContext, ns: string, user: string, method: AuthMethod, extra: Partial<ClientProfile> = {}): ClientProfile {
  return {
    localAddress: CLIENT_ADDRESSES[ns] ?? '',
    username: `${user}@${ctx.tenantId}`,
    password: fixturePassword(user),
    method,
    ...(ctx.ipsec === 'off' ? {} : { psk: ctx.psk }),
    ...extra,
  };
}

export async function listSessions(ctx: E2eContext, username: string): Promise<ApiSession[]> {
  const reply = await ctx.broker.admin<{ items: ApiSession[] }>('GET', `/v1/sessions?tenantId=${ctx.tenantId}&username=${username}&limit=100`);
  if (reply.status !== 200) throw new E2eError(`GET /v1/sessions: ${reply.status} ${JSON.stringify(reply.body)}`);
  return reply.body.items;
}

/** Polls until `probe` finds something or the timeout (times the backend's time scale) passes. */
export async function waitFor<T>(ctx: { readonly guest: Pick<Guest, 'scale'> }, what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const until = Date.now() + timeoutMs * ctx.guest.scale;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > until) throw new E2eError(`timed out after ${Math.round(timeoutMs * ctx.guest.scale)} ms waiting for ${what}`);
    await sleep(300);
  }
}

export function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new E2eError(message);
}

export const seconds = (ms: number | undefined): string => (ms === undefined ? '-' : `${(ms / 1000).toFixed(1)}s`);
