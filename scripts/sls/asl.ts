/**
 * How `statemachines/*.asl.json` become the definitions that run, shared by packaging
 * (scripts/sls/state-machines.cjs), the unit tests and the local cloud (local/sfn/service.ts):
 *
 * 1. `readStateMachine` parses a file and expands its shared Retry blocks: a `Retry` array element
 *    that is exactly `"${Retry<Name>}"` becomes `RETRIERS.Retry<Name>` (below). Everything that reads
 *    a definition reads it through this one function, so AWS and the local cloud run the same states.
 * 2. `substitute` replaces the placeholders that name AWS resources:
 *    - `${<PascalName>FunctionArn}` is the ARN of the serverless function `<kebab-name>` (the folder
 *      `functions/<kebab-name>/`), e.g. `${LaunchInstanceFunctionArn}` -> `launch-instance`.
 *    - Every other `${Name}` must be a key of `custom.aslSubstitutions` in serverless.yml (the one
 *      substitution map), whose value is a CloudFormation value (`!Ref`, `!GetAtt`, `Fn::Sub`, or a
 *      string).
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

/** Errors a Lambda task should retry: Lambda's own transient faults and our TransientAwsError. */
const TRANSIENT_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'TransientAwsError',
];

/**
 * The Retry blocks that many states share, by the name a definition gives them (`"${Name}"` as an
 * element of a `Retry` array). State-specific retriers (NotReadyYetError polling, a busy file
 * system) stay written out in the state, where their numbers are decided.
 */
export const RETRIERS = {
  /**
   * Every Lambda Task: AWS's recommended retry of Lambda's transient faults
   * (https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html), plus
   * TransientAwsError (throttling or a 5xx that outlived the SDK's own retries). Up to ~30 s.
   */
  RetryTransientErrors: {
    ErrorEquals: TRANSIENT_ERRORS,
    IntervalSeconds: 2,
    MaxAttempts: 4,
    BackoffRate: 2,
    JitterStrategy: 'FULL',
  },
  /** Terminations must happen: the same errors, retried for up to about 16 minutes (delay capped at 60 s). */
  RetryTransientErrorsPatiently: {
    ErrorEquals: TRANSIENT_ERRORS,
    IntervalSeconds: 2,
    MaxAttempts: 20,
    BackoffRate: 2,
    JitterStrategy: 'FULL',
    MaxDelaySeconds: 60,
  },
} as const;

/**
 * Replaces each `"${Retry<Name>}"` element of a `Retry` array (in every state, including Parallel
 * branches and Map processors) with a copy of `RETRIERS.Retry<Name>`.
 * @throws Error naming the state and the unknown block.
 */
export function expandRetriers<T>(definition: T): T {
  const expandMachine = (machine: Record<string, unknown>): Record<string, unknown> => {
    const states = machine.States as Record<string, Record<string, unknown>> | undefined;
    if (!states || typeof states !== 'object') return machine;
    return {
      ...machine,
      States: Object.fromEntries(
        Object.entries(states).map(([name, state]) => [name, expandState(name, state)]),
      ),
    };
  };
  const expandState = (name: string, state: Record<string, unknown>): Record<string, unknown> => {
    const copy: Record<string, unknown> = { ...state };
    if (Array.isArray(state.Retry)) copy.Retry = state.Retry.map((retrier) => expandRetrier(name, retrier));
    if (Array.isArray(state.Branches)) copy.Branches = state.Branches.map(expandMachine);
    for (const key of ['ItemProcessor', 'Iterator']) {
      if (state[key] && typeof state[key] === 'object')
        copy[key] = expandMachine(state[key] as Record<string, unknown>);
    }
    return copy;
  };
  return expandMachine(definition as Record<string, unknown>) as T;
}

function expandRetrier(stateName: string, retrier: unknown): unknown {
  if (typeof retrier !== 'string') return retrier;
  const name = /^\$\{([A-Za-z0-9]+)\}$/.exec(retrier)?.[1];
  if (!name || !Object.hasOwn(RETRIERS, name)) {
    throw new Error(
      `State ${stateName}: Retry element ${JSON.stringify(retrier)} is not a shared Retry block (known: ${Object.keys(
        RETRIERS,
      )
        .map((n) => `\${${n}}`)
        .join(', ')})`,
    );
  }
  return structuredClone(RETRIERS[name as keyof typeof RETRIERS]);
}

/**
 * One `statemachines/<name>.asl.json` as it runs (before resource substitution): parsed, with its
 * shared Retry blocks expanded.
 * @throws SyntaxError when the file is not JSON, Error for an unknown Retry block.
 */
export function readStateMachine(file: string): AslDefinition {
  return expandRetriers(JSON.parse(readFileSync(file, 'utf8')) as AslDefinition);
}

/**
 * `statemachines/<name>.asl.json` files as `{ name: definition }` (see readStateMachine).
 * @throws Error prefixed with the file name.
 */
export function readStateMachines(dir: string): Record<string, AslDefinition> {
  return Object.fromEntries(
    readdirSync(dir)
      .filter((file) => file.endsWith('.asl.json'))
      .sort()
      .map((file) => {
        try {
          return [basename(file, '.asl.json'), readStateMachine(join(dir, file))];
        } catch (error) {
          throw new Error(`${file}: ${(error as Error).message}`);
        }
      }),
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
