/**
 * Path and URI rules, in one place: S3 URIs, FSx (Lustre) paths, and the character sets allowed
 * for anything that later reaches a shell on a transfer instance (SSM document parameters).
 *
 * Every function here is pure. Validators return a rule violation message (or undefined) so the
 * zod schema, the CLI and the handlers report the same words.
 */
import { posix } from 'node:path';

/**
 * Characters allowed in mapping paths, S3 key prefixes and sub-paths. Deliberately excludes every
 * shell metacharacter (`;`, `$`, backticks, quotes, `|`, `&`, `<`, `>`, `\`, newlines, `*`, `?`)
 * and spaces, because these values become SSM document parameters for a shell script.
 */
export const SAFE_PATH_PATTERN = /^[A-Za-z0-9._/+=@,:~-]*$/;
export const SAFE_PATH_RULE = 'may contain only letters, digits and . _ / + = @ , : ~ -';

/** S3 object keys are at most 1024 bytes (our key characters are ASCII, one byte each). */
export const MAX_KEY_LENGTH = 1024;

/**
 * Include/exclude filters for `aws s3 sync`: the path set plus the glob characters it understands.
 * A filter must not start with `-` (it would read as another option of the command) or `~`
 * (tilde expansion if a script ever forgets to quote it).
 */
export const SAFE_FILTER_PATTERN = /^[A-Za-z0-9._/+=@,:*?[\]!][A-Za-z0-9._/+=@,:~*?[\]!-]*$/;
export const SAFE_FILTER_RULE =
  'may contain only letters, digits, glob characters * ? [ ] ! and . _ / + = @ , : ~ -, and must not start with - or ~';

export interface S3Location {
  bucket: string;
  /** Key prefix without a leading slash; '' for the whole bucket, otherwise ends without '/'. */
  prefix: string;
}

/** Why `name` is not a valid general purpose bucket name, or undefined when it is. */
export function bucketNameProblem(name: string): string | undefined {
  if (name.length < 3 || name.length > 63) return 'bucket name must be 3 to 63 characters long';
  if (!/^[a-z0-9.-]+$/.test(name))
    return 'bucket name may contain only lowercase letters, digits, dots and hyphens';
  if (!/^[a-z0-9]/.test(name) || !/[a-z0-9]$/.test(name)) {
    return 'bucket name must begin and end with a lowercase letter or digit';
  }
  if (name.includes('..')) return 'bucket name must not contain two adjacent dots';
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(name)) return 'bucket name must not be formatted as an IP address';
  if (/^(xn--|sthree-|amzn-s3-demo-)/.test(name))
    return 'bucket name must not start with xn--, sthree- or amzn-s3-demo-';
  if (/(-s3alias|--ol-s3|--x-s3|--table-s3|\.mrap)$/.test(name))
    return 'bucket name must not use a reserved suffix';
  return undefined;
}

/** Why `prefix` (no leading slash) is not a safe key prefix, or undefined. */
export function keyPrefixProblem(prefix: string): string | undefined {
  if (prefix.length > MAX_KEY_LENGTH) return `key prefix must be at most ${MAX_KEY_LENGTH} characters`;
  if (!SAFE_PATH_PATTERN.test(prefix)) return `key prefix ${SAFE_PATH_RULE}`;
  if (prefix.split('/').some((segment) => segment === '..' || segment === '.')) {
    return 'key prefix must not contain . or .. segments';
  }
  if (prefix.startsWith('/')) return 'key prefix must not start with / (write s3://bucket/prefix)';
  if (prefix !== '' && prefix.split('/').includes(''))
    return 'key prefix must not contain empty segments (//)';
  return undefined;
}

/** Why `uri` is not an `s3://bucket[/prefix]` URI we accept, or undefined. */
export function s3UriProblem(uri: string): string | undefined {
  const match = /^s3:\/\/([^/]*)(?:\/(.*))?$/.exec(uri);
  if (!match) return 'must be an S3 URI of the form s3://bucket/prefix';
  const rest = match[2] ?? '';
  // One trailing slash is accepted (`s3://bucket/prefix/`); the parsed prefix never keeps it.
  return (
    bucketNameProblem(match[1] ?? '') ??
    (rest.startsWith('/') ? 'key prefix must not start with / (write s3://bucket/prefix)' : undefined) ??
    keyPrefixProblem(rest.replace(/\/$/, ''))
  );
}

/**
 * Parses `s3://bucket/prefix/` into bucket and prefix (trailing slash removed).
 * @throws Error with the rule when the URI is invalid.
 */
export function parseS3Uri(uri: string): S3Location {
  const problem = s3UriProblem(uri);
  if (problem) throw new Error(`${uri}: ${problem}`);
  const [, bucket = '', rest = ''] = /^s3:\/\/([^/]*)(?:\/(.*))?$/.exec(uri) ?? [];
  return { bucket, prefix: rest.replace(/\/$/, '') };
}

export function formatS3Uri({ bucket, prefix }: S3Location): string {
  return prefix ? `s3://${bucket}/${prefix}` : `s3://${bucket}`;
}

/** Why `path` is not an absolute, normalised, safe FSx path, or undefined. */
export function fsxPathProblem(path: string): string | undefined {
  if (!path.startsWith('/')) return 'must be an absolute path starting with /';
  if (path.length > 4096) return 'must be at most 4096 characters';
  if (!SAFE_PATH_PATTERN.test(path)) return SAFE_PATH_RULE;
  if (path.split('/').some((segment) => segment === '..')) return 'must not contain .. segments';
  return undefined;
}

/**
 * Normalises an absolute FSx path: collapses `//` and `.` segments, drops a trailing slash.
 * @throws Error when the path is relative, unsafe or contains `..`.
 */
export function normalizeFsxPath(path: string): string {
  const problem = fsxPathProblem(path);
  if (problem) throw new Error(`${path}: ${problem}`);
  const normalized = posix.normalize(path);
  return normalized.length > 1 ? normalized.replace(/\/$/, '') : normalized;
}

/** Why a sub-path (relative to a mapping) is unsafe, or undefined. */
export function subPathProblem(subPath: string): string | undefined {
  if (subPath.length > MAX_KEY_LENGTH) return `must be at most ${MAX_KEY_LENGTH} characters`;
  if (subPath.startsWith('/')) return 'must be relative to the mapping (no leading /)';
  if (!SAFE_PATH_PATTERN.test(subPath)) return SAFE_PATH_RULE;
  if (subPath.split('/').some((segment) => segment === '..')) return 'must not contain .. segments';
  return undefined;
}

/** True when `child` equals `parent` or lies below it (both normalised absolute paths). */
export function isWithin(parent: string, child: string): boolean {
  if (parent === '/') return child.startsWith('/');
  return child === parent || child.startsWith(`${parent}/`);
}

/**
 * Normalises a file system path as AWS returns it (`/ns1/` -> `/ns1`, `` -> `/`, `/a//b` -> `/a/b`).
 * Lenient where `normalizeFsxPath` is strict: an association created by hand may use characters our
 * own rules refuse, and must still be compared. Never throws.
 */
export function looseFsxPath(path: string | undefined): string {
  const normalized = posix.normalize(`/${(path ?? '').replace(/^\/+/, '')}`);
  return normalized.length > 1 ? normalized.replace(/\/+$/, '') : '/';
}

/** Parses `s3://bucket/prefix/` leniently (as AWS returns it); undefined when it is not an S3 URI (NFS...). */
export function looseS3Location(uri: string | undefined): S3Location | undefined {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri ?? '');
  if (!match) return undefined;
  return { bucket: match[1]!, prefix: (match[2] ?? '').replace(/\/+$/, '').replace(/^\/+/, '') };
}

/**
 * File system paths overlap when one contains the other (`/ExtData` and `/ExtData/sub`; `/` contains
 * every path). Both are normalised first (`/ExtData/` is `/ExtData`), leniently: never throws.
 */
export function fsxPathsOverlap(a: string, b: string): boolean {
  const na = looseFsxPath(a);
  const nb = looseFsxPath(b);
  return isWithin(na, nb) || isWithin(nb, na);
}

/** A key prefix as an absolute path of its segments: `ExtData/2024/` -> `/ExtData/2024`, `` -> `/`. */
function prefixPath(prefix: string): string {
  // Segments of S3 keys are literal: `.` and `..` are names here, only empty segments are dropped.
  return `/${prefix.split('/').filter(Boolean).join('/')}`;
}

/** True when both name the same bucket and the same prefix, by segments (`ExtData/` is `ExtData`). */
export function sameS3Location(a: S3Location, b: S3Location): boolean {
  return a.bucket === b.bucket && prefixPath(a.prefix) === prefixPath(b.prefix);
}

/**
 * S3 locations overlap when they share a bucket and one prefix contains the other, by segments
 * (`ExtData` and `ExtData/2024` overlap, `ExtData` and `ExtData2` do not; `` is the whole bucket).
 * Leading, trailing and repeated slashes do not matter.
 */
export function s3LocationsOverlap(a: S3Location, b: S3Location): boolean {
  if (a.bucket !== b.bucket) return false;
  const pa = prefixPath(a.prefix);
  const pb = prefixPath(b.prefix);
  return isWithin(pa, pb) || isWithin(pb, pa);
}

export interface TransferScope {
  /** Absolute FSx path of the scope on the file system. */
  fsxPath: string;
  /** S3 location of the scope. */
  s3: S3Location;
}

/**
 * The FSx path and S3 location that a transfer of `subPath` under a mapping touches. The result
 * is always confined to the mapping.
 * @throws Error when the sub-path is unsafe or escapes the mapping.
 */
export function resolveScope(mapping: { fsxPath: string; s3Uri: string }, subPath = ''): TransferScope {
  const problem = subPathProblem(subPath);
  if (problem) throw new Error(`${subPath}: ${problem}`);
  // Without `..` segments (rejected above) normalising cannot climb: it only drops `.` and `//`.
  const relative0 = posix.normalize(subPath || '.').replace(/\/+$/, '');
  const trimmed = relative0 === '.' ? '' : relative0;
  const base = normalizeFsxPath(mapping.fsxPath);
  const s3 = parseS3Uri(mapping.s3Uri);
  if (!trimmed) return { fsxPath: base, s3 };
  const fsxPath = normalizeFsxPath(posix.join(base, trimmed));
  if (!isWithin(base, fsxPath)) throw new Error(`${subPath}: must stay inside the mapping ${base}`);
  const relative = fsxPath === base ? '' : fsxPath.slice(base === '/' ? 1 : base.length + 1);
  const prefix = [s3.prefix, relative].filter(Boolean).join('/');
  // Every key of the scope starts with the prefix, and S3 keys end at 1024 bytes.
  if (prefix.length >= MAX_KEY_LENGTH) {
    throw new Error(
      `must keep the S3 key prefix under ${MAX_KEY_LENGTH} characters (S3's key limit); with the mapping's prefix it is ${prefix.length}`,
    );
  }
  return { fsxPath, s3: { bucket: s3.bucket, prefix } };
}
