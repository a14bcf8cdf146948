/**
 * The seed runbook's "Import and Export Semantics of DRA" on the emulator: one test per row of its
 * "Behavior summary" table, plus the automatic import/export details behind them.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventType } from '../../../local/fsx/store.js';
import { call, type Harness, harness, waitFor } from './fsx-helpers.js';

const FS = 'fs-0123456789abcdef0';
const BUCKET = 'dzhang-imi-gchp-test';

let h: Harness;
let root: string;

const write = (fsPath: string, contents: string) => {
  const path = join(root, fsPath);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, contents);
};

async function association(
  fsPath: string,
  s3: { import?: EventType[]; export?: EventType[] },
  batchImport = false,
): Promise<string> {
  const out = await call<{ Association: { AssociationId: string } }>(
    h.fsx,
    'CreateDataRepositoryAssociation',
    {
      FileSystemId: FS,
      FileSystemPath: fsPath,
      DataRepositoryPath: `s3://${BUCKET}${fsPath}`,
      BatchImportMetaDataOnCreate: batchImport,
      S3: {
        ...(s3.import ? { AutoImportPolicy: { Events: s3.import } } : {}),
        ...(s3.export ? { AutoExportPolicy: { Events: s3.export } } : {}),
      },
    },
  );
  const id = out.Association.AssociationId;
  await waitFor(async () => {
    const d = await call<{ Associations: Array<{ Lifecycle: string }> }>(
      h.fsx,
      'DescribeDataRepositoryAssociations',
      { AssociationIds: [id] },
    );
    return d.Associations[0]?.Lifecycle === 'AVAILABLE';
  });
  await h.fsx.whenIdle();
  return id;
}

/** Runs monitor passes for longer than the auto-export delay, so anything due has been exported. */
async function settleAutoExport(): Promise<void> {
  for (let i = 0; i < 4; i += 1) {
    await h.fsx.tick();
    await new Promise((r) => setTimeout(r, h.clock.scale(h.fsx.timings.autoExportDelayMs) + 5));
  }
  await h.fsx.tick();
}

/** Waits for pending auto-import work (events are applied after autoImportDelayMs). */
async function settleAutoImport(): Promise<void> {
  await new Promise((r) => setTimeout(r, 1));
  await h.fsx.whenIdle();
}

beforeEach(() => {
  h = harness({ fileSystems: [{ id: FS }] });
  h.s3.createBucket(BUCKET);
  root = h.fsx.fileSystemRoot(FS);
});

afterEach(async () => {
  await h.close();
});

describe('Behavior summary (seed)', () => {
  it('FSx -> S3 (existing files): not exported automatically; a one-time export task is required', async () => {
    write('output/existing.nc', 'before the DRA');
    await association('/output', { export: ['NEW', 'CHANGED', 'DELETED'] });

    await settleAutoExport();
    const afterAutoExport = h.s3.get(BUCKET, 'output/existing.nc');
    const task = await call<{ DataRepositoryTask: { TaskId: string } }>(h.fsx, 'CreateDataRepositoryTask', {
      FileSystemId: FS,
      Type: 'EXPORT_TO_REPOSITORY',
      Paths: ['output'],
      Report: { Enabled: false },
    });
    await waitFor(() => h.s3.get(BUCKET, 'output/existing.nc'));

    expect(afterAutoExport).toBeUndefined();
    expect(task.DataRepositoryTask.TaskId).toMatch(/^task-/);
    expect(h.s3.get(BUCKET, 'output/existing.nc')).toBe('before the DRA');
  });

  it('FSx -> S3 (new or modified files): exported automatically, full data, asynchronously', async () => {
    await association('/output', { export: ['NEW', 'CHANGED', 'DELETED'] });

    write('output/run/new.nc', 'full contents of a new file');
    await h.fsx.tick();
    const rightAfterWrite = h.s3.get(BUCKET, 'output/run/new.nc');
    await settleAutoExport();
    const exported = h.s3.get(BUCKET, 'output/run/new.nc');
    write('output/run/new.nc', 'modified contents');
    await settleAutoExport();

    expect(rightAfterWrite).toBeUndefined();
    expect(exported).toBe('full contents of a new file');
    expect(h.s3.get(BUCKET, 'output/run/new.nc')).toBe('modified contents');
  });

  it('FSx file deletion: no effect on S3 (import-only DRA and auto-export without DELETED)', async () => {
    h.s3.put(BUCKET, 'ExtData/a.nc', 'A');
    await association('/ExtData', { import: ['NEW', 'CHANGED', 'DELETED'] }, true);
    await association('/output', { export: ['NEW', 'CHANGED'] });
    write('output/b.nc', 'B');
    await settleAutoExport();

    rmSync(join(root, 'ExtData/a.nc'));
    rmSync(join(root, 'output/b.nc'));
    await settleAutoExport();

    expect(h.s3.get(BUCKET, 'ExtData/a.nc')).toBe('A');
    expect(h.s3.get(BUCKET, 'output/b.nc')).toBe('B');
  });

  it('S3 -> FSx (any file): imported on access; metadata and data are lazy', async () => {
    h.s3.put(BUCKET, 'ExtData/before.nc', 'created before the DRA');
    await association('/ExtData', { import: ['NEW', 'CHANGED', 'DELETED'] }, true);
    h.s3.put(BUCKET, 'ExtData/after.nc', 'created after the DRA');
    await settleAutoImport();

    const before = h.fsx.hsmState(FS, '/ExtData/before.nc');
    const after = h.fsx.hsmState(FS, '/ExtData/after.nc');
    const onDiskBefore = readFileSync(join(root, 'ExtData/before.nc'));
    const read = await h.fsx.access(FS, '/ExtData/after.nc');

    expect(before).toMatchObject({ size: 22, contentsPresent: false });
    expect(after).toMatchObject({ size: 21, contentsPresent: false });
    expect(onDiskBefore.equals(Buffer.alloc(22))).toBe(true);
    expect(read.contents.toString()).toBe('created after the DRA');
    expect(h.fsx.hsmState(FS, '/ExtData/after.nc')?.contentsPresent).toBe(true);
    expect(h.fsx.hsmState(FS, '/ExtData/before.nc')?.contentsPresent).toBe(false);
  });

  it('Auto-import policy: enables access-triggered import, no proactive copying', async () => {
    await association('/ExtData', { import: ['NEW', 'CHANGED', 'DELETED'] });
    await association('/static', {});

    h.s3.put(BUCKET, 'ExtData/new.nc', 'NEW OBJECT');
    h.s3.put(BUCKET, 'static/new.nc', 'NOT WATCHED');
    await settleAutoImport();

    expect(h.fsx.hsmState(FS, '/ExtData/new.nc')).toMatchObject({ size: 10, contentsPresent: false });
    expect(readFileSync(join(root, 'ExtData/new.nc')).equals(Buffer.alloc(10))).toBe(true);
    expect(existsSync(join(root, 'static/new.nc'))).toBe(false);
  });
});

describe('automatic import', () => {
  it('CHANGED updates metadata and invalidates restored contents; DELETED removes the file', async () => {
    h.s3.put(BUCKET, 'ExtData/a.nc', 'v1');
    await association('/ExtData', { import: ['NEW', 'CHANGED', 'DELETED'] }, true);
    await h.fsx.restore(FS, '/ExtData/a.nc');

    h.s3.put(BUCKET, 'ExtData/a.nc', 'version 2');
    await settleAutoImport();
    const changed = h.fsx.hsmState(FS, '/ExtData/a.nc');
    const read = await h.fsx.access(FS, '/ExtData/a.nc');
    h.s3.remove(BUCKET, 'ExtData/a.nc');
    await settleAutoImport();

    expect(changed).toMatchObject({ size: 9, contentsPresent: false });
    expect(read.contents.toString()).toBe('version 2');
    expect(existsSync(join(root, 'ExtData/a.nc'))).toBe(false);
  });

  it('follows only the events in the policy', async () => {
    h.s3.put(BUCKET, 'ExtData/a.nc', 'v1');
    await association('/ExtData', { import: ['NEW'] }, true);

    h.s3.put(BUCKET, 'ExtData/a.nc', 'version 2');
    h.s3.remove(BUCKET, 'ExtData/a.nc');
    await settleAutoImport();

    expect(statSync(join(root, 'ExtData/a.nc')).size).toBe(2);
  });

  it('stops while the DRA is MISCONFIGURED', async () => {
    const id = await association('/ExtData', { import: ['NEW'] });
    h.fsx.forceAssociationState(id, 'MISCONFIGURED');

    h.s3.put(BUCKET, 'ExtData/late.nc', 'L');
    await settleAutoImport();

    expect(existsSync(join(root, 'ExtData/late.nc'))).toBe(false);
  });

  it('does not import back what automatic export wrote, and keeps exported contents', async () => {
    await association('/output', { import: ['NEW', 'CHANGED', 'DELETED'], export: ['NEW', 'CHANGED'] });

    write('output/result.nc', 'RESULT');
    await settleAutoExport();
    await settleAutoImport();

    expect(h.s3.get(BUCKET, 'output/result.nc')).toBe('RESULT');
    expect(readFileSync(join(root, 'output/result.nc'), 'utf8')).toBe('RESULT');
    expect(h.fsx.hsmState(FS, '/output/result.nc')?.flags).toEqual(['exists', 'archived']);
  });
});

describe('automatic export', () => {
  it('with DELETED in the policy deletes the S3 object, as AWS does (outside the seed table)', async () => {
    await association('/output', { export: ['NEW', 'CHANGED', 'DELETED'] });
    write('output/tmp.nc', 'T');
    await settleAutoExport();

    rmSync(join(root, 'output/tmp.nc'));
    await settleAutoExport();

    expect(h.s3.keys(BUCKET)).not.toContain('output/tmp.nc');
  });

  it('starts covering pre-existing files only when they change after the policy is enabled by an update', async () => {
    write('output/old.nc', 'old');
    const id = await association('/output', {});
    await call(h.fsx, 'UpdateDataRepositoryAssociation', {
      AssociationId: id,
      S3: { AutoExportPolicy: { Events: ['NEW', 'CHANGED'] } },
    });
    await waitFor(async () => {
      const d = await call<{ Associations: Array<{ Lifecycle: string }> }>(
        h.fsx,
        'DescribeDataRepositoryAssociations',
        { AssociationIds: [id] },
      );
      return d.Associations[0]?.Lifecycle === 'AVAILABLE';
    });

    await settleAutoExport();
    const untouched = h.s3.get(BUCKET, 'output/old.nc');
    write('output/old.nc', 'old, edited');
    await settleAutoExport();

    expect(untouched).toBeUndefined();
    expect(h.s3.get(BUCKET, 'output/old.nc')).toBe('old, edited');
  });

  it('and export tasks exclude each other (DataRepositoryTaskExecuting while changes wait to be exported)', async () => {
    h.fsx.setTimings({ autoExportDelayMs: 10_000_000 });
    await association('/output', { export: ['NEW'] });
    write('output/pending.nc', 'P');
    await h.fsx.tick();

    const error = await call(h.fsx, 'CreateDataRepositoryTask', {
      FileSystemId: FS,
      Type: 'EXPORT_TO_REPOSITORY',
      Report: { Enabled: false },
    }).catch((e: { code: string; message: string }) => e);

    expect(error).toMatchObject({
      code: 'DataRepositoryTaskExecuting',
      message: expect.stringContaining('Automatic export'),
    });
  });
});

describe('HSM state', () => {
  it('reports new, exported, modified and released files as lfs hsm_state does', async () => {
    write('output/x.nc', 'X');
    await association('/output', {});
    const fresh = h.fsx.hsmState(FS, '/output/x.nc')?.lfs;
    const task = await call<{ DataRepositoryTask: { TaskId: string } }>(h.fsx, 'CreateDataRepositoryTask', {
      FileSystemId: FS,
      Type: 'EXPORT_TO_REPOSITORY',
      Report: { Enabled: false },
    });
    await waitFor(() => h.fsx.hsmState(FS, '/output/x.nc')?.flags.includes('archived'));
    const exported = h.fsx.hsmState(FS, '/output/x.nc')?.lfs;
    write('output/x.nc', 'XX');

    expect(task.DataRepositoryTask.TaskId).toBeTruthy();
    expect(fresh).toBe('(0x00000000)');
    expect(exported).toBe('(0x00000009) exists archived, archive_id:1');
    expect(h.fsx.hsmState(FS, '/output/x.nc')?.lfs).toBe('(0x0000000b) exists dirty archived, archive_id:1');
    expect(h.fsx.hsmStates(FS, '/output').map((s) => s.path)).toEqual(['/output/x.nc']);
  });
});

describe('restore', () => {
  it('fails clearly when the linked bucket cannot be reached, and leaves the file released', async () => {
    h.s3.put(BUCKET, 'ExtData/a.nc', 'A');
    await association('/ExtData', {}, true);
    h.fsx.setBucket(BUCKET, { unreachable: true });

    const error = await h.fsx.restore(FS, '/ExtData/a.nc').catch((e: { code: string; message: string }) => e);

    expect(error).toMatchObject({ code: 'RestoreFailed', message: expect.stringContaining(BUCKET) });
    expect(h.fsx.hsmState(FS, '/ExtData/a.nc')?.contentsPresent).toBe(false);
  });

  it('answers NotFound for a path that does not exist', async () => {
    const error = await h.fsx.restore(FS, '/nowhere').catch((e: { code: string; status: number }) => e);

    expect(error).toMatchObject({ code: 'NotFound', status: 404 });
  });
});
