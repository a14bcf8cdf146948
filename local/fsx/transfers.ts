/**
 * How the FSx emulator moves data between the local S3 and a file system's directory, one file at
 * a time, keeping each file's HSM record: import (metadata only: a placeholder of the object's
 * size and mtime), export (the contents, with FSx's POSIX metadata), release (drop exported
 * contents). Data repository tasks (tasks.ts) and automatic import/export (sync.ts) both use it.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { FsxCore } from './core.js';
import {
  exportFile,
  hasChanged,
  isDirectory,
  releaseContents,
  statFile,
  stripQuotes,
  writePlaceholder,
} from './files.js';
import { keyForFile, normalizeFsPath, onDisk, type S3Location } from './paths.js';
import type { AssociationRecord } from './store.js';

/** What FSx knows of an S3 object when it imports it. */
export interface ObjectInfo {
  key: string;
  size: number;
  etag?: string;
  lastModified: Date;
}

/** A file of a task failed with an FSx completion-report error code. */
export class FileFailure extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

/** Every object under a location (keys outside the prefix's "directory" are left out). */
export async function listObjects(fsx: FsxCore, location: S3Location): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  let token: string | undefined;
  do {
    const page = await fsx.deps.s3.send(
      new ListObjectsV2Command({
        Bucket: location.bucket,
        Prefix: location.prefix,
        ContinuationToken: token,
      }),
    );
    for (const object of page.Contents ?? []) {
      const key = object.Key ?? '';
      if (location.prefix && key !== location.prefix && !key.startsWith(`${location.prefix}/`)) continue;
      out.push({
        key,
        size: object.Size ?? 0,
        etag: object.ETag ? stripQuotes(object.ETag) : undefined,
        lastModified: object.LastModified ?? new Date(),
      });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

/** The object's size, ETag and LastModified, or undefined when it does not exist. */
export async function headObject(
  fsx: FsxCore,
  bucket: string,
  key: string,
): Promise<Omit<ObjectInfo, 'key'> | undefined> {
  try {
    const head = await fsx.deps.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return {
      size: head.ContentLength ?? 0,
      etag: head.ETag ? stripQuotes(head.ETag) : undefined,
      lastModified: head.LastModified ?? new Date(),
    };
  } catch (error) {
    const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
    if (e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404)
      return undefined;
    throw error;
  }
}

/** Writes the metadata-only placeholder of an object and records it as archived and released. */
export async function writeImported(
  fsx: FsxCore,
  fileSystemId: string,
  fsPath: string,
  object: Omit<ObjectInfo, 'key'>,
): Promise<void> {
  fsx.filesOf(fileSystemId)[fsPath] = await writePlaceholder(
    fsx.rootOf(fileSystemId),
    fsx.scratchOf(fileSystemId),
    fsPath,
    object.size,
    object.lastModified,
    object.etag,
  );
  fsx.store.save();
}

/** Imports an object's metadata: a new placeholder, or a reset one when the object changed. */
export async function importOne(
  fsx: FsxCore,
  fileSystemId: string,
  fsPath: string,
  object: ObjectInfo,
): Promise<void> {
  const root = fsx.rootOf(fileSystemId);
  const known = fsx.filesOf(fileSystemId)[fsPath];
  if (isDirectory(root, fsPath)) throw new FileFailure('InternalError');
  const stat = statFile(root, fsPath);
  if (stat) {
    // A file written on the file system and not exported, or changed since: FSx leaves it alone.
    if (!known?.archived || hasChanged(known, stat)) return;
    if (known.etag === object.etag && known.size === object.size) return;
  }
  await writeImported(fsx, fileSystemId, fsPath, object);
}

/** Uploads a file to its association's data repository. @throws FileFailure with FSx's error code. */
export async function exportOne(fsx: FsxCore, association: AssociationRecord, fsPath: string): Promise<void> {
  const d = association.description;
  const root = fsx.rootOf(d.FileSystemId);
  const repo = fsx.repoOf(d);
  const key = keyForFile(normalizeFsPath(d.FileSystemPath), repo, fsPath);
  if (Buffer.byteLength(key) > 1024) throw new FileFailure('PathSizeTooLong');
  const stat = statFile(root, fsPath);
  if (!stat) throw new FileFailure('InternalError');
  if (stat.size > 5 * 1024 ** 4) throw new FileFailure('FileSizeTooLarge');
  if (fsx.state.buckets[repo.bucket]?.unreachable) throw new FileFailure('S3AccessDenied');
  // Remembered first, so the object event of this upload is not imported back.
  fsx.rememberSelfWrite(
    `${repo.bucket}/${key}`,
    createHash('md5')
      .update(readFileSync(onDisk(root, fsPath)))
      .digest('hex'),
  );
  fsx.filesOf(d.FileSystemId)[fsPath] = await exportFile(fsx.deps.s3, root, fsPath, repo.bucket, key, stat);
  fsx.store.save();
}

/** Drops the contents of an exported file (it stays as a placeholder). */
export async function releaseOne(fsx: FsxCore, fileSystemId: string, fsPath: string): Promise<void> {
  const records = fsx.filesOf(fileSystemId);
  const known = records[fsPath];
  if (!known) throw new FileFailure('InternalError');
  records[fsPath] = await releaseContents(
    fsx.rootOf(fileSystemId),
    fsx.scratchOf(fileSystemId),
    fsPath,
    known,
  );
  fsx.store.save();
}
