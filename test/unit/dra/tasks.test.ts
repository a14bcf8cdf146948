import {
  CreateDataRepositoryTaskCommand,
  DescribeDataRepositoryTasksCommand,
  FSxClient,
} from '@aws-sdk/client-fsx';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { beforeEach, describe, expect, it } from 'vitest';
import { parseCompletionReport } from '../../../shared/dra/report.js';
import type { AssociationState, TaskState } from '../../../shared/dra/state.js';
import {
  checkDataRepositoryTask,
  importReason,
  startDataRepositoryTask,
  startTaskWhenIdle,
  taskToken,
} from '../../../shared/dra/tasks.js';
import { awsError, fsxMock, s3Mock } from './aws-mocks.js';
import { BUCKET, buildPlan, FS_ID } from './builders.js';

const deps = () => ({ fsx: new FSxClient({}), s3: new S3Client({}) });
/** A GetObject body as the SDK returns it (only what the code reads). */
const body = (text: string) => ({ transformToString: async () => text });

function reused(overrides: Partial<AssociationState> = {}): AssociationState {
  return {
    associationId: 'dra-0123456789abcdef0',
    lifecycle: 'AVAILABLE',
    created: false,
    fileSystemPath: '/ExtData',
    dataRepositoryPath: `s3://${BUCKET}/ExtData`,
    autoImportEvents: ['NEW', 'CHANGED', 'DELETED'],
    autoExportEvents: [],
    batchImportMetaDataOnCreate: true,
    notes: [],
    ...overrides,
  };
}

describe('importReason', () => {
  it('says an existing auto-importing association is not enough: it is asynchronous and stops while MISCONFIGURED', () => {
    expect(importReason(reused())).toMatch(/asynchronous and stops while the association is MISCONFIGURED/);
  });

  it.each([
    ['a new association', { created: true }, 'created by this run'],
    ['an association without auto-import', { autoImportEvents: [] }, 'does not auto-import'],
    ['an association that never batch imported', { batchImportMetaDataOnCreate: false }, 'never imported'],
  ])('names why for %s', (_title, overrides, why) => {
    expect(importReason(reused(overrides))).toContain(why);
  });
});

describe('startDataRepositoryTask', () => {
  beforeEach(() => {
    fsxMock.reset();
    s3Mock.reset();
  });

  it('imports the scope also when the association auto-imports (objects of a MISCONFIGURED time are linked too)', async () => {
    fsxMock.on(CreateDataRepositoryTaskCommand).resolves({
      DataRepositoryTask: {
        TaskId: 'task-0',
        Lifecycle: 'PENDING',
        Type: 'IMPORT_METADATA_FROM_REPOSITORY',
        CreationTime: new Date(),
      },
    });

    const state = await startDataRepositoryTask(deps(), {
      plan: buildPlan(),
      type: 'IMPORT_METADATA_FROM_REPOSITORY',
      association: reused(),
    });

    expect(state).toMatchObject({
      ran: true,
      taskId: 'task-0',
      reason: expect.stringContaining('auto-import'),
    });
    expect(fsxMock.commandCalls(CreateDataRepositoryTaskCommand)).toHaveLength(1);
  });

  it('imports the scope prefix with a completion report', async () => {
    fsxMock.on(CreateDataRepositoryTaskCommand).resolves({
      DataRepositoryTask: {
        TaskId: 'task-1',
        Lifecycle: 'PENDING',
        Type: 'IMPORT_METADATA_FROM_REPOSITORY',
        CreationTime: new Date(),
      },
    });
    const plan = buildPlan({ scope: { fsxPath: '/ExtData/sub', prefix: 'ExtData/sub' } });

    const state = await startDataRepositoryTask(deps(), {
      plan,
      type: 'IMPORT_METADATA_FROM_REPOSITORY',
      association: reused({ created: true }),
    });

    expect(state).toMatchObject({
      ran: true,
      taskId: 'task-1',
      reason: expect.stringContaining('created by this run'),
    });
    expect(fsxMock.commandCalls(CreateDataRepositoryTaskCommand)[0]!.args[0].input).toMatchObject({
      Type: 'IMPORT_METADATA_FROM_REPOSITORY',
      FileSystemId: FS_ID,
      Paths: [`s3://${BUCKET}/ExtData/sub/`],
      Report: {
        Enabled: true,
        Path: `s3://${BUCKET}/ExtData/fsx-transfer-reports`,
        Format: 'REPORT_CSV_20191124',
        Scope: 'FAILED_FILES_ONLY',
      },
      ClientRequestToken: taskToken(plan, 'IMPORT_METADATA_FROM_REPOSITORY'),
    });
  });

  it('exports the scope by its path relative to the file system root', async () => {
    fsxMock.on(CreateDataRepositoryTaskCommand).resolves({
      DataRepositoryTask: {
        TaskId: 'task-2',
        Lifecycle: 'PENDING',
        Type: 'EXPORT_TO_REPOSITORY',
        CreationTime: new Date(),
      },
    });

    await startDataRepositoryTask(deps(), {
      plan: buildPlan({ direction: 'export' }),
      type: 'EXPORT_TO_REPOSITORY',
    });

    expect(fsxMock.commandCalls(CreateDataRepositoryTaskCommand)[0]!.args[0].input).toMatchObject({
      Type: 'EXPORT_TO_REPOSITORY',
      Paths: ['ExtData'],
    });
  });

  it('waits (DataRepositoryTaskBusyError) while another task runs', async () => {
    fsxMock.on(CreateDataRepositoryTaskCommand).rejects(awsError('DataRepositoryTaskExecuting'));

    const result = startDataRepositoryTask(deps(), {
      plan: buildPlan({ direction: 'export' }),
      type: 'EXPORT_TO_REPOSITORY',
    });

    await expect(result).rejects.toMatchObject({ name: 'DataRepositoryTaskBusyError' });
  });

  it('keeps a token of at most 63 characters for long transfer ids', () => {
    const plan = buildPlan();
    plan.transferId = 'x'.repeat(80);

    expect(taskToken(plan, 'RELEASE_DATA_FROM_FILESYSTEM')).toMatch(/^[A-Za-z0-9_.-]{1,63}$/);
  });
});

describe('startTaskWhenIdle', () => {
  const NOW = new Date('2026-11-30T10:00:00.000Z');
  const started = {
    DataRepositoryTask: {
      TaskId: 'task-9',
      Lifecycle: 'PENDING' as const,
      Type: 'EXPORT_TO_REPOSITORY' as const,
      CreationTime: NOW,
    },
  };
  const attempt = (deadline: string) =>
    startTaskWhenIdle(
      { fsx: new FSxClient({}), now: () => NOW },
      { plan: { ...buildPlan({ direction: 'export' }), deadline }, type: 'EXPORT_TO_REPOSITORY' },
    );

  beforeEach(() => {
    fsxMock.reset();
  });

  it('is not ready yet (the wait goes on) while the file system is busy before the deadline', async () => {
    fsxMock.on(CreateDataRepositoryTaskCommand).rejects(awsError('DataRepositoryTaskExecuting'));

    const result = attempt('2026-12-03T10:00:00.000Z');

    await expect(result).rejects.toMatchObject({
      name: 'NotReadyYetError',
      message: expect.stringContaining(FS_ID),
    });
  });

  it('fails with TransferTimeoutError when the file system is still busy at the deadline', async () => {
    fsxMock.on(CreateDataRepositoryTaskCommand).rejects(awsError('DataRepositoryTaskExecuting'));

    const result = attempt('2026-11-30T09:59:00.000Z');

    await expect(result).rejects.toMatchObject({
      name: 'TransferTimeoutError',
      message: expect.stringContaining("could not start by the run's deadline"),
    });
  });

  it('starts the task with the same ClientRequestToken on every attempt once the file system is free', async () => {
    fsxMock
      .on(CreateDataRepositoryTaskCommand)
      .rejectsOnce(awsError('DataRepositoryTaskExecuting'))
      .resolves(started);

    await expect(attempt('2026-12-03T10:00:00.000Z')).rejects.toMatchObject({ name: 'NotReadyYetError' });
    const state = await attempt('2026-12-03T10:00:00.000Z');

    const tokens = fsxMock
      .commandCalls(CreateDataRepositoryTaskCommand)
      .map((c) => c.args[0].input.ClientRequestToken);
    expect(state).toMatchObject({ ran: true, taskId: 'task-9' });
    expect(new Set(tokens).size).toBe(1);
    expect(tokens).toHaveLength(2);
  });

  it('passes other errors through (FSx refused the task)', async () => {
    fsxMock.on(CreateDataRepositoryTaskCommand).rejects(awsError('BadRequest'));

    await expect(attempt('2026-12-03T10:00:00.000Z')).rejects.toMatchObject({
      name: 'DataRepositoryTaskFailedError',
    });
  });
});

describe('checkDataRepositoryTask', () => {
  const running: TaskState = {
    type: 'EXPORT_TO_REPOSITORY',
    ran: true,
    reason: 'export',
    taskId: 'task-0123456789abcdef0',
    reportPath: `s3://${BUCKET}/ExtData/fsx-transfer-reports`,
  };
  const describeAs = (Lifecycle: string, Status = { TotalCount: 3, SucceededCount: 1, FailedCount: 2 }) =>
    fsxMock.on(DescribeDataRepositoryTasksCommand).resolves({
      DataRepositoryTasks: [
        {
          TaskId: running.taskId,
          Lifecycle: Lifecycle as 'FAILED',
          Type: 'EXPORT_TO_REPOSITORY',
          CreationTime: new Date(),
          Status,
          Report: { Enabled: true, Path: running.reportPath },
          FailureDetails: { Message: 'some files failed' },
        },
      ],
    });
  beforeEach(() => {
    fsxMock.reset();
    s3Mock.reset();
  });

  it('asks for a retry while the task runs', async () => {
    describeAs('EXECUTING');

    await expect(checkDataRepositoryTask(deps(), buildPlan(), running)).rejects.toMatchObject({
      name: 'NotReadyYetError',
    });
  });

  it('returns the final counts when the task succeeded', async () => {
    describeAs('SUCCEEDED', { TotalCount: 3, SucceededCount: 3, FailedCount: 0 });

    await expect(checkDataRepositoryTask(deps(), buildPlan(), running)).resolves.toMatchObject({
      lifecycle: 'SUCCEEDED',
      total: 3,
      succeeded: 3,
      failed: 0,
    });
  });

  it('fails naming the files and counts of the completion report', async () => {
    describeAs('FAILED');
    s3Mock
      .on(GetObjectCommand, {
        Bucket: BUCKET,
        Key: `ExtData/fsx-transfer-reports/${running.taskId}/failures.csv`,
      })
      .resolves({
        Body: body('ExtData/a.nc,FAILED,S3AccessDenied\n"ExtData/b,c.nc",FAILED,FileTooLarge\n') as never,
      });

    const error = await checkDataRepositoryTask(deps(), buildPlan(), running).catch((e: unknown) => e);

    expect(error).toMatchObject({ name: 'DataRepositoryTaskFailedError' });
    const message = (error as Error).message;
    expect(message).toContain('2 file(s) failed');
    expect(message).toContain('ExtData/a.nc (S3AccessDenied)');
    expect(message).toContain('ExtData/b,c.nc (FileTooLarge)');
  });

  it('fails with FSx failure details when no report exists', async () => {
    describeAs('FAILED');
    s3Mock.on(GetObjectCommand).rejects(awsError('NoSuchKey', 404));

    await expect(checkDataRepositoryTask(deps(), buildPlan(), running)).rejects.toMatchObject({
      name: 'DataRepositoryTaskFailedError',
      message: expect.stringContaining('some files failed'),
    });
  });

  it('fails when the task was canceled', async () => {
    describeAs('CANCELED');

    await expect(checkDataRepositoryTask(deps(), buildPlan(), running)).rejects.toMatchObject({
      name: 'DataRepositoryTaskFailedError',
      message: expect.stringContaining('CANCELED'),
    });
  });
});

describe('parseCompletionReport', () => {
  it('reads FilePath, FileStatus and ErrorCode, skipping a header and blank lines', () => {
    const files = parseCompletionReport(
      'FilePath,FileStatus,ErrorCode\r\nout/a.nc,FAILED,PathSizeTooLong\r\n\r\n',
    );

    expect(files).toEqual([{ filePath: 'out/a.nc', fileStatus: 'FAILED', errorCode: 'PathSizeTooLong' }]);
  });
});
