/**
 * Loading the config file: YAML -> `ConfigSchema`, with every problem reported as
 * `<file>:<line>:<col> <field>: <rule>` so a user can jump straight to it.
 *
 * How the config reaches Lambda: the file is bundled into every function package
 * (serverless.yml `package.patterns`, copied by serverless-esbuild) and each function gets
 * `FSX_TRANSFER_CONFIG=<path relative to the package root>`; the Lambda working directory is the
 * package root (`/var/task`), so `getConfig()` reads it exactly like the CLI reads the local file.
 * A bundled file was chosen over an environment variable (4 KB limit for all variables of a
 * function, which a config with a few dozen mappings exceeds) and over an SSM parameter (an extra
 * call, IAM grant and failure mode on every cold start): the IAM statements are generated from the
 * same file at package time, so config and permissions always change together in one deploy.
 * Locally (CLI, local cloud, tests) `FSX_TRANSFER_CONFIG` points at any file.
 */
import { readFileSync } from 'node:fs';
import { isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import type * as z from 'zod';
import { ConfigError, MappingNotFoundError } from '../errors.js';
import { type Config, ConfigSchema, type FileSystemConfig, type MappingConfig } from './schema.js';

export const DEFAULT_CONFIG_PATH = 'fsx-transfer.config.yaml';
export const CONFIG_ENV = 'FSX_TRANSFER_CONFIG';

/** One problem in a config file, with its position (1-based) when the YAML node could be found. */
export interface ConfigIssue {
  file: string;
  line: number;
  col: number;
  /** Dotted field path, e.g. `mappings[1].fsxPath` (`(root)` for the whole document). */
  field: string;
  rule: string;
}

/** The path `loadConfig()` reads when no path is given: `$FSX_TRANSFER_CONFIG`, else the default. */
export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  return env[CONFIG_ENV] || DEFAULT_CONFIG_PATH;
}

/**
 * Reads and validates a config file.
 * @param path defaults to `$FSX_TRANSFER_CONFIG`, else `fsx-transfer.config.yaml` (relative to the cwd).
 * @returns the config with defaults applied.
 * @throws ConfigError naming file, line, field and rule for every problem (`details.issues`).
 */
export function loadConfig(path: string = configPath()): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : String(error);
    throw new ConfigError(
      `${path}: cannot read the config file (${reason}); copy fsx-transfer.config.example.yaml or set ${CONFIG_ENV}`,
      { cause: error, details: { file: path } },
    );
  }
  return parseConfig(text, path);
}

/**
 * Validates config YAML text; `file` is only used in messages.
 * @throws ConfigError as `loadConfig`.
 */
export function parseConfig(text: string, file = DEFAULT_CONFIG_PATH): Config {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const at = (offset: number | undefined) => {
    const { line, col } = lineCounter.linePos(offset ?? 0);
    return { line: Math.max(line, 1), col: Math.max(col, 1) };
  };
  if (doc.errors.length > 0) {
    const issues = doc.errors.map((error) => ({
      file,
      ...at(error.pos[0]),
      field: '(yaml)',
      rule: error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, ''),
    }));
    throw configError(file, issues);
  }
  const result = ConfigSchema.safeParse(doc.toJS(), { error: ruleFor });
  if (result.success) return result.data;
  const issues = result.error.issues.flatMap((issue): ConfigIssue[] => {
    if (issue.code === 'unrecognized_keys') {
      const allowed = allowedKeys(issue.path);
      return issue.keys.map((key) => ({
        file,
        ...at(locate(doc.contents, [...issue.path, key], 'key')),
        field: formatField([...issue.path, key]),
        rule: `unknown key${allowed ? `; allowed keys: ${allowed.join(', ')}` : ''}`,
      }));
    }
    return [
      {
        file,
        ...at(locate(doc.contents, issue.path, 'value')),
        field: formatField(issue.path),
        rule: issue.message,
      },
    ];
  });
  throw configError(file, issues);
}

function configError(file: string, unsorted: ConfigIssue[]): ConfigError {
  const issues = [...unsorted].sort((a, b) => a.line - b.line || a.col - b.col);
  const lines = issues.map((i) => `${i.file}:${i.line}:${i.col} ${i.field}: ${i.rule}`);
  const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
  return new ConfigError(`Invalid config ${file} (${count}):\n  ${lines.join('\n  ')}`, {
    details: { file, issues },
  });
}

/** `['mappings', 1, 'fsxPath']` -> `mappings[1].fsxPath`. */
export function formatField(path: readonly PropertyKey[]): string {
  const text = path
    .map((segment) => (typeof segment === 'number' ? `[${segment}]` : `.${String(segment)}`))
    .join('')
    .replace(/^\./, '');
  return text || '(root)';
}

/**
 * Offset of the YAML node at `path` (its key with `want: 'key'`), or of the deepest existing
 * ancestor when the node is missing (a required key points at the object that lacks it).
 */
function locate(root: unknown, path: readonly PropertyKey[], want: 'key' | 'value'): number | undefined {
  let node = root as Node | null | undefined;
  let offset = node?.range?.[0];
  for (const [index, segment] of path.entries()) {
    const last = index === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find(
        (item) => isPair(item) && isScalar(item.key) && item.key.value === segment,
      );
      if (!pair) return offset;
      const key = pair.key as Node;
      if (last && want === 'key') return key.range?.[0] ?? offset;
      node = pair.value as Node | null;
      offset = node?.range?.[0] ?? key.range?.[0] ?? offset;
    } else if (isSeq(node) && typeof segment === 'number') {
      node = node.items[segment] as Node | undefined;
      if (!node) return offset;
      offset = node.range?.[0] ?? offset;
    } else {
      return offset;
    }
  }
  return offset;
}

type AnySchema = z.core.$ZodType;

/** The keys a strict object at `path` of the schema accepts, or undefined when unknown. */
function allowedKeys(path: readonly PropertyKey[]): string[] | undefined {
  let schema: AnySchema | undefined = ConfigSchema;
  for (const segment of [...path, undefined]) {
    schema = unwrap(schema);
    const def = schema?._zod.def as { type?: string; shape?: Record<string, AnySchema>; element?: AnySchema };
    if (segment === undefined) return def.type === 'object' && def.shape ? Object.keys(def.shape) : undefined;
    if (def.type === 'object' && typeof segment === 'string') schema = def.shape?.[segment];
    else if (def.type === 'array' && typeof segment === 'number') schema = def.element;
    else return undefined;
  }
  return undefined;
}

function unwrap(schema: AnySchema | undefined): AnySchema | undefined {
  let current = schema;
  for (let depth = 0; current && depth < 10; depth++) {
    const def = current._zod.def as { type: string; innerType?: AnySchema; in?: AnySchema };
    if (def.innerType) current = def.innerType;
    else if (def.type === 'pipe' && def.in) current = def.in;
    else break;
  }
  return current;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping (key: value)',
};

/**
 * Per-parse zod error map: rules worded for a config file author. Messages declared in the
 * schema (path rules, regex rules) take precedence and are kept as they are.
 */
function ruleFor(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type': {
      if (issue.input === undefined) return 'is required';
      const expected = EXPECTED[issue.expected] ?? issue.expected;
      return `must be ${expected}, got ${describeValue(issue.input)}`;
    }
    case 'invalid_value':
      return issue.values.length === 1
        ? `must be ${JSON.stringify(issue.values[0])}`
        : `must be one of ${issue.values.map((v) => String(v)).join(', ')}`;
    case 'too_small':
      if (issue.origin === 'array') return `must have at least ${issue.minimum} item(s)`;
      if (issue.origin === 'string') return `must be at least ${issue.minimum} character(s)`;
      return `must be ${issue.inclusive ? 'at least' : 'greater than'} ${issue.minimum}`;
    case 'too_big':
      if (issue.origin === 'array') return `must have at most ${issue.maximum} item(s)`;
      if (issue.origin === 'string') return `must be at most ${issue.maximum} character(s)`;
      return `must be ${issue.inclusive ? 'at most' : 'less than'} ${issue.maximum}`;
    default:
      return undefined;
  }
}

let cached: { path: string; config: Config } | undefined;

/**
 * The config for Lambda handlers: loaded once per container from `$FSX_TRANSFER_CONFIG` (set by
 * serverless.yml to the bundled file) and cached; reloaded when that variable changes (tests,
 * the local cloud running several configs in one process).
 * @throws ConfigError as `loadConfig`.
 */
export function getConfig(): Config {
  const path = configPath();
  if (cached?.path !== path) cached = { path, config: loadConfig(path) };
  return cached.config;
}

/** Forget the cached config (tests, or after editing the file in a long-running process). */
export function resetConfig(): void {
  cached = undefined;
}

/**
 * The mapping called `name`.
 * @throws MappingNotFoundError listing the configured mapping names.
 */
export function findMapping(config: Config, name: string): MappingConfig {
  const mapping = config.mappings.find((m) => m.name === name);
  if (mapping) return mapping;
  const known = config.mappings.map((m) => m.name);
  throw new MappingNotFoundError(`Unknown mapping "${name}"; configured mappings: ${known.join(', ')}`, {
    details: {
      field: 'mapping',
      rule: `must name a mapping of the config (${known.join(', ')})`,
      mapping: name,
      known,
    },
  });
}

/**
 * The config entry of the file system a mapping lives on (the schema guarantees it exists), with
 * the region defaulted to the top-level region.
 */
export function fileSystemFor(config: Config, mapping: MappingConfig): FileSystemConfig & { region: string } {
  const fileSystem = config.fileSystems.find((fs) => fs.id === mapping.fileSystemId);
  if (!fileSystem) {
    throw new ConfigError(`mapping ${mapping.name}: file system ${mapping.fileSystemId} is not configured`);
  }
  return { ...fileSystem, region: fileSystem.region ?? config.region };
}
