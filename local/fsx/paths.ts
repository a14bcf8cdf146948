/**
 * Path arithmetic of the FSx emulator: file system paths (absolute, as in FileSystemPath), data
 * repository paths (s3://bucket/prefix/), the mapping between the two that a DRA defines, and the
 * completion report's CSV encoding. Lenient on characters (AWS accepts any key), strict on
 * structure (no `..`, no escaping the file system root).
 */
import { join, posix } from 'node:path';

export interface S3Location {
  bucket: string;
  /** Key prefix without leading or trailing slash; '' for the whole bucket. */
  prefix: string;
}

/** `/a//b/` -> `/a/b`; `` -> `/`. Does not check for `..` (see `fsPathProblem`). */
export function normalizeFsPath(path: string): string {
  const normalized = posix.normalize(`/${path}`);
  return normalized.length > 1 ? normalized.replace(/\/+$/, '') : '/';
}

/** Why `path` is not an acceptable FileSystemPath, or undefined. */
export function fsPathProblem(path: string): string | undefined {
  if (!path.startsWith('/')) return 'must begin with a forward slash (/)';
  if (path.split('/').some((segment) => segment === '..' || segment === '.')) {
    return 'must not contain . or .. segments';
  }
  return undefined;
}

/** True when `child` is `parent` or lies below it (both normalised). */
export function fsPathWithin(parent: string, child: string): boolean {
  if (parent === '/') return true;
  return child === parent || child.startsWith(`${parent}/`);
}

/** Parses `s3://bucket[/prefix[/]]`; undefined when it is not an S3 path. */
export function parseS3Path(uri: string): S3Location | undefined {
  const match = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(uri);
  if (!match) return undefined;
  const bucket = match[1] ?? '';
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) return undefined;
  const prefix = (match[2] ?? '').replace(/^\/+|\/+$/g, '');
  if (prefix.split('/').some((segment) => segment === '..' || segment === '.')) return undefined;
  return { bucket, prefix };
}

export const formatS3Path = ({ bucket, prefix }: S3Location) =>
  prefix ? `s3://${bucket}/${prefix}` : `s3://${bucket}`;

/** True when `child` equals `parent` or lies below it, comparing whole key segments. */
export function s3Within(parent: S3Location, child: S3Location): boolean {
  if (parent.bucket !== child.bucket) return false;
  if (parent.prefix === '') return true;
  return child.prefix === parent.prefix || child.prefix.startsWith(`${parent.prefix}/`);
}

export const s3Overlap = (a: S3Location, b: S3Location) => s3Within(a, b) || s3Within(b, a);
export const fsOverlap = (a: string, b: string) => fsPathWithin(a, b) || fsPathWithin(b, a);

/** The S3 key a file at `fsPath` maps to under a DRA linking `draPath` to `repo`. */
export function keyForFile(draPath: string, repo: S3Location, fsPath: string): string {
  const relative = draPath === '/' ? fsPath.slice(1) : fsPath.slice(draPath.length + 1);
  return repo.prefix ? `${repo.prefix}/${relative}` : relative;
}

/**
 * The file system path an S3 key maps to under a DRA, or undefined when the key is outside the
 * DRA or not POSIX-compliant (`.`/`..`/empty segments are never imported by FSx).
 */
export function fsPathForKey(draPath: string, repo: S3Location, key: string): string | undefined {
  let relative: string;
  if (repo.prefix === '') relative = key;
  else if (key.startsWith(`${repo.prefix}/`)) relative = key.slice(repo.prefix.length + 1);
  else return undefined;
  const trimmed = relative.replace(/\/$/, '');
  if (trimmed === '') return undefined;
  if (trimmed.split('/').some((segment) => segment === '' || segment === '.' || segment === '..'))
    return undefined;
  return draPath === '/' ? `/${trimmed}` : `${draPath}/${trimmed}`;
}

/** The local path of `fsPath` under the directory standing for the Lustre root. */
export function onDisk(root: string, fsPath: string): string {
  const normalized = normalizeFsPath(fsPath);
  if (normalized.split('/').includes('..')) throw new Error(`path escapes the file system root: ${fsPath}`);
  return normalized === '/' ? root : join(root, normalized.slice(1));
}

/**
 * One completion report field, encoded as FSx does (RFC 4180, plus: values starting with @ + - =
 * are wrapped in quotes so spreadsheets do not evaluate them).
 * https://docs.aws.amazon.com/fsx/latest/LustreGuide/task-completion-report.html
 */
export function csvField(value: string): string {
  if (/^[@+\-=]/.test(value)) return `"""${value.replace(/"/g, '""')}"""`;
  if (/[",\r\n]/.test(value)) return `"${value.replace(/"/g, '""')}"`;
  return value;
}

/** Parses one report line back into fields (used by tests and the admin view). */
export function parseCsvLine(line: string): string[] {
  const fields: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let value = '';
      i += 1;
      while (i < line.length) {
        if (line[i] === '"' && line[i + 1] === '"') {
          value += '"';
          i += 2;
        } else if (line[i] === '"') {
          i += 1;
          break;
        } else {
          value += line[i];
          i += 1;
        }
      }
      fields.push(value);
      i += 1;
    } else {
      const end = line.indexOf(',', i);
      const stop = end === -1 ? line.length : end;
      fields.push(line.slice(i, stop));
      i = stop + 1;
    }
  }
  return fields;
}
