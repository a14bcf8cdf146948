/**
 * ASL placeholder rules, shared by packaging (scripts/sls/state-machines.cjs), the unit tests and
 * the local cloud: `statemachines/*.asl.json` name AWS resources only through `${Name}` placeholders.
 *
 * - `${<PascalName>FunctionArn}` is the ARN of the serverless function `<kebab-name>` (the folder
 *   `functions/<kebab-name>/`), e.g. `${LaunchInstanceFunctionArn}` -> `launch-instance`.
 * - Every other `${Name}` must be a key of `custom.aslSubstitutions` in serverless.yml (the one
 *   substitution map), whose value is a CloudFormation value (`!Ref`, `!GetAtt`, `Fn::Sub`, or a string).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

export const PLACEHOLDER = /\$\{([A-Za-z0-9]+)\}/g;
const FUNCTION_ARN = /^([A-Z][A-Za-z0-9]*)FunctionArn$/;

export type AslDefinition = Record<string, unknown>;

/** `LaunchInstance` -> `launch-instance` (the function key and folder name). */
export function kebabCase(pascal: string): string {
  return pascal.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
}

/** `launch-instance` -> `LaunchInstance`. */
export function pascalCase(kebab: string): string {
  return kebab.replace(/(^|-)([a-z0-9])/g, (_, _dash, c: string) => c.toUpperCase());
}

/** The function key a placeholder names (`LaunchInstanceFunctionArn` -> `launch-instance`), or undefined. */
export function functionKeyOf(placeholder: string): string | undefined {
  const match = FUNCTION_ARN.exec(placeholder);
  return match ? kebabCase(match[1]!) : undefined;
}

/** The placeholder of a function key (`launch-instance` -> `LaunchInstanceFunctionArn`). */
export function functionPlaceholder(functionKey: string): string {
  return `${pascalCase(functionKey)}FunctionArn`;
}

/** Every placeholder name used in a definition (sorted, unique). */
export function placeholdersOf(definition: unknown): string[] {
  const names = new Set<string>();
  for (const match of JSON.stringify(definition).matchAll(PLACEHOLDER)) names.add(match[1]!);
  return [...names].sort();
}

/**
 * Replaces every placeholder in the string values of `definition`: a string that is exactly one
 * placeholder becomes `lookup(name)` (any JSON or CloudFormation value); a placeholder inside a
 * longer string is spliced in when the value is a string, and otherwise the whole string becomes
 * `{ 'Fn::Sub': [text, { name: value }] }`.
 * @throws Error naming the placeholders `lookup` returns undefined for.
 */
export function substitute<T>(definition: T, lookup: (name: string) => unknown): T {
  const missing = new Set<string>();
  const visit = (value: unknown): unknown => {
    if (typeof value === 'string') return substituteString(value, lookup, missing);
    if (Array.isArray(value)) return value.map(visit);
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, visit(v)]));
    }
    return value;
  };
  const result = visit(definition) as T;
  if (missing.size > 0) {
    throw new Error(
      `No substitution for ${[...missing].map((n) => `\${${n}}`).join(', ')}: add a function for *FunctionArn placeholders, or an entry to custom.aslSubstitutions in serverless.yml`,
    );
  }
  return result;
}

function substituteString(text: string, lookup: (name: string) => unknown, missing: Set<string>): unknown {
  const whole = /^\$\{([A-Za-z0-9]+)\}$/.exec(text);
  if (whole) {
    const value = lookup(whole[1]!);
    if (value === undefined) missing.add(whole[1]!);
    return value ?? text;
  }
  const values: Record<string, unknown> = {};
  for (const match of text.matchAll(PLACEHOLDER)) {
    const value = lookup(match[1]!);
    if (value === undefined) missing.add(match[1]!);
    else values[match[1]!] = value;
  }
  if (Object.keys(values).length === 0) return text;
  if (Object.values(values).every((v) => typeof v === 'string')) {
    return text.replace(PLACEHOLDER, (placeholder, name: string) => (values[name] as string) ?? placeholder);
  }
  return { 'Fn::Sub': [text, values] };
}

/** `statemachines/<name>.asl.json` files as `{ name: definition }`. */
export function readStateMachines(dir: string): Record<string, AslDefinition> {
  return Object.fromEntries(
    readdirSync(dir)
      .filter((file) => file.endsWith('.asl.json'))
      .sort()
      .map((file) => [basename(file, '.asl.json'), JSON.parse(readFileSync(join(dir, file), 'utf8'))]),
  );
}

/** Function keys whose ARN placeholders appear in a definition (the functions it invokes). */
export function invokedFunctions(definition: unknown): string[] {
  return placeholdersOf(definition)
    .map(functionKeyOf)
    .filter((key): key is string => key !== undefined);
}

/** CloudFormation logical id osls gives a function (`launch-instance` -> `LaunchDashinstanceLambdaFunction`). */
export function lambdaLogicalId(functionKey: string): string {
  const normalized = functionKey.replace(/-/g, 'Dash').replace(/_/g, 'Underscore');
  return `${normalized.charAt(0).toUpperCase()}${normalized.slice(1)}LambdaFunction`;
}
