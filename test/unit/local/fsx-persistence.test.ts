import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { call, type Harness, harness, waitFor } from './fsx-helpers.js';

const FS = 'fs-0123456789abcdef0';
const BUCKET = 'persist-bucket';

let h: Harness;

beforeEach(() => {
  h = harness({ fileSystems: [{ id: FS }] });
  h.s3.createBucket(BUCKET);
});

afterEach(async () => {
  await h.close();
});

describe('FSx emulator persistence', () => {
  it('keeps file systems, DRAs, tasks, tokens and HSM states across a restart', async () => {
    const created = await h.fsx.createFileSystem({
      deploymentType: 'PERSISTENT_1',
      fileSystemTypeVersion: '2.12',
    });
    h.s3.put(BUCKET, 'in/a.nc', 'AAA');
    const dra = await call<{ Association: { AssociationId: string } }>(
      h.fsx,
      'CreateDataRepositoryAssociation',
      {
        FileSystemId: FS,
        FileSystemPath: '/in',
        DataRepositoryPath: `s3://${BUCKET}/in`,
        BatchImportMetaDataOnCreate: true,
        ClientRequestToken: 'persisted-token',
      },
    );
    await waitFor(() => h.fsx.hsmState(FS, '/in/a.nc'));
    await h.fsx.whenIdle();

    const fsx = await h.restart();
    const systems = await call<{ FileSystems: Array<{ FileSystemId: string }> }>(fsx, 'DescribeFileSystems');
    const again = await call<{ Association: { AssociationId: string; Lifecycle: string } }>(
      fsx,
      'CreateDataRepositoryAssociation',
      {
        FileSystemId: FS,
        FileSystemPath: '/in',
        DataRepositoryPath: `s3://${BUCKET}/in`,
        BatchImportMetaDataOnCreate: true,
        ClientRequestToken: 'persisted-token',
      },
    );
    const tasks = await call<{ DataRepositoryTasks: Array<{ Lifecycle: string }> }>(
      fsx,
      'DescribeDataRepositoryTasks',
    );

    expect(systems.FileSystems.map((f) => f.FileSystemId)).toEqual([FS, created.FileSystemId]);
    expect(again.Association).toMatchObject({
      AssociationId: dra.Association.AssociationId,
      Lifecycle: 'AVAILABLE',
    });
    expect(tasks.DataRepositoryTasks.map((t) => t.Lifecycle)).toEqual(['SUCCEEDED']);
    expect(fsx.hsmState(FS, '/in/a.nc')).toMatchObject({ contentsPresent: false, size: 3 });
  });

  it('finishes a DRA creation and a task that were in flight when the local cloud stopped', async () => {
    const dra = await call<{ Association: { AssociationId: string } }>(
      h.fsx,
      'CreateDataRepositoryAssociation',
      {
        FileSystemId: FS,
        FileSystemPath: '/out',
        DataRepositoryPath: `s3://${BUCKET}/out`,
      },
    );

    const fsx = await h.restart();
    await waitFor(() => fsx.snapshot().associations[0]?.Lifecycle === 'AVAILABLE');
    mkdirSync(join(fsx.fileSystemRoot(FS), 'out'), { recursive: true });
    writeFileSync(join(fsx.fileSystemRoot(FS), 'out/r.nc'), 'R');
    fsx.setFaults({ taskFileDelayMs: 100_000 });
    const task = await call<{ DataRepositoryTask: { TaskId: string } }>(fsx, 'CreateDataRepositoryTask', {
      FileSystemId: FS,
      Type: 'EXPORT_TO_REPOSITORY',
      Report: { Enabled: false },
    });
    await waitFor(() => fsx.snapshot().tasks[0]?.Lifecycle === 'EXECUTING');
    const resumed = await h.restart({ faults: {} });
    const done = await waitFor(() =>
      resumed
        .snapshot()
        .tasks.find((t) => t.TaskId === task.DataRepositoryTask.TaskId && t.Lifecycle === 'SUCCEEDED'),
    );

    expect(dra.Association.AssociationId).toMatch(/^dra-/);
    expect(done.Status?.SucceededCount).toBe(1);
    expect(h.s3.get(BUCKET, 'out/r.nc')).toBe('R');
  });
});
