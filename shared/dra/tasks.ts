/**
 * Data repository tasks: import (stage-in, metadata only), export (always needed for files that
 * existed before the association), release (free FSx space after a verified export).
 *
 * AWS facts (CreateDataRepositoryTask, DescribeDataRepositoryTasks): one task runs at a time per
 * file system, and automatic export excludes export tasks: a second one fails with
 * `DataRepositoryTaskExecuting` (the start waits, `startTaskWhenIdle`). Import Paths are S3 URIs; export and release
 * Paths are relative to the file system root. Lifecycle PENDING, EXECUTING, CANCELING, then
 * SUCCEEDED, FAILED (any failed file) or CANCELED; Status counts are final only then. There is no
 * completion event, so the state machine polls with back-off.
 */
import { createHash } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { rethrowTransient } from '../aws/transient.js';
import {
  awsErrorName,
  DataRepositoryTaskBusyError,
  DataRepositoryTaskFailedError,
  FileSystemNotFoundError,
  NotReadyYetError,
  TransferTimeoutError,
} from '../errors.js';
import type { FSxClient } from '../fsx/file-systems.js';
import { createTask, type DataRepositoryTask, describeTask } from '../fsx/tasks.js';
import type { TransferPlan } from '../plan/schema.js';
import { describeFailedFiles, readCompletionReport } from './report.js';
import type { AssociationState, TaskState, TaskType } from './state.js';

/** Folder under the mapping's S3 location where completion reports go by default. */
export const REPORT_FOLDER = 'fsx-transfer-reports';

/**
 * Where completion reports go: the configured `defaults.reportPath`, else a folder under the
 * mapping's own S3 location (FSx only writes reports inside a linked data repository).
 */
export function reportPathFor(plan: Pick<TransferPlan, 'scope'>, configured?: string): string {
  return (configured ?? `${plan.scope.mappingS3Uri}/${REPORT_FOLDER}`).replace(/\/+$/, '');
}

/**
 * Why a stage-in runs an IMPORT_METADATA_FROM_REPOSITORY task of its scope. It always does:
 * automatic import is asynchronous (a run right after an upload would verify before it), and it
 * stops while the association is MISCONFIGURED, so objects uploaded during an outage are never
 * imported by it later; an import task links every object of the scope before verification.
 */
export function importReason(association: AssociationState | undefined): string {
  if (!association) return 'no association state was given';
  const events = association.autoImportEvents;
  const id = association.associationId;
  if (association.created) {
    return `association ${id} was created by this run: an import task confirms the metadata of the objects that predate it (it runs after the association's own batch import)`;
  }
  if (!events.includes('NEW') || !events.includes('CHANGED')) {
    return `association ${id} does not auto-import new and changed objects (AutoImportPolicy: ${events.join(', ') || 'none'})`;
  }
  if (!association.batchImportMetaDataOnCreate) {
    return `association ${id} was created without BatchImportMetaDataOnCreate: objects that predate it were never imported`;
  }
  return `auto-import (${events.join(', ')}) of association ${id} is asynchronous and stops while the association is MISCONFIGURED: an import task links every object of the scope before verification`;
}

/** The task's Paths: S3 URIs for imports, paths relative to the file system root otherwise. */
export function taskPaths(plan: Pick<TransferPlan, 'scope'>, type: TaskType): string[] | undefined {
  if (type === 'IMPORT_METADATA_FROM_REPOSITORY') {
    return [`s3://${plan.scope.bucket}/${plan.scope.prefix ? `${plan.scope.prefix}/` : ''}`];
  }
  const relative = plan.scope.fsxPath.replace(/^\/+/, '');
  if (relative) return [relative];
  return type === 'RELEASE_DATA_FROM_FILESYSTEM' ? ['/'] : undefined;
}

/** Idempotency token of a run's task: a retried start returns the same task. */
export function taskToken(plan: Pick<TransferPlan, 'transferId'>, type: TaskType): string {
  const digest = createHash('sha256').update(`${plan.transferId}|${type}`).digest('hex').slice(0, 24);
  const kind = {
    IMPORT_METADATA_FROM_REPOSITORY: 'import',
    EXPORT_TO_REPOSITORY: 'export',
    RELEASE_DATA_FROM_FILESYSTEM: 'release',
  }[type];
  return `fsxt-${kind}-${digest}`;
}

function toTaskState(task: DataRepositoryTask, base: Omit<TaskState, 'ran'> & { ran?: boolean }): TaskState {
  return {
    ...base,
    ran: true,
    taskId: task.TaskId,
    lifecycle: task.Lifecycle,
    ...(task.Report?.Path ? { reportPath: task.Report.Path } : {}),
    ...(task.Paths ? { paths: task.Paths } : {}),
    ...(task.Status?.TotalCount !== undefined ? { total: task.Status.TotalCount } : {}),
    ...(task.Status?.SucceededCount !== undefined ? { succeeded: task.Status.SucceededCount } : {}),
    ...(task.Status?.FailedCount !== undefined ? { failed: task.Status.FailedCount } : {}),
  };
}

export interface StartTaskInput {
  plan: Pick<TransferPlan, 'transferId' | 'mapping' | 'fileSystem' | 'scope'>;
  type: TaskType;
  association?: AssociationState;
  /** `defaults.reportPath` of the config. */
  reportPath?: string;
}

/**
 * Starts the run's data repository task.
 * @returns the task state, with the reason it ran.
 * @throws DataRepositoryTaskBusyError while another task (or automatic export) runs on the file
 *   system (`startTaskWhenIdle` turns it into a wait); DataRepositoryTaskFailedError when FSx refuses
 *   the task; FileSystemNotFoundError; TransientAwsError on throttling.
 */
export async function startDataRepositoryTask(
  deps: { fsx: FSxClient },
  input: StartTaskInput,
): Promise<TaskState> {
  const { plan, type } = input;
  let reason: string;
  if (type === 'IMPORT_METADATA_FROM_REPOSITORY') {
    reason = importReason(input.association);
  } else if (type === 'EXPORT_TO_REPOSITORY') {
    reason =
      'an export task is always run: files that existed before the association are never exported automatically, and auto-export (if any) is asynchronous';
  } else {
    reason =
      'release: true: file contents already exported and verified in S3 are released from FSx (metadata stays)';
  }
  const reportPath = reportPathFor(plan, input.reportPath);
  const paths = taskPaths(plan, type);
  try {
    const task = await createTask(deps.fsx, {
      Type: type,
      FileSystemId: plan.fileSystem.id,
      ...(paths ? { Paths: paths } : {}),
      Report: {
        Enabled: true,
        Path: reportPath,
        Format: 'REPORT_CSV_20191124',
        Scope: 'FAILED_FILES_ONLY',
      },
      ...(type === 'RELEASE_DATA_FROM_FILESYSTEM'
        ? { ReleaseConfiguration: { DurationSinceLastAccess: { Unit: 'DAYS', Value: 0 } } }
        : {}),
      ClientRequestToken: taskToken(plan, type),
      Tags: [
        { Key: 'fsx-transfer:mapping', Value: plan.mapping },
        { Key: 'fsx-transfer:transfer-id', Value: plan.transferId },
      ],
    });
    if (!task) throw new DataRepositoryTaskFailedError(`CreateDataRepositoryTask returned no task (${type})`);
    return toTaskState(task, { type, reason, reportPath });
  } catch (error) {
    const name = awsErrorName(error);
    const message = (error as Error)?.message ?? String(error);
    if (name === 'DataRepositoryTaskExecuting') {
      throw new DataRepositoryTaskBusyError(
        `Another data repository task (or automatic export) is running on ${plan.fileSystem.id}; waiting to start the ${type} task`,
        { cause: error, details: { fileSystemId: plan.fileSystem.id, type } },
      );
    }
    if (name === 'FileSystemNotFound') {
      throw new FileSystemNotFoundError(`File system ${plan.fileSystem.id} no longer exists`, {
        cause: error,
      });
    }
    if (
      name === 'BadRequest' ||
      name === 'IncompatibleParameterError' ||
      name === 'UnsupportedOperation' ||
      name === 'ServiceLimitExceeded'
    ) {
      throw new DataRepositoryTaskFailedError(
        `FSx refused the ${type} task on ${plan.fileSystem.id}: ${name}: ${message}`,
        {
          cause: error,
          details: { fileSystemId: plan.fileSystem.id, type, paths },
        },
      );
    }
    rethrowTransient(error, `starting the ${type} task on ${plan.fileSystem.id}`);
  }
}

/**
 * One attempt to start the run's task, as a wait (shared/dra/waits.ts): `Start*Task` calls it
 * first, then the scheduled poller once a minute while the file system is busy, with the same
 * ClientRequestToken (a start that FSx already took returns the same task).
 * @returns the task state once started.
 * @throws NotReadyYetError while another task (or automatic export) holds the file system;
 *   TransferTimeoutError when it still does at the run's deadline; what `startDataRepositoryTask`
 *   throws otherwise.
 */
export async function startTaskWhenIdle(
  deps: { fsx: FSxClient; now?: () => Date },
  input: StartTaskInput & { plan: Pick<TransferPlan, 'deadline'> },
): Promise<TaskState> {
  try {
    return await startDataRepositoryTask(deps, input);
  } catch (error) {
    if (!(error instanceof DataRepositoryTaskBusyError)) throw error;
    const now = deps.now?.() ?? new Date();
    if (now.getTime() > Date.parse(input.plan.deadline)) {
      throw new TransferTimeoutError(
        `The ${input.type} task could not start by the run's deadline ${input.plan.deadline}: another data repository task (or automatic export) still holds ${input.plan.fileSystem.id}`,
        { cause: error, details: { fileSystemId: input.plan.fileSystem.id, type: input.type } },
      );
    }
    throw new NotReadyYetError(error.message, { cause: error, details: error.details });
  }
}

/**
 * Checks the run's task once; the state machine retries on NotReadyYetError with back-off.
 * @returns the final state (counts) when SUCCEEDED.
 * @throws NotReadyYetError while PENDING/EXECUTING/CANCELING; DataRepositoryTaskFailedError when
 *   FAILED (naming the failed files and counts from the completion report) or CANCELED;
 *   TransferTimeoutError after the plan's deadline.
 */
export async function checkDataRepositoryTask(
  deps: { fsx: FSxClient; s3: S3Client; now?: () => Date },
  plan: Pick<TransferPlan, 'fileSystem' | 'deadline'>,
  state: TaskState,
): Promise<TaskState> {
  if (!state.ran || !state.taskId) return state;
  let task: DataRepositoryTask | undefined;
  try {
    task = await describeTask(deps.fsx, state.taskId);
  } catch (error) {
    rethrowTransient(error, `describing task ${state.taskId}`);
  }
  if (!task) {
    throw new DataRepositoryTaskFailedError(`Data repository task ${state.taskId} no longer exists`, {
      details: { taskId: state.taskId },
    });
  }
  const next = toTaskState(task, state);
  const counts = `${next.succeeded ?? 0} succeeded, ${next.failed ?? 0} failed of ${next.total ?? '?'}`;
  switch (task.Lifecycle) {
    case 'SUCCEEDED':
      return next;
    case 'FAILED': {
      const reportPath = next.reportPath ?? state.reportPath;
      let report: Awaited<ReturnType<typeof readCompletionReport>>;
      let reportProblem = 'no completion report found';
      try {
        report = reportPath ? await readCompletionReport(deps.s3, reportPath, state.taskId) : undefined;
      } catch (error) {
        reportProblem = `the completion report could not be read (${awsErrorName(error) ?? String(error)})`;
      }
      const files = report?.files ?? [];
      const failedCount = Math.max(next.failed ?? 0, files.length);
      const detail =
        files.length > 0
          ? `${failedCount} file(s) failed: ${describeFailedFiles(files)}`
          : `${task.FailureDetails?.Message ?? 'no failure details'} (${counts}; ${reportProblem})`;
      throw new DataRepositoryTaskFailedError(
        `${state.type} task ${state.taskId} on ${plan.fileSystem.id} FAILED: ${detail}${report ? ` (report: ${report.uri})` : ''}`,
        {
          details: {
            taskId: state.taskId,
            type: state.type,
            total: next.total,
            succeeded: next.succeeded,
            failed: failedCount,
            failedFiles: files.slice(0, 50),
            reportUri: report?.uri,
            failureDetails: task.FailureDetails?.Message,
          },
        },
      );
    }
    case 'CANCELED':
      throw new DataRepositoryTaskFailedError(
        `${state.type} task ${state.taskId} on ${plan.fileSystem.id} was CANCELED (${counts})`,
        {
          details: { taskId: state.taskId, type: state.type },
        },
      );
    default: {
      const now = deps.now?.() ?? new Date();
      if (now.getTime() > Date.parse(plan.deadline)) {
        throw new TransferTimeoutError(
          `${state.type} task ${state.taskId} is still ${task.Lifecycle} at the run's deadline ${plan.deadline} (${counts})`,
          { details: { taskId: state.taskId } },
        );
      }
      throw new NotReadyYetError(`${state.type} task ${state.taskId} is ${task.Lifecycle} (${counts})`, {
        details: { taskId: state.taskId, lifecycle: task.Lifecycle },
      });
    }
  }
}
