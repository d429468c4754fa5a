import type { ZodError } from 'zod';
import { ValidationError } from '../errors';

/**
 * `defaultHook` of the OpenAPIHono app: a failed zod validation becomes a ValidationError naming
 * the first offending field (dotted path), so the 400 is rendered by the one error handler. An
 * unknown field of a strict (operator) schema is named itself: `{"maxSession": 5}` is a typo to
 * report, not a field to drop (issue 18).
 */
export function validationHook(result: { success: true } | { success: false; error: ZodError; target: string }): void {
  if (result.success) return;
  const issue = result.error.issues[0];
  const path = issue ? issue.path.map(String) : [];
  if (issue?.code === 'unrecognized_keys') {
    const field = [...path, issue.keys[0] ?? ''].join('.');
    throw new ValidationError(field, `${field}: unknown field (accepted: see /openapi.json); check its spelling`);
  }
  const field = path.length > 0 ? path.join('.') : result.target;
  throw new ValidationError(field, `${field}: ${issue?.message ?? 'invalid'}`);
}
