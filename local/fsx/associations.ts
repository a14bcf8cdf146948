/**
 * Data repository associations: Create/Describe/Update/DeleteDataRepositoryAssociation with FSx's
 * rules (Lustre 2.12/2.15 and not SCRATCH_1, no overlapping paths, `/` only alone, at most 8, the
 * bucket's account and region) and lifecycle (CREATING one at a time per file system -> AVAILABLE,
 * UPDATING, DELETING, MISCONFIGURED, FAILED), plus the admin override of a lifecycle.
 */
import { mkdirSync, rmSync } from 'node:fs';
import type { OperationTable } from '../kit/dispatch.js';
import { resourceId } from '../kit/ids.js';
import type { RequestContext } from '../types.js';
import {
  byFileSystem,
  clone,
  describeSelection,
  eventsOf,
  type FsxCore,
  type Input,
  matchesPattern,
} from './core.js';
import { associationNotFound, badRequest, FsxError, unsupported } from './errors.js';
import { listFiles, statFile } from './files.js';
import {
  fsOverlap,
  fsPathProblem,
  fsPathWithin,
  normalizeFsPath,
  onDisk,
  parseS3Path,
  s3Overlap,
} from './paths.js';
import type {
  AssociationDescription,
  AssociationLifecycle,
  AssociationRecord,
  FileSystemRecord,
  S3Config,
  Tag,
} from './store.js';
import { addTask } from './tasks.js';

async function createAssociation(fsx: FsxCore, input: Input, ctx: RequestContext) {
  const fileSystemId = input.FileSystemId as string;
  return fsx.background.withLock(`dra:${fileSystemId}`, async () => {
    const previous = fsx.replay('CreateDataRepositoryAssociation', ctx, input);
    if (previous) {
      const current = fsx.state.associations[previous.resourceId];
      return current ? { Association: clone(current.description) } : clone(previous.response);
    }
    const fs = fsx.fileSystemIn(ctx, fileSystemId);
    const { DeploymentType } = fs.description.LustreConfiguration;
    if (DeploymentType === 'SCRATCH_1') {
      throw unsupported(
        `Data repository associations are not supported on file systems with deployment type SCRATCH_1 (${fileSystemId}). Use a SCRATCH_2, PERSISTENT_1 or PERSISTENT_2 file system.`,
      );
    }
    if (!['2.12', '2.15'].includes(fs.description.FileSystemTypeVersion)) {
      throw unsupported(
        `Data repository associations are supported only on FSx for Lustre 2.12 and 2.15 file systems; ${fileSystemId} runs Lustre ${fs.description.FileSystemTypeVersion}.`,
      );
    }
    if (['FAILED', 'DELETING', 'MISCONFIGURED_UNAVAILABLE'].includes(fs.description.Lifecycle)) {
      throw badRequest(
        `Unable to create a data repository association on file system ${fileSystemId} because it is in the ${fs.description.Lifecycle} state.`,
      );
    }
    const fileSystemPath = input.FileSystemPath as string | undefined;
    if (fileSystemPath === undefined) {
      throw badRequest(
        'FileSystemPath is required for an Amazon FSx for Lustre data repository association.',
      );
    }
    const pathProblem = fsPathProblem(fileSystemPath);
    if (pathProblem) throw badRequest(`Invalid FileSystemPath ${fileSystemPath}: the path ${pathProblem}.`);
    const fsPath = normalizeFsPath(fileSystemPath);
    const dataRepositoryPath = input.DataRepositoryPath as string;
    const repo = parseS3Path(dataRepositoryPath);
    if (!repo) {
      throw badRequest(
        `Invalid DataRepositoryPath ${dataRepositoryPath}: the data repository path must be an Amazon S3 bucket or prefix in the format s3://bucket-name/prefix/.`,
      );
    }
    const existing = fsx.associationsOf(fileSystemId, { includeDeleting: true });
    if (existing.length >= 8) {
      throw badRequest(
        `File system ${fileSystemId} already has 8 data repository associations, the maximum for a file system.`,
      );
    }
    for (const other of existing) {
      const otherPath = normalizeFsPath(other.description.FileSystemPath);
      if (otherPath === '/' || fsPath === '/') {
        throw badRequest(
          `The file system path / can only be used by the only data repository association of a file system; ${fileSystemId} already has ${other.description.AssociationId} on ${other.description.FileSystemPath}.`,
        );
      }
      if (fsOverlap(otherPath, fsPath)) {
        throw badRequest(
          `The file system path ${fileSystemPath} overlaps with the file system path ${other.description.FileSystemPath} of data repository association ${other.description.AssociationId}. File system paths of data repository associations on a file system cannot overlap.`,
        );
      }
      if (s3Overlap(fsx.repoOf(other.description), repo)) {
        throw badRequest(
          `The data repository path ${dataRepositoryPath} overlaps with the data repository path ${other.description.DataRepositoryPath} of data repository association ${other.description.AssociationId}. Data repository paths of data repository associations on a file system cannot overlap.`,
        );
      }
    }
    const s3 = input.S3 as S3Config | undefined;
    await checkBucket(fsx, repo.bucket, fs, s3);

    const id = resourceId('dra');
    const description: AssociationDescription = {
      AssociationId: id,
      ResourceARN: `arn:aws:fsx:${fs.region}:${fs.description.OwnerId}:association/${fileSystemId}/${id}`,
      FileSystemId: fileSystemId,
      Lifecycle: 'CREATING',
      FileSystemPath: fileSystemPath,
      DataRepositoryPath: dataRepositoryPath,
      BatchImportMetaDataOnCreate: (input.BatchImportMetaDataOnCreate as boolean | undefined) ?? false,
      ImportedFileChunkSize: (input.ImportedFileChunkSize as number | undefined) ?? 1024,
      ...(s3 ? { S3: clone(s3) } : {}),
      ...(input.Tags ? { Tags: clone(input.Tags as Tag[]) } : {}),
      CreationTime: fsx.nowSeconds(),
    };
    fsx.state.associations[id] = { seq: fsx.store.nextSeq(), region: fs.region, description };
    const response = { Association: clone(description) };
    fsx.remember('CreateDataRepositoryAssociation', ctx, input, id, response);
    fsx.store.save();
    kickAssociations(fsx, fileSystemId);
    return response;
  });
}

/** Automatic import needs the bucket in the file system's region (export-only DRAs do not). */
function crossRegionImport(bucket: string, bucketRegion: string, fs: FileSystemRecord): FsxError {
  return badRequest(
    `Automatic import is not supported for an S3 bucket in a different AWS Region: bucket ${bucket} is in ${bucketRegion}, file system ${fs.description.FileSystemId} is in ${fs.region}.`,
  );
}

/**
 * FSx validates access to the bucket when an association is created: it must exist, belong to
 * the file system's account (no bucket policies are modelled) and, for automatic import, be in
 * the file system's region.
 */
async function checkBucket(
  fsx: FsxCore,
  bucket: string,
  fs: FileSystemRecord,
  s3: S3Config | undefined,
): Promise<void> {
  const status = await fsx.bucketStatus(bucket, fs.description.OwnerId);
  const foreign = status.ownerAccountId !== undefined && status.ownerAccountId !== fs.description.OwnerId;
  if (!status.exists || status.unreachable || status.accessDenied || foreign) {
    throw badRequest(
      'Amazon FSx is unable to validate access to the S3 bucket. Ensure the IAM role or user you are using has s3:Get*, s3:List* and s3:PutObject permissions to the S3 bucket prefix.',
    );
  }
  if (status.region !== fs.region && eventsOf(s3?.AutoImportPolicy).size > 0) {
    throw crossRegionImport(bucket, status.region, fs);
  }
}

/** Runs the creation queue of a file system: associations are created one at a time, oldest first. */
export function kickAssociations(fsx: FsxCore, fileSystemId: string): void {
  fsx.background.drive(`dra:${fileSystemId}`, async () => {
    for (;;) {
      if (fsx.closed) return;
      const next = fsx.associationsOf(fileSystemId).find((r) => r.description.Lifecycle === 'CREATING');
      if (!next) return;
      const fs = fsx.state.fileSystems[fileSystemId];
      if (!fs) return;
      if (fs.description.Lifecycle !== 'AVAILABLE') return; // resumed when the file system turns AVAILABLE
      await fsx.background.sleep(fsx.timings.associationCreateMs);
      if (fsx.closed) return;
      if (
        next.description.Lifecycle !== 'CREATING' ||
        !fsx.state.associations[next.description.AssociationId]
      )
        continue;
      await completeAssociation(fsx, next);
    }
  });
}

async function completeAssociation(fsx: FsxCore, record: AssociationRecord): Promise<void> {
  const d = record.description;
  const failure = (fsx.faults.associationCreateFailures ?? []).find((f) =>
    matchesPattern(f.match, d.FileSystemPath),
  );
  if (failure) {
    fsx.setAssociationState(
      record,
      'FAILED',
      failure.message ?? `Amazon FSx failed to create data repository association ${d.AssociationId}.`,
    );
    return;
  }
  const fsPath = normalizeFsPath(d.FileSystemPath);
  mkdirSync(onDisk(fsx.rootOf(d.FileSystemId), fsPath), { recursive: true });
  // Files already on the file system are recorded as not exported: auto-export ignores them
  // until they change; an export task exports them (the seed's "one-time export").
  recordExisting(fsx, d.FileSystemId, fsPath);
  await settleOnBucket(fsx, record);
  if (d.BatchImportMetaDataOnCreate) {
    // FSx runs an import task after creating the association; it is a visible task and
    // occupies the file system's one task slot like any other.
    addTask(fsx, fsx.state.fileSystems[d.FileSystemId] as FileSystemRecord, {
      Type: 'IMPORT_METADATA_FROM_REPOSITORY',
      Paths: [d.DataRepositoryPath],
      Report: { Enabled: false },
      batchImportFor: d.AssociationId,
    });
  }
}

/** AVAILABLE when FSx can use the association's bucket, else MISCONFIGURED with the reason. */
async function settleOnBucket(fsx: FsxCore, record: AssociationRecord): Promise<void> {
  const reachable = await fsx.bucketReachable(fsx.repoOf(record.description).bucket);
  if (reachable === true) fsx.setAssociationState(record, 'AVAILABLE');
  else fsx.setAssociationState(record, 'MISCONFIGURED', reachable, 'bucket');
}

/** Records the files already under `fsPath` as present but never exported. */
function recordExisting(fsx: FsxCore, fileSystemId: string, fsPath: string): void {
  const root = fsx.rootOf(fileSystemId);
  const records = fsx.filesOf(fileSystemId);
  for (const file of listFiles(root, fsPath)) {
    if (records[file]) continue;
    const stat = statFile(root, file);
    if (stat) records[file] = { size: stat.size, mtimeMs: stat.mtimeMs, archived: false, released: false };
  }
  fsx.store.save();
}

function describeAssociations(fsx: FsxCore, input: Input, ctx: RequestContext) {
  const records = describeSelection(fsx, ctx, {
    records: fsx.state.associations,
    ids: input.AssociationIds,
    idOf: (r) => r.description.AssociationId,
    notFound: associationNotFound,
    filters: input.Filters,
    rules: {
      'file-system-id': byFileSystem(fsx, ctx),
      'data-repository-type': (records, values) => {
        for (const value of values) {
          if (value !== 'S3' && value !== 'NFS') {
            throw new FsxError(
              'InvalidDataRepositoryType',
              `Invalid data repository type ${value}: use S3 or NFS.`,
            );
          }
        }
        return values.includes('S3') ? records : [];
      },
      'file-cache-id': () => [], // FSx for Lustre associations belong to no file cache
    },
    unknownFilter: (name) =>
      badRequest(
        `The filter ${name} is not supported by DescribeDataRepositoryAssociations; use file-system-id, data-repository-type or file-cache-id.`,
      ),
  });
  const { page, more } = fsx.paginate(records, input, 100);
  return { Associations: page.map((r) => clone(r.description)), ...more };
}

async function updateAssociation(fsx: FsxCore, input: Input, ctx: RequestContext) {
  const previous = fsx.replay('UpdateDataRepositoryAssociation', ctx, input);
  if (previous) {
    const current = fsx.state.associations[previous.resourceId];
    return current ? { Association: clone(current.description) } : clone(previous.response);
  }
  const record = fsx.associationIn(ctx, input.AssociationId as string);
  const d = record.description;
  if (d.Lifecycle !== 'AVAILABLE' && d.Lifecycle !== 'MISCONFIGURED') {
    throw badRequest(
      `Unable to update data repository association ${d.AssociationId} because it is in the ${d.Lifecycle} state.`,
    );
  }
  const s3 = input.S3 as S3Config | undefined;
  const merged: S3Config = {
    ...(d.S3 ?? {}),
    ...(s3?.AutoImportPolicy ? { AutoImportPolicy: clone(s3.AutoImportPolicy) } : {}),
    ...(s3?.AutoExportPolicy ? { AutoExportPolicy: clone(s3.AutoExportPolicy) } : {}),
  };
  const fs = fsx.state.fileSystems[d.FileSystemId] as FileSystemRecord;
  if (s3?.AutoImportPolicy && eventsOf(s3.AutoImportPolicy).size > 0) {
    const status = await fsx.bucketStatus(fsx.repoOf(d).bucket);
    if (status.exists && status.region !== fs.region) {
      throw crossRegionImport(fsx.repoOf(d).bucket, status.region, fs);
    }
  }
  const exportWasOff = eventsOf(d.S3?.AutoExportPolicy).size === 0;
  if (input.ImportedFileChunkSize !== undefined)
    d.ImportedFileChunkSize = input.ImportedFileChunkSize as number;
  if (s3) d.S3 = merged;
  if (exportWasOff && eventsOf(d.S3?.AutoExportPolicy).size > 0) {
    // Automatic export covers changes made from now on, not files that are already there.
    recordExisting(fsx, d.FileSystemId, normalizeFsPath(d.FileSystemPath));
  }
  fsx.setAssociationState(record, 'UPDATING');
  const response = { Association: clone(d) };
  fsx.remember('UpdateDataRepositoryAssociation', ctx, input, d.AssociationId, response);
  fsx.store.save();
  fsx.background.spawn(async () => {
    await fsx.background.sleep(fsx.timings.associationUpdateMs);
    if (fsx.closed || record.description.Lifecycle !== 'UPDATING') return;
    await settleOnBucket(fsx, record);
  });
  return response;
}

function deleteAssociation(fsx: FsxCore, input: Input, ctx: RequestContext) {
  const previous = fsx.replay('DeleteDataRepositoryAssociation', ctx, input);
  if (previous) return clone(previous.response);
  const record = fsx.associationIn(ctx, input.AssociationId as string);
  const d = record.description;
  const deleteData = (input.DeleteDataInFileSystem as boolean | undefined) ?? false;
  if (d.Lifecycle === 'DELETING') {
    return {
      AssociationId: d.AssociationId,
      Lifecycle: 'DELETING',
      DeleteDataInFileSystem: record.deleteDataInFileSystem ?? false,
    };
  }
  record.deleteDataInFileSystem = deleteData;
  fsx.setAssociationState(record, 'DELETING');
  const response = {
    AssociationId: d.AssociationId,
    Lifecycle: 'DELETING',
    DeleteDataInFileSystem: deleteData,
  };
  fsx.remember('DeleteDataRepositoryAssociation', ctx, input, d.AssociationId, response);
  fsx.store.save();
  fsx.background.spawn(() => finishDeletion(fsx, record));
  return response;
}

/** DELETING -> gone after `associationDeleteMs` (with the files, when DeleteDataInFileSystem). */
export async function finishDeletion(fsx: FsxCore, record: AssociationRecord): Promise<void> {
  await fsx.background.sleep(fsx.timings.associationDeleteMs);
  if (fsx.closed) return;
  const d = record.description;
  const fsPath = normalizeFsPath(d.FileSystemPath);
  const records = fsx.filesOf(d.FileSystemId);
  for (const path of Object.keys(records)) if (fsPathWithin(fsPath, path)) delete records[path];
  fsx.pendingExports.get(d.FileSystemId)?.forEach((_, path, map) => {
    if (fsPathWithin(fsPath, path)) map.delete(path);
  });
  if (record.deleteDataInFileSystem) {
    // Only the file system side goes: deleting an association never deletes objects in S3.
    const dir = onDisk(fsx.rootOf(d.FileSystemId), fsPath);
    rmSync(dir, { recursive: true, force: true });
    if (fsPath === '/') mkdirSync(dir, { recursive: true });
  }
  delete fsx.state.associations[d.AssociationId];
  fsx.store.save();
  kickAssociations(fsx, d.FileSystemId);
}

/**
 * Admin/tests: forces an association's lifecycle. MISCONFIGURED stays until the association is
 * updated; FAILED is terminal (only deletion is possible); AVAILABLE clears either.
 * @throws LocalAwsError DataRepositoryAssociationNotFound.
 */
export function forceAssociationState(
  fsx: FsxCore,
  associationId: string,
  lifecycle: AssociationLifecycle,
  message?: string,
): AssociationDescription {
  const record = fsx.state.associations[associationId];
  if (!record) throw associationNotFound(associationId);
  const defaults: Partial<Record<AssociationLifecycle, string>> = {
    MISCONFIGURED:
      'Amazon FSx cannot access the linked S3 bucket. Automatic import and export are stopped until the data repository configuration is corrected.',
    FAILED: 'The data repository association failed and cannot be recovered. Delete it and create it again.',
  };
  fsx.setAssociationState(
    record,
    lifecycle,
    message ?? defaults[lifecycle],
    lifecycle === 'MISCONFIGURED' ? 'forced' : undefined,
  );
  return clone(record.description);
}

export function associationOperations(fsx: FsxCore): OperationTable<Input> {
  return {
    CreateDataRepositoryAssociation: (input, ctx) => createAssociation(fsx, input, ctx),
    DescribeDataRepositoryAssociations: (input, ctx) => describeAssociations(fsx, input, ctx),
    UpdateDataRepositoryAssociation: (input, ctx) => updateAssociation(fsx, input, ctx),
    DeleteDataRepositoryAssociation: (input, ctx) => deleteAssociation(fsx, input, ctx),
  };
}
