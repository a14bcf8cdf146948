/**
 * Data repository tasks: Create/Describe/CancelDataRepositoryTask for EXPORT_TO_REPOSITORY,
 * IMPORT_METADATA_FROM_REPOSITORY and RELEASE_DATA_FROM_FILESYSTEM, one at a time per file system,
 * PENDING -> EXECUTING -> SUCCEEDED / FAILED / CANCELED with per-file `Status` counts, injected
 * per-file failures, and the completion report FSx writes to S3.
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { OperationTable } from '../kit/dispatch.js';
import { resourceId } from '../kit/ids.js';
import type { RequestContext } from '../types.js';
import { byFileSystem, clone, describeSelection, type FsxCore, type Input, matchesPattern } from './core.js';
import { badRequest, FsxError, taskNotFound, unsupported } from './errors.js';
import { hasChanged, isDirectory, listFiles, removeFile, s3ErrorCode, statFile } from './files.js';
import {
  csvField,
  fsOverlap,
  fsPathForKey,
  fsPathWithin,
  keyForFile,
  normalizeFsPath,
  onDisk,
  parseS3Path,
  type S3Location,
  s3Overlap,
  s3Within,
} from './paths.js';
import type {
  AssociationLifecycle,
  AssociationRecord,
  CompletionReport,
  FileSystemRecord,
  TaskDescription,
  TaskRecord,
  TaskType,
} from './store.js';
import { exportOne, FileFailure, importOne, listObjects, releaseOne } from './transfers.js';

interface WorkItem {
  fsPath: string;
  run: () => Promise<void>;
}

/** The task cannot run at all (invalid path, repository not listable): it ends FAILED. */
class TaskFailure extends Error {}

const USABLE_FOR_TASKS: AssociationLifecycle[] = ['AVAILABLE', 'MISCONFIGURED', 'UPDATING'];
export const ACTIVE_TASK: string[] = ['PENDING', 'EXECUTING', 'CANCELING'];

/** The file system's task that is pending, running or being cancelled, if any. */
function activeTask(fsx: FsxCore, fileSystemId: string): TaskRecord | undefined {
  return fsx
    .sorted(fsx.state.tasks)
    .find(
      (t) => t.description.FileSystemId === fileSystemId && ACTIVE_TASK.includes(t.description.Lifecycle),
    );
}

function createTask(fsx: FsxCore, input: Input, ctx: RequestContext) {
  const previous = fsx.replay('CreateDataRepositoryTask', ctx, input);
  if (previous) {
    const current = fsx.state.tasks[previous.resourceId];
    return current ? { DataRepositoryTask: clone(current.description) } : clone(previous.response);
  }
  const fileSystemId = input.FileSystemId as string;
  const fs = fsx.fileSystemIn(ctx, fileSystemId);
  const type = input.Type as TaskType;
  if (type === 'AUTO_RELEASE_DATA') {
    throw unsupported('AUTO_RELEASE_DATA tasks are only supported on Amazon File Cache resources.');
  }
  if (input.CapacityToRelease !== undefined) {
    throw badRequest(
      'CapacityToRelease is only supported for AUTO_RELEASE_DATA tasks on Amazon File Cache resources.',
    );
  }
  if (input.ReleaseConfiguration !== undefined && type !== 'RELEASE_DATA_FROM_FILESYSTEM') {
    throw badRequest('ReleaseConfiguration is only supported for RELEASE_DATA_FROM_FILESYSTEM tasks.');
  }
  if (fs.description.Lifecycle !== 'AVAILABLE') {
    throw badRequest(
      `Unable to create a data repository task on file system ${fileSystemId} because it is in the ${fs.description.Lifecycle} state.`,
    );
  }
  const associations = fsx.associationsOf(fileSystemId);
  if (associations.length === 0) {
    throw badRequest(
      `File system ${fileSystemId} is not linked to a data repository. Create a data repository association first.`,
    );
  }
  const report = input.Report as CompletionReport;
  if (report.Enabled) {
    if (!report.Path || !report.Format || !report.Scope) {
      throw badRequest('Report Path, Format and Scope are required when the completion report is enabled.');
    }
    const location = parseS3Path(report.Path);
    if (!location || !associations.some((a) => s3Within(fsx.repoOf(a.description), location))) {
      throw badRequest(
        `The completion report path ${report.Path} must be located within a data repository path linked to file system ${fileSystemId}.`,
      );
    }
  }
  const active = activeTask(fsx, fileSystemId);
  if (active) {
    throw new FsxError(
      'DataRepositoryTaskExecuting',
      `Data repository task ${active.description.TaskId} is ${active.description.Lifecycle} on file system ${fileSystemId}; only one data repository task can run at a time.`,
    );
  }
  if (type === 'EXPORT_TO_REPOSITORY' && fsx.autoExportBusy(fileSystemId)) {
    throw new FsxError(
      'DataRepositoryTaskExecuting',
      `Automatic export is in progress on file system ${fileSystemId}; an export task cannot run at the same time.`,
    );
  }
  const record = addTask(fsx, fs, {
    Type: type,
    Paths: (input.Paths as string[] | undefined) ?? [],
    Report: clone(report),
    Tags: input.Tags as TaskDescription['Tags'],
    ReleaseConfiguration: input.ReleaseConfiguration as TaskDescription['ReleaseConfiguration'],
  });
  const response = { DataRepositoryTask: clone(record.description) };
  fsx.remember('CreateDataRepositoryTask', ctx, input, record.description.TaskId, response);
  fsx.store.save();
  return response;
}

/** Queues a task (PENDING) on a file system and starts its queue. */
export function addTask(
  fsx: FsxCore,
  fs: FileSystemRecord,
  spec: Pick<TaskDescription, 'Type' | 'Paths' | 'Report'> &
    Partial<Pick<TaskDescription, 'Tags' | 'ReleaseConfiguration'>> & { batchImportFor?: string },
): TaskRecord {
  const id = resourceId('task');
  const description: TaskDescription = {
    TaskId: id,
    Lifecycle: 'PENDING',
    Type: spec.Type,
    CreationTime: fsx.nowSeconds(),
    ResourceARN: `arn:aws:fsx:${fs.region}:${fs.description.OwnerId}:task/${id}`,
    ...(spec.Tags ? { Tags: clone(spec.Tags) } : {}),
    FileSystemId: fs.description.FileSystemId,
    Paths: spec.Paths,
    Report: spec.Report,
    ...(spec.ReleaseConfiguration ? { ReleaseConfiguration: clone(spec.ReleaseConfiguration) } : {}),
  };
  const record: TaskRecord = { seq: fsx.store.nextSeq(), region: fs.region, description };
  if (spec.batchImportFor) record.batchImportFor = spec.batchImportFor;
  fsx.state.tasks[id] = record;
  fsx.store.save();
  kickTasks(fsx, fs.description.FileSystemId);
  return record;
}

function describeTasks(fsx: FsxCore, input: Input, ctx: RequestContext) {
  const records = describeSelection(fsx, ctx, {
    records: fsx.state.tasks,
    ids: input.TaskIds,
    idOf: (r) => r.description.TaskId,
    notFound: taskNotFound,
    filters: input.Filters,
    rules: {
      'file-system-id': byFileSystem(fsx, ctx),
      'task-lifecycle': (records, values) => records.filter((r) => values.includes(r.description.Lifecycle)),
      'data-repository-association-id': (records, values) =>
        records.filter((r) => values.some((id) => taskTouches(fsx, r, id))),
      'file-cache-id': () => [],
    },
    unknownFilter: (name) =>
      badRequest(`The filter ${name} is not supported by DescribeDataRepositoryTasks.`),
  });
  // Newest first, as the console lists them.
  const { page, more } = fsx.paginate(records.reverse(), input, 50);
  return { DataRepositoryTasks: page.map((r) => clone(r.description)), ...more };
}

/** Whether a task works on the files of an association (its paths reach into the association). */
function taskTouches(fsx: FsxCore, task: TaskRecord, associationId: string): boolean {
  if (task.batchImportFor === associationId) return true;
  const association = fsx.state.associations[associationId];
  if (!association || association.description.FileSystemId !== task.description.FileSystemId) return false;
  const paths = task.description.Paths.length ? task.description.Paths : ['/'];
  return paths.some((path) => {
    const s3 = parseS3Path(path);
    if (s3) return s3Overlap(fsx.repoOf(association.description), s3);
    return fsOverlap(normalizeFsPath(association.description.FileSystemPath), normalizeFsPath(path));
  });
}

function cancelTask(fsx: FsxCore, input: Input, ctx: RequestContext) {
  const id = input.TaskId as string;
  const record = fsx.state.tasks[id];
  if (!record || record.region !== ctx.region) throw taskNotFound(id);
  const d = record.description;
  if (!ACTIVE_TASK.includes(d.Lifecycle)) {
    throw new FsxError(
      'DataRepositoryTaskEnded',
      `Data repository task ${id} has already ended (${d.Lifecycle}).`,
    );
  }
  record.cancelRequested = true;
  d.Lifecycle = 'CANCELING';
  fsx.store.save();
  return { Lifecycle: 'CANCELING', TaskId: id };
}

/** Runs the task queue of a file system: one task at a time, oldest first. */
export function kickTasks(fsx: FsxCore, fileSystemId: string): void {
  fsx.background.drive(`task:${fileSystemId}`, async () => {
    for (;;) {
      if (fsx.closed) return;
      const next = activeTask(fsx, fileSystemId);
      if (!next) return;
      try {
        await runTask(fsx, next);
      } catch (error) {
        // Never leave a task EXECUTING: it would block the file system's one task slot.
        fsx.note(`task ${next.description.TaskId}: ${(error as Error).stack ?? error}`);
        if (!fsx.closed) endTask(fsx, next, 'FAILED', `Internal error: ${(error as Error).message}`);
      }
    }
  });
}

async function runTask(fsx: FsxCore, record: TaskRecord): Promise<void> {
  const d = record.description;
  if (d.Lifecycle === 'PENDING') await fsx.background.sleep(fsx.timings.taskStartMs);
  if (fsx.closed) return;
  if (record.cancelRequested) {
    endTask(fsx, record, 'CANCELED');
    return;
  }
  d.Lifecycle = 'EXECUTING';
  d.StartTime = fsx.nowSeconds();
  d.Status = { TotalCount: 0, SucceededCount: 0, FailedCount: 0, LastUpdatedTime: fsx.nowSeconds() };
  fsx.store.save();
  let items: WorkItem[];
  try {
    items = await planTask(fsx, record);
  } catch (error) {
    if (error instanceof TaskFailure) {
      endTask(fsx, record, 'FAILED', error.message);
      return;
    }
    throw error;
  }
  const status = d.Status;
  status.TotalCount = items.length;
  fsx.store.save();
  const failures: Array<{ path: string; code: string }> = [];
  for (const item of items) {
    if (fsx.closed) return;
    if (record.cancelRequested) break;
    if (fsx.faults.taskFileDelayMs) await fsx.background.sleep(fsx.faults.taskFileDelayMs);
    if (fsx.closed) return;
    let code = injectedFailure(fsx, d.Type, item.fsPath);
    if (!code) {
      try {
        await item.run();
      } catch (error) {
        code = error instanceof FileFailure ? error.code : s3ErrorCode(error);
        fsx.note(`task ${d.TaskId}: ${item.fsPath}: ${code}: ${(error as Error).message}`);
      }
    }
    if (code) {
      failures.push({ path: item.fsPath.replace(/^\//, ''), code });
      status.FailedCount = (status.FailedCount ?? 0) + 1;
    } else {
      status.SucceededCount = (status.SucceededCount ?? 0) + 1;
    }
    status.LastUpdatedTime = fsx.nowSeconds();
    fsx.store.save();
  }
  if (record.cancelRequested) {
    endTask(fsx, record, 'CANCELED');
    return;
  }
  if (d.Report.Enabled) {
    try {
      await writeReport(fsx, record, failures);
    } catch (error) {
      endTask(
        fsx,
        record,
        'FAILED',
        `Amazon FSx could not write the completion report to ${d.Report.Path}: ${s3ErrorCode(error)}`,
      );
      return;
    }
  }
  if (failures.length > 0) {
    const verb = {
      EXPORT_TO_REPOSITORY: 'export',
      IMPORT_METADATA_FROM_REPOSITORY: 'import',
      RELEASE_DATA_FROM_FILESYSTEM: 'release',
      AUTO_RELEASE_DATA: 'release',
    }[d.Type];
    endTask(
      fsx,
      record,
      'FAILED',
      `Failed to ${verb} ${failures.length} of ${items.length} files.${d.Report.Enabled ? ' See the completion report for details.' : ''}`,
    );
  } else {
    endTask(fsx, record, 'SUCCEEDED');
  }
}

function endTask(
  fsx: FsxCore,
  record: TaskRecord,
  lifecycle: 'SUCCEEDED' | 'FAILED' | 'CANCELED',
  message?: string,
): void {
  const d = record.description;
  d.Lifecycle = lifecycle;
  d.EndTime = fsx.nowSeconds();
  if (message) d.FailureDetails = { Message: message.slice(0, 256) };
  if (d.Status) {
    d.Status.LastUpdatedTime = d.EndTime;
    if (lifecycle !== 'CANCELED')
      d.Status.TotalCount = (d.Status.SucceededCount ?? 0) + (d.Status.FailedCount ?? 0);
  }
  fsx.store.save();
}

function injectedFailure(fsx: FsxCore, type: TaskType, fsPath: string): string | undefined {
  const rule = (fsx.faults.taskFileFailures ?? []).find(
    (f) => (!f.types || f.types.includes(type)) && matchesPattern(f.match, fsPath),
  );
  return rule ? (rule.errorCode ?? 'S3Error') : undefined;
}

/**
 * Completion report, written as FSx does: `<Path>/task-<id>/failures.csv` for export and release
 * tasks, `<Path>/task-<id>/report.csv` for import tasks; rows `FilePath,FileStatus,ErrorCode`
 * without a header, RFC 4180 encoded.
 * https://docs.aws.amazon.com/fsx/latest/LustreGuide/task-completion-report.html
 */
async function writeReport(
  fsx: FsxCore,
  record: TaskRecord,
  failures: Array<{ path: string; code: string }>,
): Promise<void> {
  const d = record.description;
  const location = parseS3Path(d.Report.Path as string) as S3Location;
  const name = d.Type === 'IMPORT_METADATA_FROM_REPOSITORY' ? 'report.csv' : 'failures.csv';
  const key = `${location.prefix ? `${location.prefix}/` : ''}${d.TaskId}/${name}`;
  const body = failures.map((f) => `${csvField(f.path)},failed,${csvField(f.code)}\n`).join('');
  if ((await fsx.bucketReachable(location.bucket)) !== true)
    throw Object.assign(new Error('unreachable'), { name: 'AccessDenied' });
  fsx.rememberSelfWrite(`${location.bucket}/${key}`, createHash('md5').update(body).digest('hex'));
  await fsx.deps.s3.send(
    new PutObjectCommand({
      Bucket: location.bucket,
      Key: key,
      Body: body,
      ContentType: 'text/csv',
      ContentLength: Buffer.byteLength(body),
    }),
  );
}

/** The files a task will process. @throws TaskFailure when a path is invalid. */
async function planTask(fsx: FsxCore, record: TaskRecord): Promise<WorkItem[]> {
  const d = record.description;
  const fileSystemId = d.FileSystemId;
  const usable = fsx
    .associationsOf(fileSystemId)
    .filter((a) => USABLE_FOR_TASKS.includes(a.description.Lifecycle));
  if (d.Type === 'IMPORT_METADATA_FROM_REPOSITORY') return planImport(fsx, record, usable);
  const root = fsx.rootOf(fileSystemId);
  const records = fsx.filesOf(fileSystemId);
  const items = new Map<string, WorkItem>();
  const paths = d.Paths.length ? d.Paths : ['/'];
  const minAgeMs = (d.ReleaseConfiguration?.DurationSinceLastAccess?.Value ?? 0) * 86_400_000;
  const createdMs = d.CreationTime * 1000;
  for (const path of paths) {
    if (path.split('/').includes('..'))
      throw new TaskFailure(`The path ${path} is not valid: it must not contain .. segments.`);
    const fsPath = normalizeFsPath(path);
    if (!statFile(root, fsPath) && !isDirectory(root, fsPath)) {
      throw new TaskFailure(`The path ${path} does not exist on file system ${fileSystemId}.`);
    }
    const related = usable.filter((a) => fsOverlap(normalizeFsPath(a.description.FileSystemPath), fsPath));
    if (related.length === 0) {
      throw new TaskFailure(
        `The path ${path} is not within an available data repository association of file system ${fileSystemId}.`,
      );
    }
    for (const association of related) {
      const draPath = normalizeFsPath(association.description.FileSystemPath);
      const scope = fsPathWithin(draPath, fsPath) ? fsPath : draPath;
      for (const file of listFiles(root, scope)) {
        if (items.has(file)) continue;
        const stat = statFile(root, file);
        if (!stat) continue;
        const known = records[file];
        if (d.Type === 'EXPORT_TO_REPOSITORY') {
          if (known?.archived && !hasChanged(known, stat)) continue;
          items.set(file, { fsPath: file, run: () => exportOne(fsx, association, file) });
        } else {
          if (!known?.archived || known.released || hasChanged(known, stat)) continue;
          const touched = Math.max(stat.atimeMs, stat.mtimeMs, stat.ctimeMs);
          if (minAgeMs > 0 && touched > createdMs - minAgeMs) continue;
          items.set(file, { fsPath: file, run: () => releaseOne(fsx, fileSystemId, file) });
        }
      }
    }
  }
  return [...items.values()].sort((a, b) => a.fsPath.localeCompare(b.fsPath));
}

async function planImport(
  fsx: FsxCore,
  record: TaskRecord,
  usable: AssociationRecord[],
): Promise<WorkItem[]> {
  const d = record.description;
  const fileSystemId = d.FileSystemId;
  const root = fsx.rootOf(fileSystemId);
  const records = fsx.filesOf(fileSystemId);
  const paths = d.Paths.length ? d.Paths : usable.map((a) => a.description.DataRepositoryPath);
  const items = new Map<string, WorkItem>();
  for (const path of paths) {
    const location = parseS3Path(path);
    if (!location) {
      throw new TaskFailure(
        `The path ${path} is not valid for an import task: use an Amazon S3 path (s3://bucket/prefix) within a linked data repository.`,
      );
    }
    const related = usable.filter((a) => s3Overlap(fsx.repoOf(a.description), location));
    if (related.length === 0) {
      throw new TaskFailure(
        `The path ${path} is not within a data repository linked to file system ${fileSystemId}.`,
      );
    }
    for (const association of related) {
      const repo = fsx.repoOf(association.description);
      const draPath = normalizeFsPath(association.description.FileSystemPath);
      const scope = s3Within(repo, location) ? location : repo;
      const objects = await listObjects(fsx, scope).catch((error) => {
        throw new TaskFailure(`Amazon FSx could not list ${path}: ${s3ErrorCode(error)}.`);
      });
      const keys = new Set<string>();
      for (const object of objects) {
        const fsPath = fsPathForKey(draPath, repo, object.key);
        if (!fsPath) continue;
        if (object.key.endsWith('/')) {
          mkdirSync(onDisk(root, fsPath), { recursive: true });
          continue;
        }
        keys.add(object.key);
        if (!items.has(fsPath))
          items.set(fsPath, { fsPath, run: () => importOne(fsx, fileSystemId, fsPath, object) });
      }
      // Objects deleted from S3 since they were imported leave the file system too.
      const fsScope =
        scope.prefix.length > repo.prefix.length
          ? (fsPathForKey(draPath, repo, scope.prefix) ?? draPath)
          : draPath;
      for (const file of listFiles(root, fsScope)) {
        const known = records[file];
        const stat = statFile(root, file);
        if (!known?.archived || !stat || hasChanged(known, stat)) continue;
        if (keys.has(keyForFile(draPath, repo, file)) || items.has(file)) continue;
        items.set(file, {
          fsPath: file,
          run: async () => {
            removeFile(root, file);
            delete records[file];
            fsx.store.save();
          },
        });
      }
    }
  }
  return [...items.values()].sort((a, b) => a.fsPath.localeCompare(b.fsPath));
}

export function taskOperations(fsx: FsxCore): OperationTable<Input> {
  return {
    CreateDataRepositoryTask: (input, ctx) => createTask(fsx, input, ctx),
    DescribeDataRepositoryTasks: (input, ctx) => describeTasks(fsx, input, ctx),
    CancelDataRepositoryTask: (input, ctx) => cancelTask(fsx, input, ctx),
  };
}
