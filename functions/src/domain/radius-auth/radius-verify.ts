/**
 * Verifies one relayed PPP authentication with a tenant's RADIUS servers: builds the
 * Access-Request (access-request.ts), runs the exchange over the injected client (in production
 * functions/src/radius/client.ts: retransmission, failover, Message-Authenticator required), and
 * reads the answer. Never throws for what a server or the peer sent.
 */
import { encodeAccessRequest, type BuildRequest, type RadiusEndpoint } from '../../radius';
import type { RadiusExchange } from './types';

export type { RadiusExchange } from './types';
import type { AuthRequest } from '../auth-request';
import type { RandomBytes } from '../bearer-tokens';
import type { SecretBox } from '../ppp-auth';
import type { TenantAuthSource } from '../types';
import { accessRequestParts, readAnswer, type AcceptGrant } from './access-request';
import type { NasIdentity } from './types';
import { openRadiusSecret } from './auth-source';

export type RadiusVerdict =
  | { readonly kind: 'accept'; readonly grant: AcceptGrant; readonly serverIndex: number }
  | { readonly kind: 'reject'; readonly disabled?: true }
  /** No server answered at all: an outage. */
  | { readonly kind: 'unavailable' }
  /** Servers answered, but no answer passed the checks (missing/bad Message-Authenticator, wrong secret). */
  | { readonly kind: 'refused'; readonly detail: string }
  /** An answer that verified but cannot be used (Access-Challenge, MS-CHAPv2 without MS-CHAP2-Success). */
  | { readonly kind: 'bad-answer'; readonly detail: string }
  /** The peer's input cannot be put in a request (e.g. a password over 128 bytes). */
  | { readonly kind: 'malformed'; readonly detail: string };

export interface RadiusVerifyDeps {
  readonly radius: RadiusExchange;
  readonly secretBox: SecretBox;
  readonly random: RandomBytes;
  readonly nas: NasIdentity;
}

/** Asks the tenant's servers, in order, about `request` sent as `userName`. */
export async function verifyWithRadius(
  deps: RadiusVerifyDeps,
  tenantId: string,
  source: Extract<TenantAuthSource, { kind: 'radius' }>,
  request: AuthRequest,
  userName: string,
): Promise<RadiusVerdict> {
  const parts = accessRequestParts(request, userName, deps.nas);
  if ('kind' in parts) return { kind: 'malformed', detail: parts.message };
  const endpoints: RadiusEndpoint[] = source.servers.map((s) => ({
    host: s.host,
    port: s.port,
    secret: openRadiusSecret(deps, tenantId, s),
    timeoutMs: s.timeoutMs,
    retries: s.retries,
  }));
  const build: BuildRequest = (server, identifier) =>
    encodeAccessRequest({
      identifier,
      secret: server.secret,
      requestAuthenticator: deps.random(16),
      attributes: parts.attributes,
      ...(parts.password !== undefined ? { password: parts.password } : {}),
    });
  const result = await deps.radius.exchange(endpoints, build);
  if (!result.ok) {
    if (result.reason === 'encode-error') return { kind: 'malformed', detail: result.error?.message ?? 'cannot encode' };
    if (result.reason === 'refused') {
      const why = [...new Set(result.attempts.flatMap((a) => a.refusals))].join(', ');
      return { kind: 'refused', detail: why };
    }
    return { kind: 'unavailable' };
  }
  const answer = readAnswer(result.packet, request.method);
  if (answer.kind === 'accept') return { kind: 'accept', grant: answer.grant, serverIndex: result.serverIndex };
  return answer;
}
