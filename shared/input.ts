/**
 * Input parsing with the one schema of each input: a bad field becomes an InvalidRequestError that
 * names the field and the rule. Used by the handlers, the CLI and the planner alike (no Lambda
 * machinery here, so domain code can parse without pulling in middy or the logger).
 */
import type * as z from 'zod';
import { InvalidRequestError } from './errors.js';

/**
 * The field and rule of each zod issue; an unknown key is named as its own field (zod reports it
 * on the object that holds it). `root` names the input itself.
 */
export function issueFields(error: z.ZodError, root = '(input)'): { field: string; rule: string }[] {
  return error.issues.flatMap((issue) => {
    const path = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ field: path ? `${path}.${key}` : key, rule: 'unknown field' }));
    }
    return [{ field: path || root, rule: issue.message }];
  });
}

/** Formats zod issues as `field: rule` lines. */
export function describeIssues(error: z.ZodError): string {
  return issueFields(error)
    .map(({ field, rule }) => `${field}: ${rule}`)
    .join('; ');
}

/**
 * Parses `input` with `schema`.
 * @throws InvalidRequestError naming each field and rule.
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, what = 'input'): z.infer<S> {
  const result = schema.safeParse(input);
  if (!result.success) {
    const issues = issueFields(result.error);
    throw new InvalidRequestError(`Invalid ${what}: ${describeIssues(result.error)}`, {
      cause: result.error,
      details: { field: issues[0]!.field, rule: issues[0]!.rule, issues },
    });
  }
  return result.data;
}
