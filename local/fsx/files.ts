/**
 * File-level mechanics of the emulated Lustre file system: the directory standing for the Lustre
 * root holds real files; a file imported lazily is a sparse placeholder of the right size and
 * mtime whose HSM record says `released`; restoring fetches the contents from S3; releasing
 * punches the contents out again; exporting uploads the contents with FSx's POSIX metadata.
 */

import { randomBytes } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { truncate, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { onDisk } from './paths.js';
import type { FileRecord } from './store.js';

export interface FileStat {
  size: number;
  mtimeMs: number;
  atimeMs: number;
  ctimeMs: number;
  mode: number;
  uid: number;
  gid: number;
}

/** Stat of a regular file at `fsPath`, or undefined when there is none. */
export function statFile(root: string, fsPath: string): FileStat | undefined {
  try {
    const stat = statSync(onDisk(root, fsPath));
    if (!stat.isFile()) return undefined;
    return {
      size: stat.size,
      mtimeMs: stat.mtimeMs,
      atimeMs: stat.atimeMs,
      ctimeMs: stat.ctimeMs,
      mode: stat.mode,
      uid: stat.uid,
      gid: stat.gid,
    };
  } catch {
    return undefined;
  }
}

export function isDirectory(root: string, fsPath: string): boolean {
  try {
    return statSync(onDisk(root, fsPath)).isDirectory();
  } catch {
    return false;
  }
}

/** FS paths of the regular files at or below `fsPath` (symlinks and special files are skipped), sorted. */
export function listFiles(root: string, fsPath: string): string[] {
  if (statFile(root, fsPath)) return [fsPath];
  const out: string[] = [];
  const walk = (dir: string) => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(onDisk(root, dir), { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const child = dir === '/' ? `/${entry.name}` : `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(child);
      else if (entry.isFile()) out.push(child);
    }
  };
  walk(fsPath);
  return out.sort();
}

/** True when the file on disk differs from what FSx last recorded (written since import/export). */
export function hasChanged(record: FileRecord, stat: FileStat): boolean {
  return record.size !== stat.size || Math.abs(record.mtimeMs - stat.mtimeMs) > 1;
}

export const HSM_EXISTS = 0x1;
export const HSM_DIRTY = 0x2;
export const HSM_RELEASED = 0x4;
export const HSM_ARCHIVED = 0x8;

export interface HsmState {
  path: string;
  /** Bit set as `lfs hsm_state` prints it. */
  bits: number;
  flags: Array<'released' | 'exists' | 'dirty' | 'archived'>;
  /** Contents present on the file system (not released). */
  contentsPresent: boolean;
  size: number;
  /** The line `lfs hsm_state <path>` prints, without the path prefix. */
  lfs: string;
}

/** HSM state of a file as Lustre reports it, from its record and current stat. */
export function hsmState(fsPath: string, record: FileRecord | undefined, stat: FileStat): HsmState {
  let bits = 0;
  if (record?.archived) {
    bits |= HSM_EXISTS | HSM_ARCHIVED;
    if (record.released) bits |= HSM_RELEASED;
    else if (hasChanged(record, stat)) bits |= HSM_DIRTY;
  }
  const flags: HsmState['flags'] = [];
  if (bits & HSM_RELEASED) flags.push('released');
  if (bits & HSM_EXISTS) flags.push('exists');
  if (bits & HSM_DIRTY) flags.push('dirty');
  if (bits & HSM_ARCHIVED) flags.push('archived');
  const hex = `0x${bits.toString(16).padStart(8, '0')}`;
  const lfs = bits ? `(${hex}) ${flags.join(' ')}, archive_id:1` : `(${hex})`;
  return { path: fsPath, bits, flags, contentsPresent: !(bits & HSM_RELEASED), size: stat.size, lfs };
}

async function setTimes(path: string, atimeMs: number, mtimeMs: number): Promise<void> {
  await utimes(path, atimeMs / 1000, mtimeMs / 1000);
}

/**
 * A temporary file in `scratch` (outside the tree, so nobody lists a half-written file), moved
 * into place with a rename: observers see the old file or the finished new one, never a mix.
 */
async function replaceAtomically(
  scratch: string,
  path: string,
  write: (tmp: string) => Promise<void>,
): Promise<void> {
  mkdirSync(scratch, { recursive: true });
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(scratch, `${process.pid}-${randomBytes(6).toString('hex')}`);
  try {
    await write(tmp);
    renameSync(tmp, path);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw error;
  }
}

async function sparseFile(tmp: string, size: number, atimeMs: number, mtimeMs: number): Promise<void> {
  await writeFile(tmp, '');
  await truncate(tmp, size);
  await setTimes(tmp, atimeMs, mtimeMs);
}

/**
 * Creates (or resets) the metadata-only placeholder of an imported object: a sparse file of the
 * object's size with its modification time. Returns the record to keep.
 */
export async function writePlaceholder(
  root: string,
  scratch: string,
  fsPath: string,
  size: number,
  mtime: Date,
  etag: string | undefined,
): Promise<FileRecord> {
  await replaceAtomically(scratch, onDisk(root, fsPath), (tmp) =>
    sparseFile(tmp, size, mtime.getTime(), mtime.getTime()),
  );
  const stat = statFile(root, fsPath);
  return { size, mtimeMs: stat?.mtimeMs ?? mtime.getTime(), archived: true, released: true, etag };
}

/** Drops the contents of an exported file, keeping size and times (RELEASE_DATA_FROM_FILESYSTEM). */
export async function releaseContents(
  root: string,
  scratch: string,
  fsPath: string,
  record: FileRecord,
): Promise<FileRecord> {
  const stat = statFile(root, fsPath);
  await replaceAtomically(scratch, onDisk(root, fsPath), (tmp) =>
    sparseFile(tmp, record.size, stat?.atimeMs ?? record.mtimeMs, record.mtimeMs),
  );
  const after = statFile(root, fsPath);
  return { ...record, mtimeMs: after?.mtimeMs ?? record.mtimeMs, released: true };
}

/** Fetches an object's contents into the file (hsm_restore), keeping the recorded mtime. */
export async function restoreContents(
  s3: S3Client,
  root: string,
  scratch: string,
  fsPath: string,
  bucket: string,
  key: string,
  record: FileRecord,
): Promise<FileRecord> {
  const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  await replaceAtomically(scratch, onDisk(root, fsPath), async (tmp) => {
    await pipeline(response.Body as Readable, createWriteStream(tmp));
    await setTimes(tmp, Date.now(), record.mtimeMs);
  });
  const stat = statFile(root, fsPath);
  return {
    size: stat?.size ?? record.size,
    mtimeMs: stat?.mtimeMs ?? record.mtimeMs,
    archived: true,
    released: false,
    etag: response.ETag ? stripQuotes(response.ETag) : record.etag,
  };
}

/** Uploads a file with FSx's POSIX metadata (x-amz-meta-file-*). Returns the record to keep. */
export async function exportFile(
  s3: S3Client,
  root: string,
  fsPath: string,
  bucket: string,
  key: string,
  stat: FileStat,
): Promise<FileRecord> {
  const path = onDisk(root, fsPath);
  const body = await readAll(path);
  const response = await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: body,
      ContentLength: body.length,
      Metadata: {
        'file-permissions': `0${stat.mode.toString(8)}`,
        'file-owner': String(stat.uid),
        'file-group': String(stat.gid),
        'file-mtime': `${BigInt(Math.round(stat.mtimeMs)) * 1_000_000n}ns`,
        'file-atime': `${BigInt(Math.round(stat.atimeMs)) * 1_000_000n}ns`,
        'user-agent': 'aws-fsx-lustre',
      },
    }),
  );
  return {
    size: body.length,
    mtimeMs: stat.mtimeMs,
    archived: true,
    released: false,
    etag: response.ETag ? stripQuotes(response.ETag) : undefined,
  };
}

async function readAll(path: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of createReadStream(path)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export const stripQuotes = (etag: string) => etag.replace(/^"+|"+$/g, '');

/** Removes a file from the file system (auto-import DELETED, import task deletions). */
export function removeFile(root: string, fsPath: string): void {
  rmSync(onDisk(root, fsPath), { force: true });
}

/** Maps an S3 SDK error to the ErrorCode FSx writes in completion reports. */
export function s3ErrorCode(error: unknown): string {
  const name = (error as { name?: string })?.name ?? '';
  if (name === 'AccessDenied' || name === 'Forbidden' || name === 'AllAccessDisabled')
    return 'S3AccessDenied';
  return 'S3Error';
}
