import type { z } from '@hono/zod-openapi';
import { ErrorSchema } from './schemas';

/** A required JSON request body. */
export function jsonBody<T extends z.ZodType>(schema: T) {
  return { required: true, content: { 'application/json': { schema } } } as const;
}

/** A JSON response. */
export function jsonResponse<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { 'application/json': { schema } } } as const;
}

const ERROR_TEXT = {
  400: 'validation failed (error.field names the field)',
  401: 'missing or invalid credentials',
  403: 'credential not allowed here',
  404: 'not found (also for other tenants\' resources)',
  409: 'conflict',
  413: 'body too large',
  415: 'the body is not JSON (Content-Type: application/json)',
  503: 'unavailable (store down, pool exhausted)',
} as const;

/** Documented error responses (all rendered by the one error handler). */
export function errorResponses<const S extends keyof typeof ERROR_TEXT>(...statuses: S[]) {
  return Object.fromEntries(statuses.map((s) => [s, jsonResponse(ErrorSchema, ERROR_TEXT[s])])) as {
    [K in S]: ReturnType<typeof jsonResponse<typeof ErrorSchema>>;
  };
}

export const bearerSecurity = [{ bearer: [] as string[] }];
