/**
 * Input parsing with the one schema of each input: a bad field becomes an InvalidRequestError that
 * names the field and the rule. Used by the handlers, the CLI and the planner alike (no Lambda
 * machinery here, so domain code can parse without pulling in middy or the logger).
 */
import type { z } from 'zod';
import { InvalidRequestError } from './errors.js';

/** Formats zod issues as `field: rule` lines. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || '(input)'}: ${issue.message}`).join('; ');
}

/**
 * Parses `input` with `schema`.
 * @throws InvalidRequestError naming each field and rule.
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, what = 'input'): z.infer<S> {
  const result = schema.safeParse(input);
  if (!result.success) {
    throw new InvalidRequestError(`Invalid ${what}: ${describeIssues(result.error)}`, {
      cause: result.error,
    });
  }
  return result.data;
}
