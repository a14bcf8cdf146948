/**
 * Reading SSM requests with SSM's own errors: required strings and MaxResults ranges
 * (ValidationException worded as AWS words it), and the page tokens of every SSM listing (the
 * kit's codec; a bad token is `InvalidNextToken`).
 */
import { pageTokens } from '../kit/next-token.js';
import { LocalAwsError } from '../types.js';

export const validation = (message: string) => new LocalAwsError('ValidationException', message);

/** NextToken of SSM's List/Describe/GetParametersByPath answers. */
export const ssmTokens = pageTokens(
  () => new LocalAwsError('InvalidNextToken', 'The specified token is not valid.'),
);

/** A member that must be a non-empty string. @throws ValidationException "Member must not be null". */
export function requireString(input: Record<string, unknown>, name: string): string {
  const value = input[name];
  if (typeof value !== 'string' || value.length === 0) {
    throw validation(
      `1 validation error detected: Value null at '${name[0]!.toLowerCase()}${name.slice(1)}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return value;
}

/** `MaxResults` (or `fallback` when absent). @throws ValidationException outside `min`..`max`. */
export function maxResults(
  input: Record<string, unknown>,
  min: number,
  max: number,
  fallback: number,
): number {
  if (input.MaxResults === undefined) return fallback;
  const n = Number(input.MaxResults);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw validation(
      `1 validation error detected: Value '${String(input.MaxResults)}' at 'maxResults' failed to satisfy constraint: Member must have value between ${min} and ${max}`,
    );
  }
  return n;
}
