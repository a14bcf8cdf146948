import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseCsvLine } from '../../../local/fsx/paths.js';
import type { TaskDescription } from '../../../local/fsx/store.js';
import { call, failure, type Harness, harness, waitFor } from './fsx-helpers.js';

const FS = 'fs-0123456789abcdef0';
const BUCKET = 'model-bucket';
const REPORT = {
  Enabled: true,
  Path: `s3://${BUCKET}/output/reports`,
  Format: 'REPORT_CSV_20191124',
  Scope: 'FAILED_FILES_ONLY',
};

let h: Harness;
let root: string;
let draId: string;

const write = (fsPath: string, contents: string) => {
  const path = join(root, fsPath);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, contents);
};

async function createTask(input: Record<string, unknown>): Promise<TaskDescription> {
  const out = await call<{ DataRepositoryTask: TaskDescription }>(h.fsx, 'CreateDataRepositoryTask', {
    FileSystemId: FS,
    Report: { Enabled: false },
    ...input,
  });
  return out.DataRepositoryTask;
}

async function describeTask(id: string): Promise<TaskDescription> {
  const out = await call<{ DataRepositoryTasks: TaskDescription[] }>(h.fsx, 'DescribeDataRepositoryTasks', {
    TaskIds: [id],
  });
  return out.DataRepositoryTasks[0] as TaskDescription;
}

async function ended(id: string): Promise<TaskDescription> {
  return waitFor(
    async () => {
      const task = await describeTask(id);
      return ['SUCCEEDED', 'FAILED', 'CANCELED'].includes(task.Lifecycle) ? task : undefined;
    },
    5000,
    `task ${id} to end`,
  );
}

beforeEach(async () => {
  h = harness({ fileSystems: [{ id: FS }] });
  h.s3.createBucket(BUCKET);
  root = h.fsx.fileSystemRoot(FS);
  // Model output written before the association exists (the seed's "existing files").
  write('output/run1/a.nc', 'AAAA');
  write('output/run1/b.nc', 'BBBBBBBB');
  const out = await call<{ Association: { AssociationId: string } }>(
    h.fsx,
    'CreateDataRepositoryAssociation',
    {
      FileSystemId: FS,
      FileSystemPath: '/output',
      DataRepositoryPath: `s3://${BUCKET}/output`,
    },
  );
  draId = out.Association.AssociationId;
  await waitFor(async () => {
    const d = await call<{ Associations: Array<{ Lifecycle: string }> }>(
      h.fsx,
      'DescribeDataRepositoryAssociations',
      { AssociationIds: [draId] },
    );
    return d.Associations[0]?.Lifecycle === 'AVAILABLE';
  });
});

afterEach(async () => {
  await h.close();
});

describe('EXPORT_TO_REPOSITORY', () => {
  it('exports files that existed before the DRA with their contents and POSIX metadata', async () => {
    const task = await createTask({ Type: 'EXPORT_TO_REPOSITORY', Paths: ['output'] });

    const done = await ended(task.TaskId);

    expect(task.Lifecycle).toBe('PENDING');
    expect(done.Lifecycle).toBe('SUCCEEDED');
    expect(done.Status).toMatchObject({ TotalCount: 2, SucceededCount: 2, FailedCount: 0 });
    expect(done.StartTime).toBeGreaterThanOrEqual(done.CreationTime);
    expect(done.EndTime).toBeGreaterThanOrEqual(done.StartTime as number);
    expect(h.s3.get(BUCKET, 'output/run1/a.nc')).toBe('AAAA');
    expect(h.s3.get(BUCKET, 'output/run1/b.nc')).toBe('BBBBBBBB');
    expect(h.s3.metadata(BUCKET, 'output/run1/a.nc')).toMatchObject({
      'file-permissions': expect.stringMatching(/^0100[0-7]{3}$/),
      'file-mtime': expect.stringMatching(/^\d+ns$/),
      'user-agent': 'aws-fsx-lustre',
    });
    expect(h.fsx.hsmState(FS, '/output/run1/a.nc')?.lfs).toBe('(0x00000009) exists archived, archive_id:1');
  });

  it('exports only new and changed files the next time', async () => {
    await ended((await createTask({ Type: 'EXPORT_TO_REPOSITORY' })).TaskId);
    write('output/run1/a.nc', 'AAAA-changed');
    write('output/run2/c.nc', 'C');

    const second = await ended((await createTask({ Type: 'EXPORT_TO_REPOSITORY' })).TaskId);

    expect(second.Status).toMatchObject({ TotalCount: 2, SucceededCount: 2 });
    expect(h.s3.get(BUCKET, 'output/run1/a.nc')).toBe('AAAA-changed');
    expect(h.s3.get(BUCKET, 'output/run2/c.nc')).toBe('C');
  });

  it('fails the task when any file fails, with final counts and a completion report at <Path>/task-<id>/failures.csv', async () => {
    write('output/run1/@odd,name.nc', 'X');
    h.fsx.setFaults({
      taskFileFailures: [
        { match: 'b.nc', errorCode: 'S3AccessDenied' },
        { match: 'odd', errorCode: 'ResourceBusy' },
      ],
    });

    const done = await ended(
      (await createTask({ Type: 'EXPORT_TO_REPOSITORY', Paths: ['/output'], Report: REPORT })).TaskId,
    );
    const report = h.s3.get(BUCKET, `output/reports/${done.TaskId}/failures.csv`) ?? '';
    const rows = report.trim().split('\n').map(parseCsvLine);

    expect(done.Lifecycle).toBe('FAILED');
    expect(done.Status).toMatchObject({ TotalCount: 3, SucceededCount: 1, FailedCount: 2 });
    expect(done.FailureDetails?.Message).toContain('2 of 3 files');
    expect(report.split('\n')[0]).toBe('"output/run1/@odd,name.nc",failed,ResourceBusy');
    expect(rows).toEqual([
      ['output/run1/@odd,name.nc', 'failed', 'ResourceBusy'],
      ['output/run1/b.nc', 'failed', 'S3AccessDenied'],
    ]);
    expect(h.s3.get(BUCKET, 'output/run1/a.nc')).toBe('AAAA');
  });

  it('writes an empty report when no file fails', async () => {
    const done = await ended((await createTask({ Type: 'EXPORT_TO_REPOSITORY', Report: REPORT })).TaskId);

    expect(done.Lifecycle).toBe('SUCCEEDED');
    expect(h.s3.get(BUCKET, `output/reports/${done.TaskId}/failures.csv`)).toBe('');
  });

  it('reports PathSizeTooLong for a file whose S3 key would exceed 1024 bytes', async () => {
    const deep = Array.from({ length: 6 }, (_, i) => `${i}${'d'.repeat(199)}`).join('/');
    write(`output/${deep}/f.nc`, 'F');

    const done = await ended((await createTask({ Type: 'EXPORT_TO_REPOSITORY', Report: REPORT })).TaskId);
    const report = h.s3.get(BUCKET, `output/reports/${done.TaskId}/failures.csv`) ?? '';

    expect(done.Lifecycle).toBe('FAILED');
    expect(report).toContain(',failed,PathSizeTooLong');
  });

  it('reports S3AccessDenied when S3 refuses the upload', async () => {
    h.s3.denyPut.add('output/run1/a.nc');

    const done = await ended((await createTask({ Type: 'EXPORT_TO_REPOSITORY', Report: REPORT })).TaskId);

    expect(done.Status).toMatchObject({ FailedCount: 1, SucceededCount: 1 });
    expect(h.s3.get(BUCKET, `output/reports/${done.TaskId}/failures.csv`)).toBe(
      'output/run1/a.nc,failed,S3AccessDenied\n',
    );
  });

  it('fails the task when a path does not exist or lies outside every DRA', async () => {
    write('scratch/tmp.nc', 'T');

    const missing = await ended(
      (await createTask({ Type: 'EXPORT_TO_REPOSITORY', Paths: ['output/nope'] })).TaskId,
    );
    const outside = await ended(
      (await createTask({ Type: 'EXPORT_TO_REPOSITORY', Paths: ['scratch'] })).TaskId,
    );

    expect(missing.Lifecycle).toBe('FAILED');
    expect(missing.FailureDetails?.Message).toContain('does not exist');
    expect(outside.Lifecycle).toBe('FAILED');
    expect(outside.FailureDetails?.Message).toContain('not within');
  });
});

describe('task rules', () => {
  it('runs one task at a time per file system (DataRepositoryTaskExecuting)', async () => {
    h.fsx.setFaults({ taskFileDelayMs: 20_000 });
    const first = await createTask({ Type: 'EXPORT_TO_REPOSITORY' });

    const second = await failure(createTask({ Type: 'IMPORT_METADATA_FROM_REPOSITORY' }));
    await ended(first.TaskId);
    const third = await createTask({ Type: 'IMPORT_METADATA_FROM_REPOSITORY' });

    expect(second.code).toBe('DataRepositoryTaskExecuting');
    expect(second.message).toContain(first.TaskId);
    expect(third.Lifecycle).toBe('PENDING');
  });

  it('cancels a slow task: CANCELING then CANCELED, and a second cancel says the task ended', async () => {
    h.fsx.setFaults({ taskFileDelayMs: 200_000 });
    const task = await createTask({ Type: 'EXPORT_TO_REPOSITORY', Report: REPORT });
    await waitFor(async () => (await describeTask(task.TaskId)).Lifecycle === 'EXECUTING');

    const cancel = await call(h.fsx, 'CancelDataRepositoryTask', { TaskId: task.TaskId });
    const done = await ended(task.TaskId);
    const again = await failure(call(h.fsx, 'CancelDataRepositoryTask', { TaskId: task.TaskId }));
    const unknown = await failure(
      call(h.fsx, 'CancelDataRepositoryTask', { TaskId: 'task-0123456789abcdef0' }),
    );

    expect(cancel).toEqual({ Lifecycle: 'CANCELING', TaskId: task.TaskId });
    expect(done.Lifecycle).toBe('CANCELED');
    expect(done.EndTime).toBeDefined();
    expect(again.code).toBe('DataRepositoryTaskEnded');
    expect(unknown.code).toBe('DataRepositoryTaskNotFound');
  });

  it('shows running counts while executing and final counts at the end', async () => {
    h.fsx.setFaults({ taskFileDelayMs: 40_000 });
    const task = await createTask({ Type: 'EXPORT_TO_REPOSITORY' });

    const midway = await waitFor(async () => {
      const t = await describeTask(task.TaskId);
      return t.Lifecycle === 'EXECUTING' && t.Status?.SucceededCount === 1 ? t : undefined;
    });
    const done = await ended(task.TaskId);

    expect(midway.Status).toMatchObject({ TotalCount: 2, SucceededCount: 1, FailedCount: 0 });
    expect(done.Status).toMatchObject({ TotalCount: 2, SucceededCount: 2, FailedCount: 0 });
    expect(done.Status?.LastUpdatedTime).toBeGreaterThanOrEqual(midway.Status?.LastUpdatedTime as number);
  });

  it('validates the report and the task type before creating anything', async () => {
    const noPath = await failure(createTask({ Type: 'EXPORT_TO_REPOSITORY', Report: { Enabled: true } }));
    const elsewhere = await failure(
      createTask({ Type: 'EXPORT_TO_REPOSITORY', Report: { ...REPORT, Path: `s3://${BUCKET}/reports` } }),
    );
    const autoRelease = await failure(createTask({ Type: 'AUTO_RELEASE_DATA' }));
    const noReport = await failure(
      call(h.fsx, 'CreateDataRepositoryTask', { FileSystemId: FS, Type: 'EXPORT_TO_REPOSITORY' }),
    );

    expect(noPath.code).toBe('BadRequest');
    expect(elsewhere.code).toBe('BadRequest');
    expect(elsewhere.message).toContain('within a data repository path');
    expect(autoRelease.code).toBe('UnsupportedOperation');
    expect(noReport.message).toBe(
      "1 validation error detected: Value null at 'report' failed to satisfy constraint: Member must not be null",
    );
  });

  it('refuses a task on a file system without DRAs', async () => {
    const bare = await h.fsx.createFileSystem({});

    const out = await failure(createTask({ FileSystemId: bare.FileSystemId, Type: 'EXPORT_TO_REPOSITORY' }));

    expect(out.code).toBe('BadRequest');
    expect(out.message).toContain('not linked to a data repository');
  });

  it('returns the same task for a repeated ClientRequestToken', async () => {
    const first = await createTask({ Type: 'EXPORT_TO_REPOSITORY', ClientRequestToken: 'export-1' });

    const again = await createTask({ Type: 'EXPORT_TO_REPOSITORY', ClientRequestToken: 'export-1' });
    const other = await failure(
      createTask({ Type: 'RELEASE_DATA_FROM_FILESYSTEM', ClientRequestToken: 'export-1' }),
    );

    expect(again.TaskId).toBe(first.TaskId);
    expect(other).toMatchObject({ code: 'IncompatibleParameterError', fields: { Parameter: 'Type' } });
  });

  it('filters and pages DescribeDataRepositoryTasks', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const task = await createTask({ Type: 'EXPORT_TO_REPOSITORY' });
      ids.push(task.TaskId);
      await ended(task.TaskId);
    }

    const page1 = await call<{ DataRepositoryTasks: TaskDescription[]; NextToken?: string }>(
      h.fsx,
      'DescribeDataRepositoryTasks',
      {
        Filters: [
          { Name: 'file-system-id', Values: [FS] },
          { Name: 'task-lifecycle', Values: ['SUCCEEDED'] },
        ],
        MaxResults: 2,
      },
    );
    const page2 = await call<{ DataRepositoryTasks: TaskDescription[]; NextToken?: string }>(
      h.fsx,
      'DescribeDataRepositoryTasks',
      {
        Filters: [
          { Name: 'file-system-id', Values: [FS] },
          { Name: 'task-lifecycle', Values: ['SUCCEEDED'] },
        ],
        MaxResults: 2,
        NextToken: page1.NextToken,
      },
    );
    const byDra = await call<{ DataRepositoryTasks: TaskDescription[] }>(
      h.fsx,
      'DescribeDataRepositoryTasks',
      {
        Filters: [{ Name: 'data-repository-association-id', Values: [draId] }],
      },
    );
    const failed = await call<{ DataRepositoryTasks: TaskDescription[] }>(
      h.fsx,
      'DescribeDataRepositoryTasks',
      {
        Filters: [{ Name: 'task-lifecycle', Values: ['FAILED'] }],
      },
    );

    expect([...page1.DataRepositoryTasks, ...page2.DataRepositoryTasks].map((t) => t.TaskId)).toEqual(
      [...ids].reverse(),
    );
    expect(page2.NextToken).toBeUndefined();
    expect(byDra.DataRepositoryTasks).toHaveLength(3);
    expect(failed.DataRepositoryTasks).toHaveLength(0);
  });
});

describe('IMPORT_METADATA_FROM_REPOSITORY', () => {
  it('imports metadata only: files appear with size and mtime, contents stay in S3 until restored', async () => {
    h.s3.put(BUCKET, 'output/input/x.nc', 'XXXXXXXXXX');
    h.s3.put(BUCKET, 'output/input/deep/y.nc', 'YY');

    const done = await ended(
      (await createTask({ Type: 'IMPORT_METADATA_FROM_REPOSITORY', Paths: [`s3://${BUCKET}/output/input`] }))
        .TaskId,
    );
    const placeholder = readFileSync(join(root, 'output/input/x.nc'));
    const state = h.fsx.hsmState(FS, '/output/input/x.nc');
    const restored = await h.fsx.restore(FS, '/output/input');

    expect(done.Lifecycle).toBe('SUCCEEDED');
    expect(done.Status).toMatchObject({ TotalCount: 2, SucceededCount: 2 });
    expect(statSync(join(root, 'output/input/x.nc')).size).toBe(10);
    expect(placeholder.equals(Buffer.alloc(10))).toBe(true);
    expect(state).toMatchObject({
      flags: ['released', 'exists', 'archived'],
      contentsPresent: false,
      lfs: '(0x0000000d) released exists archived, archive_id:1',
    });
    expect(restored).toEqual({ restored: ['/output/input/deep/y.nc', '/output/input/x.nc'], bytes: 12 });
    expect(readFileSync(join(root, 'output/input/x.nc'), 'utf8')).toBe('XXXXXXXXXX');
    expect(h.fsx.hsmState(FS, '/output/input/x.nc')?.flags).toEqual(['exists', 'archived']);
  });

  it('counts every object of the path, including ones already imported, and applies changes and deletions', async () => {
    h.s3.put(BUCKET, 'output/in/keep.nc', 'K');
    h.s3.put(BUCKET, 'output/in/change.nc', 'C1');
    h.s3.put(BUCKET, 'output/in/gone.nc', 'G');
    await ended((await createTask({ Type: 'IMPORT_METADATA_FROM_REPOSITORY' })).TaskId);
    await h.fsx.restore(FS, '/output/in/change.nc');
    h.s3.put(BUCKET, 'output/in/change.nc', 'C2-longer');
    h.s3.remove(BUCKET, 'output/in/gone.nc');

    const second = await ended(
      (await createTask({ Type: 'IMPORT_METADATA_FROM_REPOSITORY', Paths: [`s3://${BUCKET}/output/in/`] }))
        .TaskId,
    );

    expect(second.Status).toMatchObject({ TotalCount: 3, SucceededCount: 3 });
    expect(statSync(join(root, 'output/in/change.nc')).size).toBe(9);
    expect(h.fsx.hsmState(FS, '/output/in/change.nc')?.contentsPresent).toBe(false);
    expect(h.fsx.hsmState(FS, '/output/in/gone.nc')).toBeUndefined();
    expect(h.fsx.hsmState(FS, '/output/in/keep.nc')).toBeDefined();
  });

  it('fails an import task given a file system path instead of an S3 path', async () => {
    const done = await ended(
      (await createTask({ Type: 'IMPORT_METADATA_FROM_REPOSITORY', Paths: ['output'] })).TaskId,
    );

    expect(done.Lifecycle).toBe('FAILED');
    expect(done.FailureDetails?.Message).toContain('s3://');
  });

  it('writes the import report as report.csv', async () => {
    h.s3.put(BUCKET, 'output/in/a.nc', 'A');
    h.fsx.setFaults({
      taskFileFailures: [{ match: 'a.nc', errorCode: 'S3Error', types: ['IMPORT_METADATA_FROM_REPOSITORY'] }],
    });

    const done = await ended(
      (await createTask({ Type: 'IMPORT_METADATA_FROM_REPOSITORY', Report: REPORT })).TaskId,
    );

    expect(done.Lifecycle).toBe('FAILED');
    expect(h.s3.get(BUCKET, `output/reports/${done.TaskId}/report.csv`)).toBe(
      'output/in/a.nc,failed,S3Error\n',
    );
  });

  it('runs an import task after creating a DRA with BatchImportMetaDataOnCreate, visible and exclusive', async () => {
    h.s3.put(BUCKET, 'inputs/a.nc', 'AAA');
    h.fsx.setFaults({ taskFileDelayMs: 50_000 });
    const out = await call<{ Association: { AssociationId: string } }>(
      h.fsx,
      'CreateDataRepositoryAssociation',
      {
        FileSystemId: FS,
        FileSystemPath: '/inputs',
        DataRepositoryPath: `s3://${BUCKET}/inputs`,
        BatchImportMetaDataOnCreate: true,
      },
    );

    const batch = await waitFor(async () => {
      const tasks = await call<{ DataRepositoryTasks: TaskDescription[] }>(
        h.fsx,
        'DescribeDataRepositoryTasks',
        {
          Filters: [{ Name: 'data-repository-association-id', Values: [out.Association.AssociationId] }],
        },
      );
      return tasks.DataRepositoryTasks[0];
    });
    const blocked = await failure(createTask({ Type: 'EXPORT_TO_REPOSITORY' }));
    const done = await ended(batch.TaskId);

    expect(batch).toMatchObject({
      Type: 'IMPORT_METADATA_FROM_REPOSITORY',
      Paths: [`s3://${BUCKET}/inputs`],
    });
    expect(blocked.code).toBe('DataRepositoryTaskExecuting');
    expect(done.Lifecycle).toBe('SUCCEEDED');
    expect(statSync(join(root, 'inputs/a.nc')).size).toBe(3);
  });
});

describe('RELEASE_DATA_FROM_FILESYSTEM', () => {
  it('drops the contents of exported files only, keeping their size; reads restore them', async () => {
    write('output/new.nc', 'not exported');
    await ended((await createTask({ Type: 'EXPORT_TO_REPOSITORY', Paths: ['output/run1'] })).TaskId);

    const done = await ended(
      (await createTask({ Type: 'RELEASE_DATA_FROM_FILESYSTEM', Paths: ['/'] })).TaskId,
    );
    const released = readFileSync(join(root, 'output/run1/b.nc'));
    const read = await h.fsx.access(FS, '/output/run1/b.nc');

    expect(done.Status).toMatchObject({ TotalCount: 2, SucceededCount: 2 });
    expect(released.length).toBe(8);
    expect(released.equals(Buffer.alloc(8))).toBe(true);
    expect(readFileSync(join(root, 'output/new.nc'), 'utf8')).toBe('not exported');
    expect(read).toMatchObject({ restored: true, size: 8 });
    expect(read.contents.toString()).toBe('BBBBBBBB');
  });

  it('releases only files not accessed for DurationSinceLastAccess days', async () => {
    await ended((await createTask({ Type: 'EXPORT_TO_REPOSITORY' })).TaskId);

    const done = await ended(
      (
        await createTask({
          Type: 'RELEASE_DATA_FROM_FILESYSTEM',
          ReleaseConfiguration: { DurationSinceLastAccess: { Unit: 'DAYS', Value: 1 } },
        })
      ).TaskId,
    );

    expect(done.Status).toMatchObject({ TotalCount: 0 });
    expect(readFileSync(join(root, 'output/run1/a.nc'), 'utf8')).toBe('AAAA');
  });
});
