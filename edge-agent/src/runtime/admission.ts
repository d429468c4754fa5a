/**
 * Whether the agent takes a new call (an ICRQ): a pure rule over the agent's state, like the
 * broker's placement, so every refusal reason is testable without a tunnel.
 */
import type { CallRefusal } from './agent-events';

export interface AdmissionState {
  readonly stopping: boolean;
  readonly revoked: boolean;
  readonly draining: boolean;
  /** Live sessions plus accepted calls still waiting for their ICCN. */
  readonly active: number;
  readonly capacity: number;
  /** Accepted calls waiting for their ICCN on the tunnel asking. */
  readonly pendingOnTunnel: number;
  readonly maxPendingPerTunnel: number;
}

/** `why` is the log's wording; `reason` the bounded code metrics count it under. */
export type Admission = { readonly admit: true } | { readonly admit: false; readonly why: string; readonly reason: CallRefusal };

/** The first reason that applies, in order of what an operator most needs to know. */
export function admitCall(s: AdmissionState): Admission {
  if (s.stopping) return { admit: false, why: 'shutting down', reason: 'shutting-down' };
  if (s.revoked) return { admit: false, why: 'revoked', reason: 'revoked' };
  if (s.draining) return { admit: false, why: 'draining', reason: 'draining' };
  // A tunnel flooding ICRQs without ICCNs must not take the capacity of every other client.
  if (s.pendingOnTunnel >= s.maxPendingPerTunnel) return { admit: false, why: 'busy: too many calls pending on this tunnel', reason: 'too-many-pending' };
  if (s.active >= s.capacity) return { admit: false, why: 'at capacity', reason: 'at-capacity' };
  return { admit: true };
}
