/**
 * The one comparison of a transfer scope's two sides, for both methods: the S3 listing against
 * the file system listing (names and sizes), and, for a DRA, against the counts of the data
 * repository task. A successful `aws s3 sync` or a SUCCEEDED task is not proof on its own:
 * filters, permissions on single objects, a second writer or a DRA that "succeeds" while files
 * never show up can leave gaps.
 */
import type { Direction } from '../config/schema.js';
import { VerificationFailedError } from '../errors.js';
import { formatS3Uri } from '../paths.js';
import type { TransferPlan } from '../plan/schema.js';
import { RESERVED_PREFIX } from '../ssm/document.js';
import { type ContentMismatch, mismatchLine, type Verification } from './content.js';
import type { ListedFile, Listing } from './listing.js';

/**
 * A glob of `aws s3 sync --include/--exclude` as a RegExp. The CLI matches with Python's fnmatch
 * against the path relative to the sync root: `*` matches any run of characters including `/`,
 * `?` one character, `[seq]` / `[!seq]` a character class.
 */
export function globToRegExp(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*') out += '.*';
    else if (c === '?') out += '.';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) {
        out += '\\[';
        continue;
      }
      let body = glob.slice(i + 1, end);
      const negate = body.startsWith('!');
      if (negate) body = body.slice(1);
      out += `[${negate ? '^' : ''}${body.replace(/\\/g, '\\\\').replace(/\^/g, '\\^')}]`;
      i = end;
    } else out += c.replace(/[.+^${}()|\\/\]]/g, '\\$&');
  }
  return new RegExp(`^${out}$`, 's');
}

/**
 * Whether `aws s3 sync` with our filters copies `path`. The document passes `--exclude '*'` then
 * each include (only when there are includes), then each exclude; the CLI applies filters in
 * order and the last match wins, so an exclude beats an include.
 */
export function passesFilters(path: string, include: readonly string[], exclude: readonly string[]): boolean {
  let included = true;
  if (include.length > 0) {
    included = false;
    if (include.some((glob) => globToRegExp(glob).test(path))) included = true;
  }
  if (exclude.some((glob) => globToRegExp(glob).test(path))) included = false;
  return included;
}

/** The counts of the data repository task that moved the files (a DRA's `TaskState`). */
export interface TaskCounts {
  type: string;
  ran: boolean;
  taskId?: string;
  succeeded?: number;
  failed?: number;
}

export interface CompareInput {
  direction: Direction;
  /** The S3 side of the scope (`listS3Scope`). */
  s3: readonly ListedFile[];
  /** The file system side, when it could be listed. */
  fsx?: Listing;
  /** The data repository task of a DRA transfer, when one ran. */
  task?: TaskCounts;
  /** `aws s3 sync` filters of an EC2 transfer; only the files they let through are compared. */
  include?: readonly string[];
  exclude?: readonly string[];
  /** Whether the transfer deletes destination files missing from the source (extra files fail it). */
  delete?: boolean;
  /**
   * Paths relative to the scope left out on both sides (completion reports). fsx-transfer's own
   * folder (`.fsx-transfer/`, EC2 listings) is always left out.
   */
  ignore?: readonly string[];
  /** How many differences to keep (all are counted); 100 by default. */
  maxDifferences?: number;
}

export interface SideTotals {
  files: number;
  bytes: number;
}

export interface Comparison {
  /** True when nothing differs. */
  ok: boolean;
  /** What was compared (task counts, file system listing). */
  checks: string[];
  /** The compared files of each side (after filters and ignored paths); `fsx` when it was listed. */
  s3: SideTotals;
  fsx?: SideTotals;
  missing: number;
  sizeMismatches: number;
  /** Files only in the destination (a difference only when the transfer deletes). */
  extra: number;
  /** Files whose content differs (checksum verification). */
  contentMismatches?: number;
  /** How many differences were found. */
  count: number;
  /** The first differences, readable: `missing on FSx: a/b.nc (123 bytes)`. */
  differences: string[];
}

const byPath = (a: ListedFile, b: ListedFile) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
const totals = (files: readonly ListedFile[]): SideTotals => ({
  files: files.length,
  bytes: files.reduce((sum, file) => sum + file.size, 0),
});

/** Compares what the transfer should have produced with what is there. Pure. */
export function compareScope(input: CompareInput): Comparison {
  const ignore = [RESERVED_PREFIX, ...(input.ignore ?? [])];
  const compared = (file: ListedFile) =>
    !ignore.some((path) => file.path === path || file.path.startsWith(`${path}/`)) &&
    passesFilters(file.path, input.include ?? [], input.exclude ?? []);
  const s3 = input.s3.filter(compared).sort(byPath);
  const max = input.maxDifferences ?? 100;
  const differences: string[] = [];
  let count = 0;
  const note = (line: string) => {
    count++;
    if (differences.length < max) differences.push(line);
  };
  const checks: string[] = [];
  const stageIn = input.direction === 'stage-in';

  const task = input.task;
  if (task?.ran) {
    checks.push(`${task.type} task ${task.taskId} counts`);
    if ((task.failed ?? 0) > 0)
      note(`${task.type} task ${task.taskId} reports ${task.failed} failed file(s)`);
    if (stageIn && (task.succeeded ?? 0) < s3.length) {
      note(`the import task imported ${task.succeeded ?? 0} file(s), but the S3 scope holds ${s3.length}`);
    }
    if (!stageIn && !input.fsx && (task.succeeded ?? 0) > s3.length) {
      note(`the export task exported ${task.succeeded} file(s), but the S3 scope holds only ${s3.length}`);
    }
  }

  const listing = input.fsx;
  const fsx = listing?.files.filter(compared).sort(byPath);
  let missing = 0;
  let sizeMismatches = 0;
  let extra = 0;
  if (listing && fsx) {
    checks.push(
      `file system listing (${listing.count} files${listing.truncated ? ', output truncated' : ''})`,
    );
    const [source, destination] = stageIn ? [s3, fsx] : [fsx, s3];
    const [from, to] = stageIn ? ['S3', 'FSx'] : ['FSx', 'S3'];
    const where = stageIn ? 'on FSx' : 'in S3';
    // A listing cut by SSM holds only some of the files: absent from it does not mean missing.
    const destinationComplete = !(stageIn && listing.truncated);
    if (stageIn && !listing.exists && s3.length > 0)
      note('the scope directory does not exist on the file system');
    const sizes = new Map(destination.map((file) => [file.path, file.size]));
    for (const file of source) {
      const size = sizes.get(file.path);
      if (size === undefined) {
        if (!destinationComplete) continue;
        missing++;
        note(`missing ${where}: ${file.path} (${file.size} bytes)`);
      } else if (size !== file.size) {
        sizeMismatches++;
        note(`size differs: ${file.path} (${from} ${file.size} bytes, ${to} ${size} bytes)`);
      }
    }
    if (listing.truncated && stageIn && listing.count < s3.length) {
      note(`FSx lists ${listing.count} file(s) in the scope, S3 holds ${s3.length}`);
    }
    if (listing.truncated && !stageIn && listing.count > s3.length) {
      note(`FSx holds ${listing.count} file(s) in the scope, S3 only ${s3.length}`);
    }
    if (!listing.truncated) {
      const inSource = new Set(source.map((file) => file.path));
      const extras = destination.filter((file) => !inSource.has(file.path));
      extra = extras.length;
      if (input.delete)
        for (const file of extras) note(`extra ${where}: ${file.path} (should have been deleted)`);
    }
  }
  return {
    ok: count === 0,
    checks,
    s3: totals(s3),
    ...(fsx ? { fsx: totals(fsx) } : {}),
    missing,
    sizeMismatches,
    extra,
    count,
    differences,
  };
}

/** What a branch hands to Summarize (`$.result`), whichever method moved the files. */
export interface BranchResult {
  files: number;
  bytes: number;
  verified: boolean;
  /** What verification covered (the summary's `verification`). */
  verification: Verification;
  details: Record<string, unknown>;
}

/**
 * The files whose content a checksum comparison looks at: in the S3 scope and on the file system
 * with the same size, and let through by the filters (the others already differ, or were not
 * transferred).
 */
export function sameSizeFiles(
  s3: readonly ListedFile[],
  fsx: readonly ListedFile[],
  filters: { include?: readonly string[]; exclude?: readonly string[] } = {},
): ListedFile[] {
  const sizes = new Map(fsx.map((file) => [file.path, file.size]));
  return s3.filter(
    (file) =>
      sizes.get(file.path) === file.size &&
      !(file.path === RESERVED_PREFIX || file.path.startsWith(`${RESERVED_PREFIX}/`)) &&
      passesFilters(file.path, filters.include ?? [], filters.exclude ?? []),
  );
}

/** The comparison with the content differences added (each names its file). */
export function withContentMismatches(
  comparison: Comparison,
  mismatches: readonly ContentMismatch[],
): Comparison {
  if (mismatches.length === 0) return comparison;
  return {
    ...comparison,
    ok: false,
    contentMismatches: mismatches.length,
    count: comparison.count + mismatches.length,
    differences: [...comparison.differences, ...mismatches.map(mismatchLine)],
  };
}

/** How many differences a failure message shows (the details keep more). */
const SHOWN = 20;

/**
 * The error for a comparison that found differences: both sides, their totals and the first
 * differences in the message; the differences, counts and checks in the details.
 */
export function verificationFailure(
  plan: Pick<TransferPlan, 'direction' | 'scope' | 'fileSystem'>,
  comparison: Comparison,
  details: Record<string, unknown> = {},
): VerificationFailedError {
  const s3 = formatS3Uri({ bucket: plan.scope.bucket, prefix: plan.scope.prefix });
  const [from, to] = plan.direction === 'stage-in' ? [s3, plan.scope.fsxPath] : [plan.scope.fsxPath, s3];
  const side = (name: string, t: SideTotals) => `${name} ${t.files} files, ${t.bytes} bytes`;
  const sides = [side('S3', comparison.s3), ...(comparison.fsx ? [side('FSx', comparison.fsx)] : [])];
  const shown = comparison.differences.slice(0, SHOWN).join('; ');
  const more = comparison.count > SHOWN ? `; and ${comparison.count - SHOWN} more` : '';
  const { ok: _ok, ...facts } = comparison;
  return new VerificationFailedError(
    `Verification of the ${plan.direction} ${from} -> ${to} on ${plan.fileSystem.id} found ${comparison.count} difference(s) (${sides.join('; ')}): ${shown}${more}`,
    { details: { ...facts, ...details } },
  );
}
