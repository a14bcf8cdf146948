/**
 * The one listing format of a scope on the file system. Only a Lustre client can see the files, so
 * both methods have a script list them: the DRA method on a Lustre client through SSM (the listing
 * is the command's standard output, which SSM cuts at 24,000 characters), the EC2 method on its
 * transfer instance (the transfer document writes the listing to S3). Both run `listingScript`'s
 * lines (a unit test keeps the document's copy equal) and the verifiers read both with
 * `parseListing`:
 *
 *     FSXT-LISTING v1
 *     COUNT <files>
 *     BYTES <total size>
 *     SHA256 <hash of the record lines>
 *     <path><TAB><size>            one line per regular file, sorted bytewise (LC_ALL=C)
 *
 * or `MISSING <dir>` after the header when the directory does not exist. Paths are relative to
 * the scope; a backslash in a path is written `\\` and a newline `\n`, so one file is one line
 * whatever its name. The header counts let a verifier notice a listing that SSM cut short.
 */
import { createHash } from 'node:crypto';

export const LISTING_HEADER = 'FSXT-LISTING v1';

/** One file of a scope: its path relative to the scope root and its size in bytes. */
export interface ListedFile {
  path: string;
  size: number;
}

export interface Listing {
  /** False when the directory does not exist on the file system. */
  exists: boolean;
  count: number;
  bytes: number;
  sha256: string;
  /** The files whose lines are complete in the text, in listing order. */
  files: ListedFile[];
  /** True when the text holds fewer files than COUNT says (SSM cut the output). */
  truncated: boolean;
}

/**
 * The listing commands, reading the directory from `$dir` and printing the listing (POSIX sh with
 * GNU find, sed and coreutils, as on Amazon Linux). `followSymlinks` lists the files that symbolic
 * links point to, as `aws s3 sync` copies them.
 */
export function listingCommands(options: { followSymlinks?: boolean } = {}): string[] {
  const find = options.followSymlinks ? 'find -L .' : 'find .';
  return [
    'set -eu',
    `echo '${LISTING_HEADER}'`,
    'if [ ! -d "$dir" ]; then echo "MISSING $dir"; exit 0; fi',
    'list="$(mktemp)"',
    String.raw`(cd "$dir" && ${find} -type f -printf '%P\t%s\0') | LC_ALL=C sed -z 's/\\/\\\\/g; s/\n/\\n/g' | tr '\0' '\n' | LC_ALL=C sort > "$list"`,
    `echo "COUNT $(wc -l < "$list" | tr -d ' ')"`,
    String.raw`echo "BYTES $(awk -F'\t' '{s+=$NF} END {printf "%.0f", s}' "$list")"`,
    `echo "SHA256 $(sha256sum < "$list" | cut -d' ' -f1)"`,
    'cat "$list"',
    'rm -f "$list"',
  ];
}

/** The listing script for `dir` (a path that passed the path rules, so it can be single-quoted). */
export function listingScript(dir: string, options: { followSymlinks?: boolean } = {}): string[] {
  return [`dir='${dir}'`, ...listingCommands(options)];
}

const escapePath = (path: string) => path.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const unescapePath = (path: string) =>
  path.replace(/\\([\\n])/g, (_, c: string) => (c === 'n' ? '\n' : '\\'));

/** The record lines of `files` (without their newlines), sorted bytewise like `LC_ALL=C sort`. */
function recordLines(files: Iterable<ListedFile>): string[] {
  return [...files]
    .map((file) => `${escapePath(file.path)}\t${file.size}`)
    .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/** The SHA-256 the listing script prints for a set of files. */
export function listingHash(files: Iterable<ListedFile>): string {
  return createHash('sha256')
    .update(
      recordLines(files)
        .map((line) => `${line}\n`)
        .join(''),
    )
    .digest('hex');
}

/** Formats files as a listing (what the script prints for them), for tests and tools. */
export function formatListing(files: readonly ListedFile[]): string {
  const bytes = files.reduce((sum, file) => sum + file.size, 0);
  const header = [LISTING_HEADER, `COUNT ${files.length}`, `BYTES ${bytes}`, `SHA256 ${listingHash(files)}`];
  return [...header, ...recordLines(files)].map((line) => `${line}\n`).join('');
}

function headerValue(line: string | undefined, name: string): string {
  if (!line?.startsWith(`${name} `))
    throw new Error(`malformed listing: expected a ${name} line, got ${JSON.stringify(line)}`);
  return line.slice(name.length + 1).trim();
}

/**
 * Parses a listing. Text before the header (a mount message) is skipped; a last line without its
 * newline was cut by SSM and is left out.
 * @throws Error naming what is malformed (no header, a bad count or record).
 */
export function parseListing(text: string): Listing {
  const lines = text.split('\n');
  const start = lines.indexOf(LISTING_HEADER);
  if (start < 0) {
    throw new Error(
      `malformed listing: no "${LISTING_HEADER}" line in ${JSON.stringify(text.slice(0, 200))}`,
    );
  }
  const body = lines.slice(start + 1);
  if (body[0]?.startsWith('MISSING ')) {
    return { exists: false, count: 0, bytes: 0, sha256: '', files: [], truncated: false };
  }
  const count = Number(headerValue(body[0], 'COUNT'));
  const bytes = Number(headerValue(body[1], 'BYTES'));
  const sha256 = headerValue(body[2], 'SHA256');
  if (!Number.isSafeInteger(count) || count < 0) throw new Error(`malformed listing: COUNT ${body[0]}`);
  // split() leaves '' after a final newline; anything else there is a line SSM cut short.
  const records = body.slice(3, -1);
  const files = records.map((record) => {
    const tab = record.lastIndexOf('\t');
    const size = Number(record.slice(tab + 1));
    if (tab <= 0 || !/^\d+$/.test(record.slice(tab + 1)) || !Number.isSafeInteger(size)) {
      throw new Error(`malformed listing record ${JSON.stringify(record.slice(0, 200))}`);
    }
    return { path: unescapePath(record.slice(0, tab)), size };
  });
  if (files.length > count) throw new Error(`malformed listing: ${files.length} records but COUNT ${count}`);
  return { exists: true, count, bytes, sha256, files, truncated: files.length < count };
}
