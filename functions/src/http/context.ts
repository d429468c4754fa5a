import type { Logger } from 'pino';
import type { AuthReads } from '../domain/auth-service';
import type { Agent } from '../domain/types';

/** Who is calling an operator route. Tenant-scoped callers only ever see their own tenant. */
export type OperatorPrincipal =
  | { readonly kind: 'operator'; readonly id: string; readonly scope: 'fleet' }
  | { readonly kind: 'operator'; readonly id: string; readonly scope: 'tenant'; readonly tenantId: string };

/** Hono environment of the broker app: per-request values set by middleware. */
export interface AppEnv {
  Variables: {
    requestId: string;
    log: Logger;
    operator: OperatorPrincipal;
    agent: Agent;
    /** The reads POST /v1/agent/authenticate started alongside the credential check (auth.ts). */
    authReadAhead: AuthReads | undefined;
    /** The tenant an operator action concerned when its path does not name it (audit-log.ts). */
    auditTenantId: string | undefined;
  };
}
