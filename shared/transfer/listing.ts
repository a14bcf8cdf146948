/**
 * Listings of a transfer scope on both sides (S3 objects, files on the file system) and their
 * comparison. The file system listing is written by the transfer instance (document mode `list`, or
 * after a sync) as NUL-terminated `size<TAB>relative path` records, because only a Lustre client
 * can see the files; the S3 listing comes from ListObjectsV2.
 */
import { paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';
import { rethrowTransient } from '../aws/transient.js';
import { RESERVED_PREFIX } from '../ssm/document.js';

/** One file of a scope: its path relative to the scope root and its size in bytes. */
export interface ListedFile {
  path: string;
  size: number;
}

/**
 * Parses a file system listing (`size\tpath\0` records; a trailing newline-terminated form is
 * accepted too for hand-written listings).
 * @throws Error naming the first malformed record.
 */
export function parseFsListing(text: string): ListedFile[] {
  const separator = text.includes('\0') ? '\0' : '\n';
  const files: ListedFile[] = [];
  for (const record of text.split(separator)) {
    if (record === '') continue;
    const tab = record.indexOf('\t');
    const size = Number(record.slice(0, tab));
    const path = record.slice(tab + 1);
    if (tab <= 0 || !Number.isSafeInteger(size) || size < 0 || path === '') {
      throw new Error(`malformed listing record ${JSON.stringify(record.slice(0, 200))}`);
    }
    files.push({ path, size });
  }
  return files;
}

/** Formats files as a listing (the inverse of `parseFsListing`), for tests and tools. */
export function formatFsListing(files: ListedFile[]): string {
  return files.map((file) => `${file.size}\t${file.path}\0`).join('');
}

/**
 * Objects under `prefix` (a scope's key prefix, no trailing slash; '' = whole bucket) as files
 * relative to the prefix. Folder markers (keys ending in `/`) are not files and are skipped; so is
 * fsx-transfer's own reserved prefix when the scope is the whole bucket.
 * @throws TransientAwsError on throttling; other S3 errors (NoSuchBucket, AccessDenied) unchanged.
 */
export async function listS3Scope(s3: S3Client, bucket: string, prefix: string): Promise<ListedFile[]> {
  const keyPrefix = prefix ? `${prefix}/` : '';
  const files: ListedFile[] = [];
  try {
    for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: bucket, Prefix: keyPrefix })) {
      for (const object of page.Contents ?? []) {
        const key = object.Key ?? '';
        if (key.endsWith('/')) continue;
        files.push({ path: key.slice(keyPrefix.length), size: object.Size ?? 0 });
      }
    }
  } catch (error) {
    rethrowTransient(error, `listing s3://${bucket}/${keyPrefix}`);
  }
  return prefix ? files : files.filter((file) => !isReservedPath(file.path));
}

/** True for paths under fsx-transfer's own prefix (listings), which transfers never copy. */
export function isReservedPath(path: string): boolean {
  return path === RESERVED_PREFIX || path.startsWith(`${RESERVED_PREFIX}/`);
}

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
export function passesFilters(path: string, include: string[], exclude: string[]): boolean {
  let included = true;
  if (include.length > 0) {
    included = false;
    if (include.some((glob) => globToRegExp(glob).test(path))) included = true;
  }
  if (exclude.some((glob) => globToRegExp(glob).test(path))) included = false;
  return included;
}

export interface ListingComparison {
  /** True when the destination holds every source file with the same size (and no extra file when `delete`). */
  ok: boolean;
  sourceFiles: number;
  sourceBytes: number;
  destinationFiles: number;
  destinationBytes: number;
  missing: number;
  sizeMismatches: number;
  /** Files only in the destination (a failure only when the transfer deletes). */
  extra: number;
  /** The first differences, readable: `missing: a/b.nc (123 bytes)`. */
  differences: string[];
}

/**
 * Compares the filtered source and destination listings of a scope (count, sizes, paths).
 * @param options.delete whether the transfer deletes destination files missing from the source;
 *   without it, extra destination files are expected and reported but are not a difference.
 */
export function compareListings(
  source: ListedFile[],
  destination: ListedFile[],
  options: { include: string[]; exclude: string[]; delete: boolean; maxDifferences?: number },
): ListingComparison {
  const keep = (file: ListedFile) =>
    !isReservedPath(file.path) && passesFilters(file.path, options.include, options.exclude);
  const src = source.filter(keep);
  const dst = new Map(destination.filter(keep).map((file) => [file.path, file.size]));
  const max = options.maxDifferences ?? 20;
  const differences: string[] = [];
  const note = (line: string) => {
    if (differences.length < max) differences.push(line);
  };
  let missing = 0;
  let sizeMismatches = 0;
  const seen = new Set<string>();
  for (const file of [...src].sort((a, b) => a.path.localeCompare(b.path))) {
    seen.add(file.path);
    const size = dst.get(file.path);
    if (size === undefined) {
      missing++;
      note(`missing: ${file.path} (${file.size} bytes)`);
    } else if (size !== file.size) {
      sizeMismatches++;
      note(`size differs: ${file.path} (source ${file.size} bytes, destination ${size} bytes)`);
    }
  }
  const extras = [...dst.keys()].filter((path) => !seen.has(path)).sort();
  if (options.delete) for (const path of extras) note(`extra: ${path} (should have been deleted)`);
  const sum = (files: Iterable<number>) => [...files].reduce((total, size) => total + size, 0);
  return {
    ok: missing === 0 && sizeMismatches === 0 && (!options.delete || extras.length === 0),
    sourceFiles: src.length,
    sourceBytes: sum(src.map((file) => file.size)),
    destinationFiles: dst.size,
    destinationBytes: sum(dst.values()),
    missing,
    sizeMismatches,
    extra: extras.length,
    differences,
  };
}
