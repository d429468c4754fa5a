/**
 * A tenant's authentication source (docs/radius.md): `local` (the broker's user table, the default)
 * or `radius`, an ordered list of servers tried in turn (failover order = list order). Each
 * server's shared secret is sealed with the secret box like the IPsec PSK, bound to the tenant
 * (a sealed secret copied onto another tenant does not open), and never rendered.
 */
import { ValidationError } from '../../errors';
import { PADDED_SECRET_BYTES } from '../ppp-auth';
import type { ServiceContext } from '../service-context';
import type { RadiusServerSetting, RadiusUserNameForm, Tenant, TenantAuthSource } from '../types';
import { requireTenant } from '../tenants';

export { RADIUS_USER_NAME_FORMS, type RadiusServerSetting, type RadiusUserNameForm, type TenantAuthSource } from '../types';

export interface RadiusServerInput {
  readonly host: string;
  readonly port?: number;
  readonly secret: string;
  readonly timeoutMs?: number;
  readonly retries?: number;
}

export type AuthSourceInput =
  | { readonly kind: 'local' }
  | { readonly kind: 'radius'; readonly servers: readonly RadiusServerInput[]; readonly userName?: RadiusUserNameForm };

export const RADIUS_DEFAULT_PORT = 1812;
export const RADIUS_DEFAULT_TIMEOUT_MS = 2_000;
export const RADIUS_DEFAULT_RETRIES = 1;
export const RADIUS_MAX_SERVERS = 4;
/**
 * The longest a whole exchange may wait (every server, every retransmission): it has to end well
 * inside the broker's request timeout and the agent's call, or a dead server would look like a
 * broker fault instead of `radius-unavailable`.
 */
export const RADIUS_MAX_WAIT_MS = 8_000;

const secretContext = (tenantId: string) => `radius-secret:${tenantId}`;

/** The worst-case wait of a server list: each server's transmissions times its timeout. */
export function worstCaseWaitMs(servers: readonly { timeoutMs: number; retries: number }[]): number {
  return servers.reduce((sum, s) => sum + s.timeoutMs * (1 + s.retries), 0);
}

/** Sets a tenant's authentication source (secrets sealed). ValidationError when the wait budget is exceeded. */
export async function setAuthSource(ctx: Pick<ServiceContext, 'store' | 'clock' | 'secretBox'>, tenantId: string, input: AuthSourceInput): Promise<Tenant> {
  await requireTenant(ctx, tenantId);
  let authSource: TenantAuthSource;
  if (input.kind === 'local') {
    authSource = { kind: 'local' };
  } else {
    const servers = input.servers.map((s) => ({
      host: s.host,
      port: s.port ?? RADIUS_DEFAULT_PORT,
      timeoutMs: s.timeoutMs ?? RADIUS_DEFAULT_TIMEOUT_MS,
      retries: s.retries ?? RADIUS_DEFAULT_RETRIES,
      secret: ctx.secretBox.encrypt(s.secret, secretContext(tenantId), { padTo: PADDED_SECRET_BYTES }),
    }));
    const wait = worstCaseWaitMs(servers);
    if (wait > RADIUS_MAX_WAIT_MS) {
      throw new ValidationError('servers', `the servers' timeouts and retries add up to ${wait} ms; at most ${RADIUS_MAX_WAIT_MS} ms`);
    }
    authSource = { kind: 'radius', servers, userName: input.userName ?? 'as-sent' };
  }
  return ctx.store.updateTenant(tenantId, { authSource, updatedAt: ctx.clock.now() });
}

/** The source in force: `local` when none was set. */
export function authSourceOf(tenant: Tenant): TenantAuthSource {
  return tenant.authSource ?? { kind: 'local' };
}

/** A server's shared secret, opened (for the exchange only; never logged or rendered). */
export function openRadiusSecret(ctx: Pick<ServiceContext, 'secretBox'>, tenantId: string, server: RadiusServerSetting): Buffer {
  return ctx.secretBox.decrypt(server.secret, secretContext(tenantId));
}
