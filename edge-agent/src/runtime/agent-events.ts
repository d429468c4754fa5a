/**
 * Session life events the agent announces to an optional observer (the metrics module). The agent
 * owns the interface so it depends on nothing of its observers; every call is synchronous and cheap.
 */
import type { EndReason } from '../../../contract/src/values';

/** Why an incoming call (ICRQ) was refused, or a call accepted but never connected. Bounded set. */
export type CallRefusal = 'shutting-down' | 'revoked' | 'draining' | 'at-capacity' | 'too-many-pending' | 'no-iccn';

export interface AgentEvents {
  /** The session's link is up and routed (IPCP opened). */
  sessionUp(session: object): void;
  /** The session ended with `reason` (called once per session, whether or not it was ever up). */
  sessionEnded(session: object, reason: EndReason): void;
  /** A call never became a session. */
  callRefused(reason: CallRefusal): void;
}
