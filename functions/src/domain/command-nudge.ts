/**
 * Command nudges (contract/src/command-nudge.ts): right after queueing a command for an agent the
 * broker sends it one authenticated UDP datagram meaning "fetch your commands now", so an operator's
 * disconnect reaches the agent in well under a second instead of at its next heartbeat. The nudge
 * carries no command and its loss costs only time (the heartbeat is the fallback), so sending is
 * best effort: bounded, and never failing the operator's request.
 *
 * The per-agent key is derived (HKDF-SHA256) from the broker's current data key and the agent id,
 * and handed to the agent in its registration and heartbeat answers over its authenticated HTTPS
 * connection. So no new secret is stored anywhere: the table holds no nudge key (reading the table
 * does not let anyone forge nudges), every broker instance derives the same key, and a data-key
 * rotation reaches each agent with its next heartbeat (the agent accepts the previous key meanwhile).
 */
import { hkdfSync } from 'node:crypto';
import { encodeNudge, NUDGE_KEY_BYTES, NUDGE_NONCE_BYTES } from '../../../contract/src/command-nudge';
import type { NudgeKeys, NudgeSender, ServiceContext } from './service-context';

export type { NudgeKeys, NudgeSender };
import type { Agent, DataKey } from './types';

export function createNudgeKeys(dataKeys: readonly DataKey[]): NudgeKeys {
  const current = dataKeys[0];
  if (current === undefined) throw new Error('no data key to derive nudge keys from');
  const master = Buffer.from(current.keyBase64, 'base64');
  const cache = new Map<string, Uint8Array>();
  return (agentId) => {
    let key = cache.get(agentId);
    if (key === undefined) {
      key = Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), `tunnel-broker command nudge v1 ${agentId}`, NUDGE_KEY_BYTES));
      if (cache.size >= 10_000) cache.clear();
      cache.set(agentId, key);
    }
    return key;
  };
}

/** The key to hand an agent that listens for nudges (registration and heartbeat answers), base64. */
export function nudgeKeyFor(ctx: Pick<ServiceContext, 'nudgeKeys'>, agent: Pick<Agent, 'agentId' | 'nudgePort'>): string | undefined {
  if (!ctx.nudgeKeys || !agent.nudgePort) return undefined;
  return Buffer.from(ctx.nudgeKeys(agent.agentId)).toString('base64');
}

/** What nudging needs; without a sender, keys or randomness (e.g. a unit test's context) nothing is sent. */
export type NudgeContext = Pick<ServiceContext, 'store' | 'clock'> & Partial<Pick<ServiceContext, 'random' | 'nudgeKeys' | 'nudgeSender'>>;

/**
 * Nudges the agent to fetch its commands now, when it listens for nudges. Best effort: any failure
 * (the agent record unreadable, the datagram unsendable) is swallowed; the heartbeat delivers the
 * command anyway. `agent` may be the record the caller already holds (spares a read).
 */
export async function nudgeAgent(ctx: NudgeContext, agent: string | Agent): Promise<void> {
  if (!ctx.nudgeSender || !ctx.nudgeKeys || !ctx.random) return;
  try {
    const record = typeof agent === 'string' ? await ctx.store.getAgent(agent) : agent;
    if (!record || record.revoked || !record.nudgePort || record.publicAddress === undefined) return;
    const datagram = encodeNudge(
      { agentId: record.agentId, sentAt: ctx.clock.now(), nonce: ctx.random(NUDGE_NONCE_BYTES) },
      ctx.nudgeKeys(record.agentId),
    );
    await ctx.nudgeSender.send(datagram, record.nudgePort, record.publicAddress);
  } catch {
    // A nudge is an optimisation; the command is queued and the next heartbeat fetches it.
  }
}
