import type { MiddlewareHandler } from 'hono';
import { runIdempotent } from '../domain/idempotency';
import type { ServiceContext } from '../domain/service-context';
import type { Agent } from '../domain/types';
import { ValidationError } from '../errors';
import type { AppEnv, OperatorPrincipal } from './context';

/**
 * Optional `Idempotency-Key` on POST: the first 2xx answer is stored per caller and replayed
 * (with `Idempotent-Replayed: true`) for the same key and body; a different body is 409. An answer
 * that carried a credential is not stored: its replay is 409 `credential-not-replayed`.
 * Must run after authentication (the caller is part of the key).
 */
export function idempotencyMiddleware(ctx: ServiceContext): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const key = c.req.header('idempotency-key');
    if (c.req.method !== 'POST' || key === undefined) return next();
    if (!/^[\x21-\x7e]{1,255}$/.test(key)) {
      throw new ValidationError('Idempotency-Key', 'Idempotency-Key: 1..255 visible ASCII characters');
    }
    const agent = c.var.agent as Agent | undefined;
    const operator = c.var.operator as OperatorPrincipal | undefined;
    const scope = agent ? `agent:${agent.agentId}` : (operator?.id ?? 'anonymous');
    const fingerprint = `${c.req.method} ${c.req.path}\n${await c.req.text()}`;
    const result = await runIdempotent(ctx, { scope, key, fingerprint }, async () => {
      await next(); // errors are already rendered into c.res by onError, so they are not stored
      return { status: c.res.status, body: await c.res.clone().text() };
    });
    if (result.replayed) {
      return new Response(result.body, {
        status: result.status,
        headers: { 'content-type': 'application/json', 'idempotent-replayed': 'true' },
      });
    }
    return undefined;
  };
}
