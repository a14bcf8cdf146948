/**
 * Reads the parts of `serverless.yml` the local cloud needs: functions (handler, timeout, memory,
 * environment, events), state machines (name, definition file, events) and the resources it runs
 * (`AWS::Events::Rule`, `AWS::SQS::Queue`, `AWS::DynamoDB::Table`). Parsing tolerates
 * CloudFormation tags (`!Ref`, `!GetAtt`, `!Sub` ...) and Serverless variables (`${self:service}`,
 * `${sls:stage}`, `${opt:stage, 'dev'}`, `${env:X, default}`, `${aws:region}`, and
 * `${file(<path>)}` / `${file(<path>):<property>}` for the files whose values the caller gives,
 * such as `scripts/sls/config.cjs`); what cannot be resolved locally stays a CloudFormation object
 * or `undefined`.
 *
 * Until `serverless.yml` exists, functions are discovered from `functions/<name>/handler.ts`.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';

export const SERVICE_NAME = 'fsx-transfer';

export interface ServerlessFunction {
  /** The `functions:` key, e.g. `launch-instance` (the kebab folder name by convention). */
  key: string;
  /** Deployed function name: `name:` or `<service>-<stage>-<key>`. */
  name: string;
  /** Absolute path of the handler module without extension, e.g. `/repo/functions/validate/handler`. */
  handlerModule: string;
  /** Exported handler name, e.g. `handler`. */
  handlerExport: string;
  /** Seconds (serverless default 6). */
  timeout: number;
  memorySize: number;
  /** Merged provider + function environment, values as written (strings or CloudFormation objects). */
  environment: Record<string, unknown>;
  events: Record<string, unknown>[];
}

export interface ServerlessStateMachine {
  /** The `stateMachines:` key, e.g. `transfer`. */
  key: string;
  /** Resolved `name:` when given. */
  name?: string;
  /** CloudFormation logical id as serverless-step-functions derives it. */
  logicalId: string;
  /** Definition file relative to the project root when `definition: ${file(...)}`. */
  definitionFile?: string;
  events: Record<string, unknown>[];
}

export interface ServerlessProject {
  rootDir: string;
  service: string;
  stage: string;
  region: string;
  accountId: string;
  /** True when serverless.yml was found (false: functions discovered from the folder layout). */
  fromFile: boolean;
  functions: Map<string, ServerlessFunction>;
  stateMachines: ServerlessStateMachine[];
  /** `resources.Resources` (CloudFormation), tags converted to `{Ref}` / `{Fn::*}` objects. */
  resources: Record<string, { Type?: string; Properties?: Record<string, unknown> }>;
  /** The local cloud's endpoint: SQS queue URLs are `<endpoint>/<account>/<name>` (else AWS's form). */
  endpoint?: string;
  /** The whole parsed document (variables resolved where possible). */
  raw: Record<string, unknown>;
}

const INTRINSICS = [
  'Ref',
  'Condition',
  'GetAtt',
  'Sub',
  'Join',
  'If',
  'Equals',
  'Select',
  'Split',
  'FindInMap',
  'ImportValue',
  'GetAZs',
  'Base64',
  'Cidr',
  'And',
  'Or',
  'Not',
  'Transform',
  'Length',
  'ToJsonString',
];

function cfnTags() {
  const tags = [];
  for (const name of INTRINSICS) {
    const key = name === 'Ref' || name === 'Condition' ? name : `Fn::${name}`;
    tags.push({
      tag: `!${name}`,
      resolve: (value: string) => ({ [key]: name === 'GetAtt' ? value.split('.') : value }),
    });
    for (const collection of ['seq', 'map'] as const) {
      tags.push({
        tag: `!${name}`,
        collection,
        resolve: (value: { toJSON(): unknown }) => ({ [key]: value.toJSON() }),
      });
    }
  }
  return tags;
}

/** Parses YAML that may contain CloudFormation short-form tags. */
export function parseCfnYaml(text: string): unknown {
  return YAML.parse(text, { customTags: cfnTags() as never, logLevel: 'silent' });
}

/** `launch-instance` -> `LaunchInstance` (the ASL placeholder stem). */
export function pascalCase(kebab: string): string {
  return kebab
    .split(/[-_]/)
    .filter(Boolean)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('');
}

/** Serverless' normalized resource name: `launch-instance` -> `LaunchDashinstance`. */
export function normalizedResourceName(name: string): string {
  const replaced = name.replace(/-/g, 'Dash').replace(/_/g, 'Underscore');
  return replaced.charAt(0).toUpperCase() + replaced.slice(1);
}

interface VariableContext {
  doc: Record<string, unknown>;
  stage: string;
  region: string;
  accountId: string;
  env: NodeJS.ProcessEnv;
  files: Record<string, unknown>;
}

const UNRESOLVED = Symbol('unresolved');

/**
 * Walks a dotted path; a string met on the way that is a variable (`config: ${file(...)}`) is
 * resolved first, so `${self:custom.config.region}` reaches into the file's value.
 */
function lookupPath(doc: unknown, path: string, ctx?: VariableContext, depth = 0): unknown {
  let current: unknown = doc;
  for (const part of path.split('.')) {
    if (ctx && typeof current === 'string' && current.includes('${')) {
      const resolved = resolveString(current, ctx, depth + 1);
      if (resolved === UNRESOLVED) return UNRESOLVED;
      current = resolved;
    }
    if (current === null || typeof current !== 'object') return UNRESOLVED;
    current = (current as Record<string, unknown>)[part];
    if (current === undefined) return UNRESOLVED;
  }
  return current;
}

/** `file(./scripts/sls/config.cjs):property` -> the caller-given value of that file (or UNRESOLVED). */
function fileValue(source: string, ctx: VariableContext): unknown {
  const match = /^file\(\s*([^)]+?)\s*\)(?::(.+))?$/.exec(source);
  if (!match) return UNRESOLVED;
  const file = match[1]!.replace(/^['"]|['"]$/g, '').replace(/^\.\//, '');
  if (!Object.hasOwn(ctx.files, file)) return UNRESOLVED;
  const value = ctx.files[file];
  return match[2] ? lookupPath(value, match[2].trim()) : value;
}

function parseDefault(text: string | undefined, ctx: VariableContext, depth: number): unknown {
  if (text === undefined) return UNRESOLVED;
  const trimmed = text.trim();
  const quoted = /^(['"])(.*)\1$/.exec(trimmed);
  if (quoted) return quoted[2];
  if (/^-?\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
  if (trimmed === 'true' || trimmed === 'false') return trimmed === 'true';
  if (trimmed === 'null') return null;
  return resolveReference(trimmed, ctx, depth);
}

/** Resolves one variable reference (the text inside `${...}`), or UNRESOLVED. */
function resolveReference(reference: string, ctx: VariableContext, depth: number): unknown {
  // `${opt:stage, 'dev'}`: the first source that resolves wins.
  const [first, ...rest] = splitTopLevel(reference);
  const fallback = rest.length > 0 ? rest.join(',') : undefined;
  const source = (first ?? '').trim();
  let value: unknown = UNRESOLVED;
  if (source === 'sls:stage' || source === 'opt:stage' || source === 'self:provider.stage') value = ctx.stage;
  else if (source === 'aws:region' || source === 'opt:region' || source === 'self:provider.region')
    value = ctx.region;
  else if (source === 'aws:accountId') value = ctx.accountId;
  else if (source === 'sls:instanceId') value = 'local';
  else if (source.startsWith('env:')) value = ctx.env[source.slice(4)] ?? UNRESOLVED;
  else if (source.startsWith('file(')) value = fileValue(source, ctx);
  else if (source.startsWith('self:')) {
    const found = lookupPath(ctx.doc, source.slice(5), ctx, depth);
    value = found === UNRESOLVED ? UNRESOLVED : resolveVariables(found, ctx, depth + 1);
  }
  if (value === UNRESOLVED || value === undefined) return parseDefault(fallback, ctx, depth);
  return value;
}

function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  let quote: string | undefined;
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = undefined;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '{') depth++;
    else if (ch === '}') depth--;
    else if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
      continue;
    }
    current += ch;
  }
  parts.push(current);
  return parts;
}

/** Finds the innermost `${...}` (no `${` inside) so nested variables resolve inside-out. */
const INNERMOST = /\$\{([^${}]*)\}/;

function resolveString(text: string, ctx: VariableContext, depth: number): unknown {
  let current = text;
  for (let i = 0; i < 50; i++) {
    const match = INNERMOST.exec(current);
    if (!match) return current;
    // `${file(...)}` and unknown sources cannot be resolved locally.
    const value = resolveReference(match[1]!, ctx, depth);
    if (value === UNRESOLVED) return UNRESOLVED;
    if (match[0] === current) return value; // the whole string is one variable: keep its type
    current = current.replace(match[0], typeof value === 'string' ? value : JSON.stringify(value));
  }
  return UNRESOLVED;
}

/** Resolves Serverless variables in a value; unresolvable strings become undefined. */
function resolveVariables(value: unknown, ctx: VariableContext, depth = 0): unknown {
  if (depth > 20) return undefined;
  if (typeof value === 'string') {
    if (!value.includes('${')) return value;
    const resolved = resolveString(value, ctx, depth);
    return resolved === UNRESOLVED ? undefined : resolved;
  }
  if (Array.isArray(value)) return value.map((item) => resolveVariables(item, ctx, depth));
  if (value && typeof value === 'object') {
    // CloudFormation objects (`Fn::Sub` strings use ${X} for CloudFormation, not Serverless).
    const keys = Object.keys(value);
    // Serverless resolves its variables inside Fn::Join lists too (`${sls:stage}` in an ARN part);
    // Fn::Sub strings keep their ${...}, which are CloudFormation's.
    if (keys.length === 1 && keys[0] === 'Fn::Join') {
      return { 'Fn::Join': resolveVariables((value as Record<string, unknown>)['Fn::Join'], ctx, depth + 1) };
    }
    if (keys.length === 1 && (keys[0] === 'Ref' || keys[0]!.startsWith('Fn::'))) return value;
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, resolveVariables(item, ctx, depth)]),
    );
  }
  return value;
}

export interface LoadOptions {
  rootDir: string;
  stage?: string;
  region?: string;
  accountId?: string;
  env?: NodeJS.ProcessEnv;
  /**
   * Values of `${file(<path>)}` variables by path relative to the project root (`./` optional),
   * e.g. `{'scripts/sls/config.cjs': deploymentValues(config, file)}`; other files stay unresolved.
   */
  files?: Record<string, unknown>;
  /** The local cloud's endpoint (SQS queue URLs). */
  endpoint?: string;
}

/** Reads `<rootDir>/serverless.yml` (or discovers functions from the folder layout). */
export function loadServerlessProject(options: LoadOptions): ServerlessProject {
  const stage = options.stage ?? 'local';
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '000000000000';
  const file = join(options.rootDir, 'serverless.yml');
  if (!existsSync(file)) return discoverFromLayout(options.rootDir, stage, region, accountId);

  const parsed = (parseCfnYaml(readFileSync(file, 'utf8')) ?? {}) as Record<string, unknown>;
  const ctx: VariableContext = {
    doc: parsed,
    stage,
    region,
    accountId,
    env: options.env ?? process.env,
    files: options.files ?? {},
  };
  const doc = resolveVariables(parsed, ctx) as Record<string, unknown>;
  const service = typeof doc.service === 'string' ? doc.service : SERVICE_NAME;
  const provider = (doc.provider ?? {}) as Record<string, unknown>;
  const providerEnv = (provider.environment ?? {}) as Record<string, unknown>;

  const functions = new Map<string, ServerlessFunction>();
  for (const [key, rawFn] of Object.entries((doc.functions ?? {}) as Record<string, unknown>)) {
    const fn = (rawFn ?? {}) as Record<string, unknown>;
    const handler = typeof fn.handler === 'string' ? fn.handler : `functions/${key}/handler.handler`;
    const dot = handler.lastIndexOf('.');
    functions.set(key, {
      key,
      name: typeof fn.name === 'string' ? fn.name : `${service}-${stage}-${key}`,
      handlerModule: join(options.rootDir, handler.slice(0, dot)),
      handlerExport: handler.slice(dot + 1),
      timeout: Number(fn.timeout ?? provider.timeout ?? 6),
      memorySize: Number(fn.memorySize ?? provider.memorySize ?? 1024),
      environment: { ...providerEnv, ...((fn.environment ?? {}) as Record<string, unknown>) },
      events: Array.isArray(fn.events) ? (fn.events as Record<string, unknown>[]) : [],
    });
  }

  const stepFunctions = (doc.stepFunctions ?? {}) as Record<string, unknown>;
  const stateMachines: ServerlessStateMachine[] = [];
  for (const [key, rawMachine] of Object.entries(
    (stepFunctions.stateMachines ?? {}) as Record<string, unknown>,
  )) {
    const machine = (rawMachine ?? {}) as Record<string, unknown>;
    // `definition: ${file(statemachines/x.asl.json)}` is left unresolved by resolveVariables; read it raw.
    const rawDefinition = (
      ((parsed.stepFunctions as Record<string, unknown>)?.stateMachines as Record<string, unknown>)?.[key] as
        | Record<string, unknown>
        | undefined
    )?.definition;
    const fileMatch = typeof rawDefinition === 'string' ? /\$\{file\(([^)]+)\)/.exec(rawDefinition) : null;
    const name = typeof machine.name === 'string' ? machine.name : undefined;
    const custom = (typeof machine.id === 'string' ? machine.id : undefined) ?? name;
    stateMachines.push({
      key,
      name,
      logicalId: custom
        ? normalizedResourceName(custom)
        : `${normalizedResourceName(key)}StepFunctionsStateMachine`,
      definitionFile: fileMatch ? fileMatch[1]!.trim().replace(/^\.\//, '') : undefined,
      events: Array.isArray(machine.events) ? (machine.events as Record<string, unknown>[]) : [],
    });
  }

  // Functions whose folder exists but that serverless.yml does not declare yet still run locally
  // (packaging, whose tests check serverless.yml, is where a missing declaration fails).
  for (const [key, fn] of discoverFromLayout(options.rootDir, stage, region, accountId).functions) {
    if (!functions.has(key)) {
      functions.set(key, {
        ...fn,
        name: `${service}-${stage}-${key}`,
        timeout: Number(provider.timeout ?? 6),
        memorySize: Number(provider.memorySize ?? 1024),
        environment: { ...providerEnv },
      });
    }
  }

  const resources = (((doc.resources ?? {}) as Record<string, unknown>).Resources ??
    {}) as ServerlessProject['resources'];
  return {
    rootDir: options.rootDir,
    service,
    stage,
    region,
    accountId,
    fromFile: true,
    functions,
    stateMachines,
    resources,
    raw: doc,
    endpoint: options.endpoint,
  };
}

function discoverFromLayout(
  rootDir: string,
  stage: string,
  region: string,
  accountId: string,
): ServerlessProject {
  const functions = new Map<string, ServerlessFunction>();
  const dir = join(rootDir, 'functions');
  if (existsSync(dir)) {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const base = join(dir, entry.name, 'handler');
      if (!['.ts', '.js', '.mjs'].some((ext) => existsSync(base + ext))) continue;
      functions.set(entry.name, {
        key: entry.name,
        name: `${SERVICE_NAME}-${stage}-${entry.name}`,
        handlerModule: base,
        handlerExport: 'handler',
        timeout: 6,
        memorySize: 1024,
        environment: {},
        events: [],
      });
    }
  }
  return {
    rootDir,
    service: SERVICE_NAME,
    stage,
    region,
    accountId,
    fromFile: false,
    functions,
    stateMachines: [],
    resources: {},
    raw: {},
  };
}

/** Local name of a state machine: its `name:` in serverless.yml, else `<service>-<stage>-<key>`. */
export function stateMachineNameFor(project: ServerlessProject, key: string): string {
  const machine = project.stateMachines.find((candidate) => candidate.key === key);
  return machine?.name ?? `${project.service}-${project.stage}-${key}`;
}

export function lambdaArn(project: ServerlessProject, functionName: string): string {
  return `arn:aws:lambda:${project.region}:${project.accountId}:function:${functionName}`;
}

export function stateMachineArn(project: ServerlessProject, name: string): string {
  return `arn:aws:states:${project.region}:${project.accountId}:stateMachine:${name}`;
}

type Attribute = 'Ref' | string;

/** What `Ref` / `Fn::GetAtt` of a logical id gives locally, or undefined. */
function logicalIdValue(
  project: ServerlessProject,
  logicalId: string,
  attribute: Attribute,
): string | undefined {
  const pseudo: Record<string, string> = {
    'AWS::Region': project.region,
    'AWS::AccountId': project.accountId,
    'AWS::Partition': 'aws',
    'AWS::URLSuffix': 'amazonaws.com',
    'AWS::StackName': `${project.service}-${project.stage}`,
    'AWS::NoValue': '',
  };
  if (attribute === 'Ref' && logicalId in pseudo) return pseudo[logicalId];
  for (const fn of project.functions.values()) {
    if (`${normalizedResourceName(fn.key)}LambdaFunction` !== logicalId) continue;
    return attribute === 'Ref' ? fn.name : attribute === 'Arn' ? lambdaArn(project, fn.name) : undefined;
  }
  for (const machine of project.stateMachines) {
    if (machine.logicalId !== logicalId) continue;
    const name = stateMachineNameFor(project, machine.key);
    if (attribute === 'Name') return name;
    return attribute === 'Ref' || attribute === 'Arn' ? stateMachineArn(project, name) : undefined;
  }
  const resource = project.resources[logicalId];
  if (!resource) return undefined;
  const props = resource.Properties ?? {};
  const named = (key: string) => (typeof props[key] === 'string' ? (props[key] as string) : logicalId);
  switch (resource.Type) {
    case 'AWS::SQS::Queue': {
      const name = physicalName(project, logicalId, 'QueueName');
      if (!name) return undefined;
      if (attribute === 'Ref' || attribute === 'QueueUrl') return sqsQueueUrl(project, name);
      if (attribute === 'Arn') return `arn:aws:sqs:${project.region}:${project.accountId}:${name}`;
      return attribute === 'QueueName' ? name : undefined;
    }
    case 'AWS::DynamoDB::Table': {
      const name = physicalName(project, logicalId, 'TableName');
      if (!name) return undefined;
      if (attribute === 'Ref') return name;
      return attribute === 'Arn'
        ? `arn:aws:dynamodb:${project.region}:${project.accountId}:table/${name}`
        : undefined;
    }
    case 'AWS::SSM::Document':
    case 'AWS::SSM::Parameter':
    case 'AWS::Events::Rule':
      return attribute === 'Ref' ? named('Name') : undefined;
    case 'AWS::S3::Bucket':
      return attribute === 'Ref'
        ? named('BucketName')
        : attribute === 'Arn'
          ? `arn:aws:s3:::${named('BucketName')}`
          : undefined;
    case 'AWS::IAM::Role':
      return attribute === 'Ref'
        ? named('RoleName')
        : attribute === 'Arn'
          ? `arn:aws:iam::${project.accountId}:role/${named('RoleName')}`
          : undefined;
    case 'AWS::Logs::LogGroup': {
      const name = physicalName(project, logicalId, 'LogGroupName');
      if (!name) return undefined;
      // CloudFormation's Arn attribute of a log group ends in `:*`.
      if (attribute === 'Arn')
        return `arn:aws:logs:${project.region}:${project.accountId}:log-group:${name}:*`;
      return attribute === 'Ref' ? name : undefined;
    }
    case 'AWS::IAM::InstanceProfile':
      return attribute === 'Ref'
        ? named('InstanceProfileName')
        : attribute === 'Arn'
          ? `arn:aws:iam::${project.accountId}:instance-profile/${named('InstanceProfileName')}`
          : undefined;
    default:
      return undefined;
  }
}

/**
 * The physical name of a resource: its `<nameProperty>` (evaluated), else the name CloudFormation
 * would generate, made deterministic locally (`<service>-<stage>-<logicalId>`).
 */
export function physicalName(
  project: ServerlessProject,
  logicalId: string,
  nameProperty: string,
): string | undefined {
  const value = project.resources[logicalId]?.Properties?.[nameProperty];
  if (value === undefined) return `${project.service}-${project.stage}-${logicalId}`;
  return evaluateCfn(project, value);
}

/** A queue's URL: `<endpoint>/<account>/<name>` on the local cloud, AWS's form otherwise. */
export function sqsQueueUrl(
  project: Pick<ServerlessProject, 'endpoint' | 'region' | 'accountId'>,
  name: string,
) {
  const base = project.endpoint ?? `https://sqs.${project.region}.amazonaws.com`;
  return `${base.replace(/\/+$/, '')}/${project.accountId}/${name}`;
}

/**
 * Evaluates a CloudFormation value (string, `Ref`, `Fn::GetAtt`, `Fn::Sub`, `Fn::Join`) with local
 * values. Returns undefined when something cannot be known locally.
 */
export function evaluateCfn(project: ServerlessProject, value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const [key, arg] = Object.entries(value)[0] ?? [];
  if (key === 'Ref' && typeof arg === 'string') return logicalIdValue(project, arg, 'Ref');
  if (key === 'Fn::GetAtt') {
    const [id, attribute] = Array.isArray(arg) ? arg : String(arg).split('.');
    return typeof id === 'string' && typeof attribute === 'string'
      ? logicalIdValue(project, id, attribute)
      : undefined;
  }
  if (key === 'Fn::Join' && Array.isArray(arg) && Array.isArray(arg[1])) {
    const parts = (arg[1] as unknown[]).map((part) => evaluateCfn(project, part));
    return parts.some((part) => part === undefined) ? undefined : parts.join(String(arg[0]));
  }
  if (key === 'Fn::Sub') {
    const [template, vars] = Array.isArray(arg) ? arg : [arg, {}];
    if (typeof template !== 'string') return undefined;
    let failed = false;
    const out = template.replace(/\$\{([^}!][^}]*)\}/g, (_all, name: string) => {
      const local = (vars as Record<string, unknown>)?.[name];
      const resolved =
        local !== undefined
          ? evaluateCfn(project, local)
          : name.includes('.') && !name.startsWith('AWS::')
            ? logicalIdValue(project, name.slice(0, name.indexOf('.')), name.slice(name.indexOf('.') + 1))
            : logicalIdValue(project, name, 'Ref');
      if (resolved === undefined) failed = true;
      return resolved ?? '';
    });
    return failed ? undefined : out;
  }
  return undefined;
}

/**
 * Evaluates every CloudFormation value inside a document (`deadLetterTargetArn: !GetAtt Dlq.Arn`);
 * values that cannot be known locally become undefined.
 */
export function evaluateCfnDeep(project: ServerlessProject, value: unknown): unknown {
  if (Array.isArray(value)) return value.map((item) => evaluateCfnDeep(project, item));
  if (value && typeof value === 'object') {
    const keys = Object.keys(value);
    if (keys.length === 1 && (keys[0] === 'Ref' || keys[0]!.startsWith('Fn::')))
      return evaluateCfn(project, value);
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, evaluateCfnDeep(project, item)]),
    );
  }
  return value;
}
