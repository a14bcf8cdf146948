/**
 * IAM policy evaluation for the local cloud, limited to what fsx-transfer's packaged policies use
 * and following AWS's documented logic for identity-based policies in one account
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):
 *
 * - a request is one or more checks (action, resource ARN, request context); each check is denied
 *   by any matching Deny statement (explicit deny), else allowed by any matching Allow statement,
 *   else implicitly denied; a request is allowed only when every check is;
 * - a statement matches when its Action (or NotAction), its Resource (or NotResource) and every
 *   condition match; actions match case-insensitively, resources case-sensitively, both with the
 *   `*` and `?` wildcards (an ARN is matched segment by segment, its resource part as a whole);
 * - conditions: every operator block and every key in it must hold (AND), any of a key's values
 *   may match (OR); condition keys are case-insensitive; a key missing from the context makes a
 *   positive operator false and a negated one (`StringNotEquals`, `ArnNotLike` ...) true;
 *   `...IfExists` holds when the key is missing; `Null: true` holds when it is missing;
 *   `ForAnyValue:` / `ForAllValues:` apply to multivalued keys.
 *
 * Operators: String(Not)Equals(IgnoreCase), String(Not)Like, Arn(Not)Equals, Arn(Not)Like, Bool,
 * Null, Numeric*. Any other operator (or policy variables, which no statement uses) is refused
 * when the policy is loaded, so a new one in serverless.yml fails loudly instead of silently.
 */

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
}

/** A request context value: one string, or a list for multivalued keys (aws:TagKeys). */
export type ContextValue = string | string[];

/** One thing a request needs: `action` on `resource`, with the condition keys the request sets. */
export interface AuthorizationCheck {
  /** `service:Action`, e.g. `ec2:RunInstances`. */
  action: string;
  /** The resource ARN, or `*` for actions without resource types. */
  resource: string;
  /** Condition keys of the request (any case) and their values. */
  context?: Record<string, ContextValue | undefined>;
}

/** Why a statement did not match a check (for the denial log). */
export type Mismatch =
  | { part: 'action' }
  | { part: 'resource' }
  | { part: 'condition'; operator: string; key: string; expected: string[]; actual?: ContextValue };

export interface StatementMatch<T> {
  statement: T;
  mismatch?: Mismatch;
}

export interface CheckDecision<T> {
  check: AuthorizationCheck;
  decision: 'allow' | 'explicit-deny' | 'implicit-deny';
  /** Allow statements that match (every one counts as used). */
  allowedBy: T[];
  /** The Deny statement that matched, if any. */
  deniedBy?: T;
  /** When implicitly denied: statements for the action that failed on resource or condition. */
  nearMisses: StatementMatch<T>[];
}

const SET_OPERATORS = ['ForAnyValue:', 'ForAllValues:'] as const;
const BASE_OPERATORS = new Set([
  'StringEquals',
  'StringNotEquals',
  'StringEqualsIgnoreCase',
  'StringNotEqualsIgnoreCase',
  'StringLike',
  'StringNotLike',
  'ArnEquals',
  'ArnNotEquals',
  'ArnLike',
  'ArnNotLike',
  'Bool',
  'Null',
  'NumericEquals',
  'NumericNotEquals',
  'NumericLessThan',
  'NumericLessThanEquals',
  'NumericGreaterThan',
  'NumericGreaterThanEquals',
]);

const patterns = new Map<string, RegExp>();

/** `*` matches any run of characters, `?` any one character; everything else literally. */
function glob(pattern: string, ignoreCase: boolean): RegExp {
  const cacheKey = `${ignoreCase ? 'i' : 's'}${pattern}`;
  let regex = patterns.get(cacheKey);
  if (!regex) {
    const body = pattern
      .split('')
      .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.+^${}()|[\]\\/-]/g, '\\$&')))
      .join('');
    regex = new RegExp(`^${body}$`, ignoreCase ? 'is' : 's');
    patterns.set(cacheKey, regex);
  }
  return regex;
}

/** An action pattern (`ec2:Describe*`) against an action, case-insensitively. */
export function actionMatches(pattern: string, action: string): boolean {
  return glob(pattern, true).test(action);
}

/** `arn:partition:service:region:account:resource` split into its six parts, or undefined. */
function arnParts(arn: string): string[] | undefined {
  const parts = arn.split(':');
  if (parts.length < 6 || parts[0] !== 'arn') return undefined;
  return [...parts.slice(0, 5), parts.slice(5).join(':')];
}

/**
 * A resource pattern against a resource ARN: `*` matches everything; ARNs are compared part by
 * part (a wildcard never crosses the colons of partition, service, region and account), the
 * resource part as a whole (its `*` may cross `/` and `:`).
 */
export function resourceMatches(pattern: string, resource: string): boolean {
  if (pattern === '*') return true;
  const want = arnParts(pattern);
  const have = arnParts(resource);
  // An ARN pattern with too few parts matches no ARN (AWS compares the parts one by one).
  if (pattern.startsWith('arn:') && !want) return false;
  if (!want || !have) return glob(pattern, false).test(resource);
  return want.every((part, index) => glob(part, false).test(have[index]!));
}

function list(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}

/** Refuses statements this evaluator cannot judge exactly (see the top comment). */
export function validateStatement(statement: PolicyStatement): void {
  if (statement.Effect !== 'Allow' && statement.Effect !== 'Deny') {
    throw new Error(`Effect must be Allow or Deny, not ${String(statement.Effect)}`);
  }
  if ((statement.Action === undefined) === (statement.NotAction === undefined)) {
    throw new Error('a statement needs exactly one of Action and NotAction');
  }
  if ((statement.Resource === undefined) === (statement.NotResource === undefined)) {
    throw new Error('a statement needs exactly one of Resource and NotResource');
  }
  const text = JSON.stringify([statement.Resource, statement.NotResource, statement.Condition]);
  if (/\$\{[^}]*\}/.test(text)) {
    throw new Error(`policy variables are not evaluated locally: ${text.match(/\$\{[^}]*\}/)![0]}`);
  }
  for (const operator of Object.keys(statement.Condition ?? {})) parseOperator(operator);
}

interface Operator {
  base: string;
  ifExists: boolean;
  set?: (typeof SET_OPERATORS)[number];
}

function parseOperator(name: string): Operator {
  const set = SET_OPERATORS.find((prefix) => name.startsWith(prefix));
  let base = set ? name.slice(set.length) : name;
  const ifExists = base.endsWith('IfExists');
  if (ifExists) base = base.slice(0, -'IfExists'.length);
  if (!BASE_OPERATORS.has(base)) {
    throw new Error(`condition operator ${name} is not supported by the local IAM evaluator`);
  }
  return { base, ifExists, set };
}

const NEGATED = /Not/;

/** One context value against one condition value. */
function valueMatches(base: string, expected: string, actual: string): boolean {
  switch (base) {
    case 'StringEquals':
    case 'StringNotEquals':
      return actual === expected;
    case 'StringEqualsIgnoreCase':
    case 'StringNotEqualsIgnoreCase':
      return actual.toLowerCase() === expected.toLowerCase();
    case 'StringLike':
    case 'StringNotLike':
      return glob(expected, false).test(actual);
    case 'ArnEquals':
    case 'ArnNotEquals':
    case 'ArnLike':
    case 'ArnNotLike':
      return resourceMatches(expected, actual);
    case 'Bool':
      return actual.toLowerCase() === expected.toLowerCase();
    default: {
      const [a, e] = [Number(actual), Number(expected)];
      if (Number.isNaN(a) || Number.isNaN(e)) return false;
      if (base === 'NumericEquals' || base === 'NumericNotEquals') return a === e;
      if (base === 'NumericLessThan') return a < e;
      if (base === 'NumericLessThanEquals') return a <= e;
      if (base === 'NumericGreaterThan') return a > e;
      return a >= e;
    }
  }
}

/** Whether one operator's condition on one key holds for the context value (undefined: missing). */
function conditionHolds(operator: Operator, expected: string[], actual: ContextValue | undefined): boolean {
  const { base } = operator;
  if (base === 'Null') {
    const missing = actual === undefined || (Array.isArray(actual) && actual.length === 0);
    return expected.some((value) => (value.toLowerCase() === 'true') === missing);
  }
  if (actual === undefined) {
    if (operator.ifExists) return true;
    // A missing key: positive operators fail, negated ones hold; ForAllValues holds on an empty set.
    return NEGATED.test(base) || operator.set === 'ForAllValues:';
  }
  const values = Array.isArray(actual) ? actual : [actual];
  const negated = NEGATED.test(base);
  const matchesAny = (value: string) => expected.some((e) => valueMatches(base, e, value));
  if (operator.set === 'ForAllValues:') {
    return values.every((value) => (negated ? !matchesAny(value) : matchesAny(value)));
  }
  // ForAnyValue, and plain operators on single or multivalued keys.
  if (negated) return values.some((value) => !matchesAny(value));
  return values.some(matchesAny);
}

/** The context with lower-cased keys (condition keys are case-insensitive). */
function normalizedContext(check: AuthorizationCheck): Map<string, ContextValue> {
  const context = new Map<string, ContextValue>();
  for (const [key, value] of Object.entries(check.context ?? {})) {
    if (value !== undefined) context.set(key.toLowerCase(), value);
  }
  return context;
}

/** Whether `statement` applies to `check` (Effect aside), or what did not match. */
export function matchStatement(
  statement: PolicyStatement,
  check: AuthorizationCheck,
  context: Map<string, ContextValue> = normalizedContext(check),
): Mismatch | undefined {
  const actionHit =
    statement.Action !== undefined
      ? list(statement.Action).some((pattern) => actionMatches(pattern, check.action))
      : !list(statement.NotAction).some((pattern) => actionMatches(pattern, check.action));
  if (!actionHit) return { part: 'action' };
  const resourceHit =
    statement.Resource !== undefined
      ? list(statement.Resource).some((pattern) => resourceMatches(pattern, check.resource))
      : !list(statement.NotResource).some((pattern) => resourceMatches(pattern, check.resource));
  if (!resourceHit) return { part: 'resource' };
  for (const [operatorName, block] of Object.entries(statement.Condition ?? {})) {
    const operator = parseOperator(operatorName);
    for (const [key, expectedValue] of Object.entries(block ?? {})) {
      const expected = list(expectedValue);
      const actual = context.get(key.toLowerCase());
      if (!conditionHolds(operator, expected, actual)) {
        return { part: 'condition', operator: operatorName, key, expected, actual };
      }
    }
  }
  return undefined;
}

/**
 * Evaluates one check against a principal's statements.
 * @param statementOf how to get the policy statement of an entry (entries carry their own ids).
 */
export function evaluateCheck<T>(
  entries: readonly T[],
  statementOf: (entry: T) => PolicyStatement,
  check: AuthorizationCheck,
): CheckDecision<T> {
  const context = normalizedContext(check);
  const allowedBy: T[] = [];
  const nearMisses: StatementMatch<T>[] = [];
  for (const entry of entries) {
    const statement = statementOf(entry);
    const mismatch = matchStatement(statement, check, context);
    if (mismatch === undefined) {
      if (statement.Effect === 'Deny') {
        return { check, decision: 'explicit-deny', allowedBy: [], deniedBy: entry, nearMisses: [] };
      }
      allowedBy.push(entry);
    } else if (mismatch.part !== 'action' && statement.Effect === 'Allow') {
      nearMisses.push({ statement: entry, mismatch });
    }
  }
  return {
    check,
    decision: allowedBy.length > 0 ? 'allow' : 'implicit-deny',
    allowedBy,
    nearMisses: allowedBy.length > 0 ? [] : nearMisses,
  };
}

/** A mismatch in words, for the denial log (`condition ec2:Encrypted Bool [true], request: false`). */
export function describeMismatch(mismatch: Mismatch): string {
  if (mismatch.part !== 'condition') return `its ${mismatch.part} does not match`;
  const actual =
    mismatch.actual === undefined
      ? 'absent from the request'
      : `the request has ${JSON.stringify(mismatch.actual)}`;
  return `condition ${mismatch.operator} ${mismatch.key} ${JSON.stringify(mismatch.expected)} does not hold (${actual})`;
}
