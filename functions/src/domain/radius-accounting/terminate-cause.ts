/**
 * Acct-Terminate-Cause (RFC 2866 §5.10) for each of our end reasons (contract/src/values.ts). A
 * total table: a new end reason does not compile until it has its cause here.
 */
import type { EndReason } from '../types';

/** The Acct-Terminate-Cause values RFC 2866 §5.10 defines that we use. */
export const TerminateCause = {
  UserRequest: 1,
  LostCarrier: 2,
  LostService: 3,
  IdleTimeout: 4,
  SessionTimeout: 5,
  AdminReset: 6,
  AdminReboot: 7,
  NasError: 9,
  ServiceUnavailable: 15,
  UserError: 17,
} as const;

export const TERMINATE_CAUSES: Readonly<Record<EndReason, number>> = {
  // The client hung up: LCP Terminate-Request or CDN from its side.
  'user-request': TerminateCause.UserRequest,
  'idle-timeout': TerminateCause.IdleTimeout,
  // The RADIUS Session-Timeout of the Access-Accept ran out (RFC 2865 §5.27).
  'session-timeout': TerminateCause.SessionTimeout,
  // LCP echoes went unanswered: the link to the client is gone.
  'lcp-timeout': TerminateCause.LostCarrier,
  // The operator ended it (DELETE of the session) or revoked the agent, deleted or disabled the user, deleted the tenant.
  'admin-disconnect': TerminateCause.AdminReset,
  'agent-revoked': TerminateCause.AdminReset,
  'user-deleted': TerminateCause.AdminReset,
  'user-disabled': TerminateCause.AdminReset,
  'tenant-deleted': TerminateCause.AdminReset,
  // The peer's re-authentication failed: an error on the user's side.
  'auth-failure': TerminateCause.UserError,
  // No address or no quota left for it: the service cannot be given.
  'pool-exhausted': TerminateCause.ServiceUnavailable,
  'quota-exceeded': TerminateCause.ServiceUnavailable,
  // The agent (our NAS) was drained or scaled in: "ending service on the NAS" (§5.10 Admin Reboot).
  'agent-shutdown': TerminateCause.AdminReboot,
  // The broker lost the agent: the service could no longer be provided.
  'agent-lost': TerminateCause.LostService,
  // The L2TP tunnel under the session closed (StopCCN or its retransmissions failed).
  'tunnel-closed': TerminateCause.LostCarrier,
  'error': TerminateCause.NasError,
};

/** The Acct-Terminate-Cause of an end reason. */
export function terminateCause(reason: EndReason): number {
  return TERMINATE_CAUSES[reason];
}
