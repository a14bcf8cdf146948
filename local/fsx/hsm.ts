/**
 * Lazily imported contents and HSM state, as a Lustre client sees them: `restore` fetches the
 * contents of released files from S3 (what `lfs hsm_restore` does; the `lfs` shim calls it),
 * `access` reads a file as an application would, `hsmState(s)` report the flags `lfs hsm_state`
 * prints.
 */
import { readFileSync } from 'node:fs';
import { LocalAwsError } from '../types.js';
import type { FsxCore } from './core.js';
import { fileSystemRoot } from './file-systems.js';
import {
  type HsmState,
  hsmState as hsmStateOf,
  isDirectory,
  listFiles,
  restoreContents,
  statFile,
} from './files.js';
import { fsPathWithin, keyForFile, normalizeFsPath, onDisk } from './paths.js';
import type { AssociationRecord } from './store.js';

/** The association (not being deleted) whose file system path contains `fsPath`. */
function associationFor(fsx: FsxCore, fileSystemId: string, fsPath: string): AssociationRecord | undefined {
  return fsx
    .associationsOf(fileSystemId)
    .find((a) => fsPathWithin(normalizeFsPath(a.description.FileSystemPath), fsPath));
}

/**
 * Fetches the contents of released (lazily imported or released) files at or below `path` from
 * S3, as `lfs hsm_restore` does. `path` is absolute on the file system (`/ExtData/a.nc`).
 * @returns the restored file paths and bytes.
 * @throws LocalAwsError FileSystemNotFound; `NotFound` (404) when the path does not exist;
 *   `RestoreFailed` when S3 cannot supply the contents.
 */
export async function restore(
  fsx: FsxCore,
  fileSystemId: string,
  path: string,
): Promise<{ restored: string[]; bytes: number }> {
  fsx.fileSystemRecord(fileSystemId);
  const root = fsx.rootOf(fileSystemId);
  const fsPath = normalizeFsPath(path);
  if (!statFile(root, fsPath) && !isDirectory(root, fsPath)) {
    throw new LocalAwsError('NotFound', `No such file or directory on ${fileSystemId}: ${fsPath}`, 404);
  }
  const records = fsx.filesOf(fileSystemId);
  const restored: string[] = [];
  let bytes = 0;
  for (const file of listFiles(root, fsPath)) {
    const known = records[file];
    if (!known?.archived || !known.released) continue;
    const association = associationFor(fsx, fileSystemId, file);
    if (!association) {
      throw new LocalAwsError(
        'RestoreFailed',
        `${file} is not within a data repository association; its contents cannot be restored.`,
      );
    }
    const repo = fsx.repoOf(association.description);
    if ((await fsx.bucketReachable(repo.bucket)) !== true) {
      throw new LocalAwsError(
        'RestoreFailed',
        `Cannot restore ${file}: the linked S3 bucket ${repo.bucket} is not reachable.`,
      );
    }
    const key = keyForFile(normalizeFsPath(association.description.FileSystemPath), repo, file);
    try {
      records[file] = await restoreContents(
        fsx.deps.s3,
        root,
        fsx.scratchOf(fileSystemId),
        file,
        repo.bucket,
        key,
        known,
      );
    } catch (error) {
      throw new LocalAwsError(
        'RestoreFailed',
        `Cannot restore ${file} from s3://${repo.bucket}/${key}: ${(error as Error).name}`,
      );
    }
    fsx.store.save();
    restored.push(file);
    bytes += records[file]?.size ?? 0;
  }
  return { restored, bytes };
}

/** Reads a file as an application on a Lustre client would: released contents are fetched first. */
export async function access(
  fsx: FsxCore,
  fileSystemId: string,
  path: string,
): Promise<{ path: string; size: number; restored: boolean; contents: Buffer }> {
  const fsPath = normalizeFsPath(path);
  const root = fileSystemRoot(fsx, fileSystemId);
  if (!statFile(root, fsPath))
    throw new LocalAwsError('NotFound', `No such file on ${fileSystemId}: ${fsPath}`, 404);
  const { restored } = await restore(fsx, fileSystemId, fsPath);
  const contents = readFileSync(onDisk(root, fsPath));
  return { path: fsPath, size: contents.length, restored: restored.length > 0, contents };
}

/** HSM state of one file (as `lfs hsm_state` reports it), or undefined when there is no such file. */
export function hsmState(fsx: FsxCore, fileSystemId: string, path: string): HsmState | undefined {
  const root = fileSystemRoot(fsx, fileSystemId);
  const fsPath = normalizeFsPath(path);
  const stat = statFile(root, fsPath);
  return stat ? hsmStateOf(fsPath, fsx.filesOf(fileSystemId)[fsPath], stat) : undefined;
}

/** HSM states of every file at or below `path` (default: the whole file system). */
export function hsmStates(fsx: FsxCore, fileSystemId: string, path = '/'): HsmState[] {
  const root = fileSystemRoot(fsx, fileSystemId);
  const records = fsx.filesOf(fileSystemId);
  return listFiles(root, normalizeFsPath(path)).flatMap((file) => {
    const stat = statFile(root, file);
    return stat ? [hsmStateOf(file, records[file], stat)] : [];
  });
}
