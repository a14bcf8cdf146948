/**
 * EventBridge event pattern matching, following the rules in the EventBridge User Guide
 * ("Creating event patterns" and "Content filtering"):
 * - every field named in the pattern must match (AND); the values listed for a field are
 *   alternatives (OR); a nested object matches the nested fields of the event;
 * - when the event's value is an array, the field matches when any element matches;
 * - leaf matchers: exact values (strings, numbers compared numerically, booleans, null), `prefix`,
 *   `suffix` (both also with `equals-ignore-case`), `equals-ignore-case`, `anything-but` (a value, a
 *   list of values, or a `prefix`/`suffix`/`equals-ignore-case`/`wildcard`), `numeric`
 *   (`=`, `>`, `>=`, `<`, `<=` pairs), `exists`, `wildcard`, `cidr` (IPv4); `$or` across fields.
 * A pattern with an unknown operator is rejected (as PutRule would reject it).
 */

export class InvalidEventPatternError extends Error {
  override name = 'InvalidEventPatternException';
}

type Pattern = Record<string, unknown>;

interface Found {
  present: boolean;
  values: unknown[];
}

/** True when `event` (a full EventBridge event, or any object) matches `pattern`. */
export function matchesPattern(pattern: Pattern, event: unknown): boolean {
  validatePattern(pattern);
  return matchObject(pattern, event);
}

/** Throws InvalidEventPatternError when the pattern uses something EventBridge would reject. */
export function validatePattern(pattern: unknown, path = ''): void {
  if (!pattern || typeof pattern !== 'object' || Array.isArray(pattern)) {
    throw new InvalidEventPatternError(`Event pattern${path ? ` at ${path}` : ''} must be a JSON object`);
  }
  for (const [key, value] of Object.entries(pattern)) {
    const where = path ? `${path}.${key}` : key;
    if (key === '$or') {
      if (!Array.isArray(value) || value.length < 2) {
        throw new InvalidEventPatternError(`${where}: $or needs an array of at least two patterns`);
      }
      for (const alternative of value) validatePattern(alternative, where);
    } else if (Array.isArray(value)) {
      if (value.length === 0) throw new InvalidEventPatternError(`${where}: empty arrays are not allowed`);
      for (const matcher of value) validateMatcher(matcher, where);
    } else if (value && typeof value === 'object') {
      validatePattern(value, where);
    } else {
      throw new InvalidEventPatternError(`${where}: match values must be inside an array`);
    }
  }
}

const OPERATORS = new Set([
  'prefix',
  'suffix',
  'equals-ignore-case',
  'anything-but',
  'numeric',
  'exists',
  'wildcard',
  'cidr',
]);

function validateMatcher(matcher: unknown, where: string): void {
  if (matcher === null || typeof matcher !== 'object') return;
  if (Array.isArray(matcher)) throw new InvalidEventPatternError(`${where}: nested arrays are not allowed`);
  const keys = Object.keys(matcher);
  if (keys.length !== 1 || !OPERATORS.has(keys[0]!)) {
    throw new InvalidEventPatternError(`${where}: unrecognized match type ${JSON.stringify(keys.join(','))}`);
  }
  const [op, arg] = [keys[0]!, (matcher as Record<string, unknown>)[keys[0]!]];
  if (op === 'numeric') numericChecks(arg, where);
  if (op === 'exists' && typeof arg !== 'boolean') {
    throw new InvalidEventPatternError(`${where}: exists takes true or false`);
  }
}

function matchObject(pattern: Pattern, value: unknown): boolean {
  for (const [key, sub] of Object.entries(pattern)) {
    if (key === '$or') {
      if (!(sub as Pattern[]).some((alternative) => matchObject(alternative, value))) return false;
      continue;
    }
    const found = collect(value, key);
    if (Array.isArray(sub)) {
      if (!matchLeaf(sub, found)) return false;
    } else {
      const objects = found.values.filter((v) => v !== null && typeof v === 'object' && !Array.isArray(v));
      if (!objects.some((object) => matchObject(sub as Pattern, object))) return false;
    }
  }
  return true;
}

/** Values of `key` in `value` (an object, or an array of objects), arrays flattened. */
function collect(value: unknown, key: string): Found {
  const containers = Array.isArray(value) ? value : [value];
  const found: Found = { present: false, values: [] };
  for (const container of containers) {
    if (container === null || typeof container !== 'object' || Array.isArray(container)) continue;
    if (!Object.hasOwn(container, key)) continue;
    found.present = true;
    const item = (container as Record<string, unknown>)[key];
    if (Array.isArray(item)) found.values.push(...item.flat(Number.POSITIVE_INFINITY));
    else found.values.push(item);
  }
  return found;
}

function matchLeaf(matchers: unknown[], found: Found): boolean {
  return matchers.some((matcher) => {
    if (matcher !== null && typeof matcher === 'object' && 'exists' in matcher) {
      return (matcher as { exists: boolean }).exists ? found.present : !found.present;
    }
    if (!found.present) return false;
    return found.values.some((value) => matchOne(matcher, value));
  });
}

function equalsValue(expected: unknown, value: unknown): boolean {
  if (typeof expected === 'number' && typeof value === 'number') return expected === value;
  return expected === value;
}

function matchOne(matcher: unknown, value: unknown): boolean {
  if (matcher === null || typeof matcher !== 'object') return equalsValue(matcher, value);
  const [op, arg] = Object.entries(matcher as Record<string, unknown>)[0]!;
  switch (op) {
    case 'prefix':
      return typeof value === 'string' && affix(arg, value, (v, a) => v.startsWith(a));
    case 'suffix':
      return typeof value === 'string' && affix(arg, value, (v, a) => v.endsWith(a));
    case 'equals-ignore-case':
      return (
        typeof value === 'string' && typeof arg === 'string' && value.toLowerCase() === arg.toLowerCase()
      );
    case 'wildcard':
      return typeof value === 'string' && typeof arg === 'string' && wildcardRegExp(arg).test(value);
    case 'numeric':
      return (
        typeof value === 'number' &&
        numericChecks(arg, '').every(([cmp, bound]) => compare(cmp, value, bound))
      );
    case 'cidr':
      return typeof value === 'string' && typeof arg === 'string' && inCidr(value, arg);
    case 'anything-but':
      return anythingBut(arg, value);
    default:
      return false;
  }
}

function affix(arg: unknown, value: string, test: (v: string, a: string) => boolean): boolean {
  if (typeof arg === 'string') return test(value, arg);
  if (
    arg &&
    typeof arg === 'object' &&
    typeof (arg as Record<string, unknown>)['equals-ignore-case'] === 'string'
  ) {
    return test(
      value.toLowerCase(),
      ((arg as Record<string, string>)['equals-ignore-case'] as string).toLowerCase(),
    );
  }
  return false;
}

function anythingBut(arg: unknown, value: unknown): boolean {
  if (Array.isArray(arg)) return !arg.some((excluded) => equalsValue(excluded, value));
  if (arg !== null && typeof arg === 'object') {
    const [op, inner] = Object.entries(arg as Record<string, unknown>)[0] ?? [];
    if (op === 'equals-ignore-case' && Array.isArray(inner)) {
      return !inner.some((excluded) => matchOne({ 'equals-ignore-case': excluded }, value));
    }
    if (op === 'prefix' || op === 'suffix' || op === 'equals-ignore-case' || op === 'wildcard') {
      return typeof value === 'string' && !matchOne(arg, value);
    }
    return false;
  }
  return !equalsValue(arg, value);
}

type Comparison = '=' | '>' | '>=' | '<' | '<=';

function numericChecks(arg: unknown, where: string): [Comparison, number][] {
  if (!Array.isArray(arg) || arg.length === 0 || arg.length % 2 !== 0) {
    throw new InvalidEventPatternError(`${where}: numeric takes pairs of operator and number`);
  }
  const checks: [Comparison, number][] = [];
  for (let i = 0; i < arg.length; i += 2) {
    const [cmp, bound] = [arg[i], arg[i + 1]];
    if (!['=', '>', '>=', '<', '<='].includes(cmp) || typeof bound !== 'number') {
      throw new InvalidEventPatternError(`${where}: bad numeric comparison ${JSON.stringify([cmp, bound])}`);
    }
    checks.push([cmp as Comparison, bound]);
  }
  return checks;
}

function compare(cmp: Comparison, value: number, bound: number): boolean {
  switch (cmp) {
    case '=':
      return value === bound;
    case '>':
      return value > bound;
    case '>=':
      return value >= bound;
    case '<':
      return value < bound;
    case '<=':
      return value <= bound;
  }
}

function wildcardRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '\\' && i + 1 < pattern.length) {
      source += pattern[++i]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    } else if (ch === '*') source += '.*';
    else source += ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 's');
}

function ipv4(address: string): number | undefined {
  const parts = address.split('.');
  if (parts.length !== 4) return undefined;
  let out = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return undefined;
    out = out * 256 + Number(part);
  }
  return out;
}

function inCidr(address: string, cidr: string): boolean {
  const [base, bitsText] = cidr.split('/');
  const ip = ipv4(address);
  const network = ipv4(base ?? '');
  const bits = Number(bitsText ?? 32);
  if (ip === undefined || network === undefined || !(bits >= 0 && bits <= 32)) return false;
  const size = 2 ** (32 - bits);
  return Math.floor(ip / size) === Math.floor(network / size);
}
