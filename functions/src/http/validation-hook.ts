import type { ZodError } from 'zod';
import { ValidationError } from '../errors';

/**
 * `defaultHook` of the OpenAPIHono app: a failed zod validation becomes a ValidationError naming
 * the first offending field (dotted path), so the 400 is rendered by the one error handler.
 */
export function validationHook(result: { success: true } | { success: false; error: ZodError; target: string }): void {
  if (result.success) return;
  const issue = result.error.issues[0];
  const field = issue && issue.path.length > 0 ? issue.path.map(String).join('.') : result.target;
  throw new ValidationError(field, `${field}: ${issue?.message ?? 'invalid'}`);
}
