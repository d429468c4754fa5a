/**
 * A session's id is derived from who started it: the agent and the agent's own reference for the
 * session. So a retried start names the same item, and the start transaction's condition on the
 * session item alone recognises the retry: no separate (agent, ref) -> session pointer item to
 * write per start (DynamoDB's cost is per item written).
 *
 * The id is a UUID (version 8, "custom") made of the first 122 bits of SHA-256 over both parts;
 * the agent's reference is a random UUID, so ids are as unguessable as before and collisions as
 * unlikely as between random UUIDs.
 */
import { createHash } from 'node:crypto';
import type { Store } from './store';
import type { Session } from './types';

/** The id of the session `agentId` started under its reference `agentSessionRef`. */
export function sessionIdFor(agentId: string, agentSessionRef: string): string {
  const hash = createHash('sha256').update(agentId).update('\u0000').update(agentSessionRef).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x80; // version 8
  hash[8] = (hash[8]! & 0x3f) | 0x80; // RFC 9562 variant
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The session this agent started under this reference, if the broker recorded it: how a retried
 * start is recognised when the start itself was refused (sessions-service.ts). Read by its derived
 * id, and only if agent and reference match (an id collision is not a retry).
 */
export async function findSessionStartedBy(store: Pick<Store, 'getSession'>, agentId: string, agentSessionRef: string): Promise<Session | undefined> {
  const found = await store.getSession(sessionIdFor(agentId, agentSessionRef));
  return found?.agentId === agentId && found.agentSessionRef === agentSessionRef ? found : undefined;
}
