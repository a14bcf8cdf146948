/**
 * Reading EC2 query parameters (`nestParams` output): lists, strings, booleans and integers with
 * EC2's InvalidParameterValue for a malformed one, `Filter.N` lists checked against the filter
 * names an action accepts, and the DryRunOperation answer.
 */
import type { NestedParams } from '../protocols/query.js';
import { LocalAwsError } from '../types.js';

export function asList(value: unknown): NestedParams[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).filter((v) => v !== undefined) as NestedParams[];
}

export function asStrings(value: unknown): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).filter((v) => v !== undefined).map(String);
}

export function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function bool(value: unknown, name: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new LocalAwsError(
    'InvalidParameterValue',
    `Value (${String(value)}) for parameter ${name} is invalid. Expected a boolean.`,
  );
}

export function int(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n)) {
    throw new LocalAwsError(
      'InvalidParameterValue',
      `Value (${String(value)}) for parameter ${name} is invalid. Expected an integer.`,
    );
  }
  return n;
}

export function filtersOf(p: NestedParams, allowed: Set<string>): { name: string; values: string[] }[] {
  return asList(p.Filter).map((f) => {
    const name = str(f.Name);
    if (!name) throw new LocalAwsError('InvalidParameterValue', 'The filter name must not be empty');
    if (!allowed.has(name) && !name.startsWith('tag:')) {
      throw new LocalAwsError('InvalidParameterValue', `The filter '${name}' is invalid`);
    }
    return { name, values: asStrings(f.Value) };
  });
}

/** What EC2 answers a valid request sent with DryRun=true. */
export function dryRunSucceeded(): LocalAwsError {
  return new LocalAwsError('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.', 412);
}
