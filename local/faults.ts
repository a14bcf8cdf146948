/**
 * Fault injection for the local cloud. Rules come from a JSON/YAML file (`--faults`), from
 * `startLocalCloud({faultsFile})` or from `POST /_local/faults`.
 *
 * Request faults (no `behavior`) are applied by the router before an operation reaches its
 * emulator: the caller gets an AWS-shaped error (`code`, HTTP `status`) after an optional delay.
 * Behavioural faults (`behavior`) are consulted by the emulators at the matching moment:
 * `agent-never-online` (the SSM agent of a matching instance never registers), `command-exit`
 * (a Run Command invocation exits with `exitCode` without running its script), `command-slow`
 * (a Run Command invocation waits `delayMs` before its script starts) and `execution-timeout` (a
 * matching Step Functions execution times out `delayMs` after it starts, as if its TimeoutSeconds
 * were that short: the way to reach a TIMED_OUT execution without waiting for the real backstop).
 * `corrupt-object` (S3: flips one bit of a matching object, `Bucket` and `Key`, right after it is
 * stored, whoever wrote it, FSx exports too; same size, its ETag, part and object checksums then
 * describe the new bytes, as for bytes that were wrong when S3 received them) and `corrupt-file`
 * (FSx: flips one bit of a matching file, `FileSystemId` and `Path` from the file system root,
 * when a data repository task or a Run Command step that may have written it ends) let the
 * checksum verification prove that it detects same-size corruption; `offset` picks the byte
 * (the middle of the file when omitted).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { LocalAwsError } from './types.js';

export const FAULT_BEHAVIORS = [
  'agent-never-online',
  'command-exit',
  'command-slow',
  'execution-timeout',
  'corrupt-object',
  'corrupt-file',
] as const;
export type FaultBehavior = (typeof FAULT_BEHAVIORS)[number];

/** The services whose emulators consult each behaviour (a rule of another service never fires). */
const BEHAVIOR_SERVICES: Record<FaultBehavior, string[]> = {
  'agent-never-online': ['ec2', 'ssm'],
  'command-exit': ['ec2', 'ssm'],
  'command-slow': ['ec2', 'ssm'],
  'execution-timeout': ['states'],
  'corrupt-object': ['s3'],
  'corrupt-file': ['fsx', 'ssm'],
};

type MatchValue = string | number | boolean;

export interface FaultRule {
  /** Assigned when the rule is added; use it with `DELETE /_local/faults/<id>`. */
  id?: string;
  /** `s3`, `ec2`, `ssm`, `sts`, `fsx`, `states` (alias `sfn`), or `*` for every service. */
  service: string;
  /** Operation (JSON) or Action (query) name, e.g. `RunInstances`; omitted or `*` = every operation. */
  operation?: string;
  /** AWS error code to return, e.g. `ThrottlingException`, `InsufficientInstanceCapacity`. */
  code?: string;
  /** HTTP status; defaults by code (throttling 400/503, 5xx codes 500/503, others 400). */
  status?: number;
  message?: string;
  /** How many times the rule fires before it is spent; unlimited when omitted. */
  count?: number;
  /** Chance (0..1) that a matching call is affected; 1 when omitted. */
  probability?: number;
  /** Simulated milliseconds to wait before answering (scaled by the clock). */
  delayMs?: number;
  /**
   * Request attributes that must all match: top-level input fields (`InstanceType`), dotted paths
   * into nested input (`NetworkInterface.1.SubnetId`), or aliases an emulator adds (EC2 adds
   * `SubnetId` and `InstanceType` for RunInstances whichever way they were sent). A value may be a
   * list (any of) and may use `*` wildcards.
   */
  match?: Record<string, MatchValue | MatchValue[]>;
  behavior?: FaultBehavior;
  /** Exit code for `command-exit` (default 1). */
  exitCode?: number;
  /** The byte whose lowest bit `corrupt-object` / `corrupt-file` flips (default: the middle one). */
  offset?: number;
}

export interface StoredFaultRule extends FaultRule {
  id: string;
  /** How many times the rule has fired. */
  fired: number;
}

export interface RequestFault {
  rule: StoredFaultRule;
  delayMs: number;
  error?: LocalAwsError;
}

const DEFAULT_STATUS: Record<string, number> = {
  ThrottlingException: 400,
  Throttling: 400,
  TooManyRequestsException: 400,
  RequestLimitExceeded: 503,
  SlowDown: 503,
  InternalServerError: 500,
  InternalError: 500,
  InternalFailure: 500,
  ServiceUnavailable: 503,
  ServiceUnavailableException: 503,
  InsufficientInstanceCapacity: 500,
  Unavailable: 503,
};

const DEFAULT_MESSAGE: Record<string, string> = {
  ThrottlingException: 'Rate exceeded',
  RequestLimitExceeded: 'Request limit exceeded.',
  InternalServerError: 'An internal error occurred (injected fault).',
  ServiceUnavailable: 'Service is unavailable (injected fault).',
  InsufficientInstanceCapacity:
    'We currently do not have sufficient capacity in the Availability Zone you requested. Our system will be working on provisioning additional capacity.',
};

export function normalizeService(service: string): string {
  const s = service.trim().toLowerCase();
  if (s === 'sfn' || s === 'stepfunctions' || s === 'step-functions') return 'states';
  return s;
}

/** Flattens nested input into dotted paths (`Tags.0.Key`), keeping top-level scalars as they are. */
export function flattenAttributes(
  input: unknown,
  prefix = '',
  out: Record<string, unknown> = {},
): Record<string, unknown> {
  if (input === null || input === undefined) return out;
  if (Array.isArray(input)) {
    input.forEach((value, i) => {
      flattenAttributes(value, prefix ? `${prefix}.${i}` : String(i), out);
    });
    if (prefix) out[prefix] = input;
    return out;
  }
  if (typeof input === 'object' && !(input instanceof Date)) {
    for (const [key, value] of Object.entries(input as Record<string, unknown>)) {
      flattenAttributes(value, prefix ? `${prefix}.${key}` : key, out);
    }
    return out;
  }
  if (prefix) out[prefix] = input;
  return out;
}

export function globMatch(pattern: string, value: string): boolean {
  if (!pattern.includes('*') && !pattern.includes('?')) return pattern === value;
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  return re.test(value);
}

function valueMatches(expected: MatchValue | MatchValue[], actual: unknown): boolean {
  if (actual === undefined || actual === null) return false;
  const candidates = Array.isArray(expected) ? expected : [expected];
  const actuals = Array.isArray(actual) ? actual : [actual];
  return candidates.some((c) => actuals.some((a) => globMatch(String(c), String(a))));
}

export function matches(rule: FaultRule, attrs: Record<string, unknown>): boolean {
  if (!rule.match) return true;
  return Object.entries(rule.match).every(([key, expected]) => valueMatches(expected, attrs[key]));
}

/** Checks a rule's shape; throws LocalAwsError('ValidationException') naming the field. */
export function validateRule(input: unknown): FaultRule {
  const fail = (message: string): never => {
    throw new LocalAwsError('ValidationException', `invalid fault rule: ${message}`);
  };
  if (!input || typeof input !== 'object' || Array.isArray(input)) return fail('a rule must be an object');
  const rule = input as Record<string, unknown>;
  const known = new Set([
    'id',
    'service',
    'operation',
    'code',
    'status',
    'message',
    'count',
    'probability',
    'delayMs',
    'match',
    'behavior',
    'exitCode',
    'offset',
  ]);
  for (const key of Object.keys(rule)) if (!known.has(key)) fail(`unknown field ${key}`);
  if (typeof rule.service !== 'string' || !rule.service) fail('service is required (e.g. "ec2", or "*")');
  if (rule.operation !== undefined && typeof rule.operation !== 'string') fail('operation must be a string');
  if (rule.code !== undefined && (typeof rule.code !== 'string' || !/^[A-Za-z0-9_.:-]+$/.test(rule.code))) {
    fail('code must be an AWS error code like ThrottlingException');
  }
  if (
    rule.status !== undefined &&
    !(Number.isInteger(rule.status) && Number(rule.status) >= 400 && Number(rule.status) <= 599)
  ) {
    fail('status must be an HTTP error status (400-599)');
  }
  if (rule.message !== undefined && typeof rule.message !== 'string') fail('message must be a string');
  if (rule.count !== undefined && !(Number.isInteger(rule.count) && Number(rule.count) >= 1)) {
    fail('count must be a positive integer');
  }
  if (
    rule.probability !== undefined &&
    !(typeof rule.probability === 'number' && rule.probability >= 0 && rule.probability <= 1)
  ) {
    fail('probability must be a number between 0 and 1');
  }
  if (rule.delayMs !== undefined && !(typeof rule.delayMs === 'number' && rule.delayMs >= 0)) {
    fail('delayMs must be a non-negative number');
  }
  if (
    rule.match !== undefined &&
    (typeof rule.match !== 'object' || rule.match === null || Array.isArray(rule.match))
  ) {
    fail('match must be an object of attribute -> value(s)');
  }
  if (rule.behavior !== undefined && !FAULT_BEHAVIORS.includes(rule.behavior as FaultBehavior)) {
    fail(`behavior must be one of ${FAULT_BEHAVIORS.join(', ')}`);
  }
  if (
    rule.exitCode !== undefined &&
    !(Number.isInteger(rule.exitCode) && Number(rule.exitCode) >= 0 && Number(rule.exitCode) <= 255)
  ) {
    fail('exitCode must be an integer 0-255');
  }
  if (rule.behavior === undefined && rule.code === undefined && rule.delayMs === undefined) {
    fail('a request fault needs a code and/or delayMs (or set behavior)');
  }
  if (rule.behavior === 'command-slow' && rule.delayMs === undefined) fail('command-slow needs delayMs');
  if (rule.offset !== undefined && !(Number.isInteger(rule.offset) && Number(rule.offset) >= 0)) {
    fail('offset must be an integer >= 0');
  }
  if (rule.behavior === 'execution-timeout' && rule.delayMs === undefined)
    fail('execution-timeout needs delayMs (the simulated time until the execution times out)');
  return rule as unknown as FaultRule;
}

/** Reads rules from a JSON or YAML file: a list of rules, or `{rules: [...]}` / `{faults: [...]}`. */
export function readFaultsFile(path: string): FaultRule[] {
  const text = readFileSync(path, 'utf8');
  const doc = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  const list = Array.isArray(doc) ? doc : (doc?.rules ?? doc?.faults);
  if (!Array.isArray(list)) {
    throw new LocalAwsError(
      'ValidationException',
      `${path}: expected a list of fault rules or {rules: [...]}`,
    );
  }
  return list.map((rule) => validateRule(rule));
}

export class FaultInjector {
  private rules: StoredFaultRule[] = [];
  private readonly random: () => number;

  constructor(options: { random?: () => number } = {}) {
    this.random = options.random ?? Math.random;
  }

  /** Adds rules (validated) and returns them with their ids. */
  add(rules: FaultRule | FaultRule[]): StoredFaultRule[] {
    const list = (Array.isArray(rules) ? rules : [rules]).map((rule) => validateRule(rule));
    const stored = list.map((rule) => ({
      ...rule,
      service: normalizeService(rule.service),
      id: rule.id ?? randomUUID(),
      fired: 0,
    }));
    for (const rule of stored) {
      this.rules = this.rules.filter((r) => r.id !== rule.id);
      this.rules.push(rule);
    }
    return stored;
  }

  list(): StoredFaultRule[] {
    return this.rules.map((rule) => ({ ...rule }));
  }

  remove(id: string): boolean {
    const before = this.rules.length;
    this.rules = this.rules.filter((rule) => rule.id !== id);
    return this.rules.length !== before;
  }

  clear(): void {
    this.rules = [];
  }

  private fire(rule: StoredFaultRule): boolean {
    if (rule.count !== undefined && rule.fired >= rule.count) return false;
    if (rule.probability !== undefined && this.random() >= rule.probability) return false;
    rule.fired += 1;
    return true;
  }

  private appliesTo(rule: StoredFaultRule, service: string, operation: string | undefined): boolean {
    if (rule.service !== '*' && rule.service !== normalizeService(service)) return false;
    if (rule.operation && rule.operation !== '*' && operation !== undefined && rule.operation !== operation) {
      return false;
    }
    return true;
  }

  /** The request fault for this call, if a rule fires (the router applies it before dispatch). */
  check(service: string, operation: string, attrs: Record<string, unknown>): RequestFault | undefined {
    for (const rule of this.rules) {
      if (rule.behavior) continue;
      if (!this.appliesTo(rule, service, operation)) continue;
      if (!matches(rule, attrs)) continue;
      if (!this.fire(rule)) continue;
      const delayMs = rule.delayMs ?? 0;
      if (!rule.code) return { rule, delayMs };
      const status = rule.status ?? DEFAULT_STATUS[rule.code] ?? 400;
      const message = rule.message ?? DEFAULT_MESSAGE[rule.code] ?? `Injected fault ${rule.code}`;
      return { rule, delayMs, error: new LocalAwsError(rule.code, message, status) };
    }
    return undefined;
  }

  /** A behavioural fault that fires for these attributes (consumes one `count`). */
  behavior(kind: FaultBehavior, attrs: Record<string, unknown>): StoredFaultRule | undefined {
    for (const rule of this.rules) {
      if (rule.behavior !== kind) continue;
      if (rule.service !== '*' && !BEHAVIOR_SERVICES[kind].includes(rule.service)) continue;
      if (!matches(rule, attrs)) continue;
      if (this.fire(rule)) return rule;
    }
    return undefined;
  }
}
