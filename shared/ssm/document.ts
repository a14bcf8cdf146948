/**
 * The project's SSM Command document (`ssm/transfer-document.yaml`): its parameter patterns and the
 * parameter values for a run. The patterns are derived from the path rules in `shared/paths.ts`, so
 * the document, the config schema and the CLI accept the same values; a unit test checks that the
 * YAML file carries exactly these patterns.
 *
 * SSM substitutes `{{ Param }}` textually into the shell script, so these patterns are what keeps
 * shell syntax out of it: none of them admits a quote, `$`, backtick, `;`, `|`, `&`, `<`, `>`, `\`,
 * whitespace other than the single spaces separating filters, or a newline.
 */
import { SAFE_FILTER_PATTERN, SAFE_PATH_PATTERN } from '../paths.js';
import type { TransferPlan } from '../plan/schema.js';

/** Characters of the safe path set, as the body of a regex character class. */
function classBody(pattern: RegExp): string {
  const match = /^\^\[(.*)\][*+]\$$/.exec(pattern.source);
  if (!match?.[1]) throw new Error(`unexpected pattern ${pattern.source}`);
  return match[1];
}

const PATH_CHARS = classBody(SAFE_PATH_PATTERN); // A-Za-z0-9._/+=@,:~-
/** Safe characters that may start a segment: the path set without `.` and `/`. */
const LEAD = PATH_CHARS.replace('.', '').replace('/', '');
/** Safe characters inside a segment: the path set without `/` (the `-` stays last). */
const INNER = PATH_CHARS.replace('/', '');
/**
 * One path segment of safe characters that is neither `.` nor `..` (no look-ahead, so the same
 * pattern works in SSM's validator and in JavaScript): it starts with a non-dot, or with one dot and
 * a non-dot, or with two dots and at least one more character.
 */
const SEGMENT = `(?:[${LEAD}][${INNER}]*|\\.[${LEAD}][${INNER}]*|\\.\\.[${INNER}]+)`;
const BUCKET = '[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]';
/**
 * Escapes `[` inside character classes: SSM validates allowedPattern with Java's regex engine, where
 * an unescaped `[` inside a class opens a nested class (a union) instead of matching `[`.
 */
export function javaSafeClasses(pattern: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '\\') {
      out += c + (pattern[i + 1] ?? '');
      i++;
    } else if (c === '[' && inClass) out += '\\[';
    else {
      if (c === '[') inClass = true;
      else if (c === ']') inClass = false;
      out += c;
    }
  }
  return out;
}

/** One include/exclude filter: the filter rule of shared/paths.ts without its anchors. */
const FILTER = `(?:${javaSafeClasses(SAFE_FILTER_PATTERN.source.replace(/^\^/, '').replace(/\$$/, ''))})`;

/** allowedPattern of every parameter of the transfer document that is not an allowedValues enum. */
export const DOCUMENT_PATTERNS = {
  FileSystemDnsName: '^[a-z0-9][a-z0-9.-]{0,252}$',
  MountName: '^[A-Za-z0-9]{1,16}$',
  /** Absolute, normalised, not `/` itself. */
  MountPoint: `^(?:/${SEGMENT})+$`,
  /** Absolute, normalised path on the file system; `/` is the whole file system. */
  FsxPath: `^(?:/|(?:/${SEGMENT})+)$`,
  S3Bucket: `^${BUCKET}$`,
  /** Key prefix without leading or trailing slash; empty for the whole bucket. */
  S3Prefix: `^(?:${SEGMENT}(?:/${SEGMENT})*)?$`,
  /** Filters separated by single spaces (filters themselves never contain spaces). */
  Include: `^(?:${FILTER}(?: ${FILTER})*)?$`,
  Exclude: `^(?:${FILTER}(?: ${FILTER})*)?$`,
  /** Where the file system listing goes, or empty for none. */
  ListingUri: `^(?:s3://${BUCKET}(?:/${SEGMENT})+)?$`,
  /** Where the checksums step writes the file system checksums (checksum verification), or empty. */
  ChecksumsUri: `^(?:s3://${BUCKET}(?:/${SEGMENT})+)?$`,
  /** Where the sync publishes its progress, or empty for none. */
  ProgressUri: `^(?:s3://${BUCKET}(?:/${SEGMENT})+)?$`,
  Region: '^[a-z]{2}(?:-gov)?-[a-z]+-[0-9]$',
  ExecutionTimeout: '^[1-9][0-9]{0,5}$',
  MaxConcurrentRequests: '^[1-9][0-9]{0,2}$',
  MultipartChunkSize: '^[1-9][0-9]{0,3}$',
  /** Scale-out key boundaries (shared/ec2/shards.ts BOUNDARY_CHARS), or empty for none. */
  ShardStart: '^[A-Za-z0-9._/-]{0,200}$',
  ShardEnd: '^[A-Za-z0-9._/-]{0,200}$',
} as const;

/** allowedValues of the enum parameters. */
export const DOCUMENT_VALUES = {
  Mode: ['sync', 'list'],
  Direction: ['stage-in', 'export'],
  Delete: ['true', 'false'],
} as const;

export type DocumentParameterName = keyof typeof DOCUMENT_PATTERNS | keyof typeof DOCUMENT_VALUES;
export type TransferCommandParameters = Record<DocumentParameterName, string>;

/** The steps of the transfer document (ssm/transfer-document.yaml), in order. */
export const TRANSFER_DOCUMENT_STEPS = ['transfer', 'checksums'] as const;

/** Key prefix (inside the mapping bucket) where file system listings are written for verification. */
export const RESERVED_PREFIX = '.fsx-transfer';

/**
 * Longest run a single command may take: 48 h. The SSM agent accepts a plugin timeoutSeconds of 5 to
 * 172800 and silently uses its 1-hour default for anything else (amazon-ssm-agent, agent/plugins/
 * pluginutil `maxExecutionTimeoutInSeconds`); SendCommand's own TimeoutSeconds (30 to 2592000) only
 * bounds delivery. A run may last longer (its deadline, docs/planning.md); one command cannot.
 */
export const MAX_EXECUTION_TIMEOUT_SECONDS = 172_800;

/** Where the instance writes the file system listing of a run. */
export function listingUriFor(plan: Pick<TransferPlan, 'scope' | 'transferId'>, instanceId: string): string {
  return `s3://${plan.scope.bucket}/${RESERVED_PREFIX}/listings/${plan.transferId}/${instanceId}.list`;
}

/** Where the instance writes the file system checksums of a run (checksum verification). */
export function checksumsUriFor(
  plan: Pick<TransferPlan, 'scope' | 'transferId'>,
  instanceId: string,
): string {
  return `s3://${plan.scope.bucket}/${RESERVED_PREFIX}/checksums/${plan.transferId}/${instanceId}.checksums`;
}

/**
 * Where the transfer instance publishes the progress of a run's sync (read by
 * shared/transfers/progress.ts); under the bucket's `.fsx-transfer/`, which the sync never copies.
 */
export function progressUriFor(plan: Pick<TransferPlan, 'scope' | 'transferId'>, shard?: number): string {
  return `s3://${plan.scope.bucket}/${progressKeyFor(plan.transferId, shard)}`;
}

/**
 * The key of a run's progress object in its mapping's bucket; each instance of a scaled-out run
 * publishes its own, under `shardProgressPrefix` (the reader adds them up).
 */
export function progressKeyFor(transferId: string, shard?: number): string {
  return shard === undefined
    ? `${RESERVED_PREFIX}/progress/${transferId}.json`
    : `${shardProgressPrefix(transferId)}${shard}.json`;
}

/** Where the shards of a scaled-out run publish their progress objects. */
export function shardProgressPrefix(transferId: string): string {
  return `${RESERVED_PREFIX}/progress/${transferId}/`;
}

/** Parameter values of the transfer document for `plan` (validate them with `documentParameterProblems`). */
export function buildCommandParameters(
  plan: Pick<TransferPlan, 'direction' | 'fileSystem' | 'scope' | 'options'>,
  options: {
    mode: 'sync' | 'list';
    listingUri: string;
    /** Where the sync publishes its progress ('' or absent: nowhere). */
    progressUri?: string;
    /** Where the checksums step writes the file system checksums ('' or absent: no checksums). */
    checksumsUri?: string;
    executionTimeoutSeconds: number;
    maxConcurrentRequests?: number;
    multipartChunkSizeMb?: number;
    /** The instance's key range when the run scales out (shared/ec2/shards.ts). */
    shard?: { start?: string; end?: string };
  },
): TransferCommandParameters {
  return {
    Mode: options.mode,
    Direction: plan.direction,
    FileSystemDnsName: plan.fileSystem.dnsName,
    MountName: plan.fileSystem.mountName,
    MountPoint: plan.fileSystem.mountPoint,
    FsxPath: plan.scope.fsxPath,
    S3Bucket: plan.scope.bucket,
    S3Prefix: plan.scope.prefix,
    Include: plan.options.include.join(' '),
    Exclude: plan.options.exclude.join(' '),
    Delete: plan.options.delete ? 'true' : 'false',
    ListingUri: options.listingUri,
    ChecksumsUri: options.checksumsUri ?? '',
    ProgressUri: options.progressUri ?? '',
    Region: plan.fileSystem.region,
    ExecutionTimeout: String(
      Math.min(MAX_EXECUTION_TIMEOUT_SECONDS, Math.max(60, Math.floor(options.executionTimeoutSeconds))),
    ),
    MaxConcurrentRequests: String(options.maxConcurrentRequests ?? 32),
    MultipartChunkSize: String(options.multipartChunkSizeMb ?? 8),
    ShardStart: options.shard?.start ?? '',
    ShardEnd: options.shard?.end ?? '',
  };
}

/** Each parameter whose value its pattern or allowed values refuse, as `Name: why` (empty when all pass). */
export function documentParameterProblems(params: Record<string, string>): string[] {
  const problems: string[] = [];
  for (const [name, pattern] of Object.entries(DOCUMENT_PATTERNS)) {
    const value = params[name];
    if (value === undefined) problems.push(`${name}: missing`);
    else if (!new RegExp(pattern).test(value))
      problems.push(`${name}: ${JSON.stringify(value)} does not match ${pattern}`);
  }
  for (const [name, allowed] of Object.entries(DOCUMENT_VALUES)) {
    const value = params[name];
    if (value === undefined) problems.push(`${name}: missing`);
    else if (!(allowed as readonly string[]).includes(value)) {
      problems.push(`${name}: ${JSON.stringify(value)} is not one of ${allowed.join(', ')}`);
    }
  }
  const known = new Set([...Object.keys(DOCUMENT_PATTERNS), ...Object.keys(DOCUMENT_VALUES)]);
  for (const name of Object.keys(params))
    if (!known.has(name)) problems.push(`${name}: not a document parameter`);
  return problems;
}
