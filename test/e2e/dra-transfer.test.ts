/**
 * DRA transfers on the local cloud through the real transfer state machine, and the seed's DRA
 * semantics as a user sees them: one association however often a request runs, lazy imports
 * (metadata first, contents on access or preload), export of files that predate the association,
 * failed files named from the completion report, and deletions on FSx never reaching S3.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { getS3 } from '../../shared/aws/clients.js';
import {
  associationsOf,
  BUCKET,
  draConfig,
  FS_ID,
  type MappingYaml,
  putObjects,
  startLustreClient,
  useConfig,
} from './dra-helpers.js';
import { runTransfer, startWorld, type World } from './ec2-helpers.js';

let world: World;

const MAPPINGS: MappingYaml[] = [
  { name: 'inputs', fsxPath: '/inputs', s3Uri: `s3://${BUCKET}/inputs`, extra: ['method: dra'] },
  { name: 'output', fsxPath: '/output', s3Uri: `s3://${BUCKET}/output`, extra: ['method: dra'] },
  { name: 'reports', fsxPath: '/reports', s3Uri: `s3://${BUCKET}/reports`, extra: ['method: dra'] },
  {
    name: 'live',
    fsxPath: '/live',
    s3Uri: `s3://${BUCKET}/live`,
    extra: ['method: dra', 'autoExport: true'],
  },
];

beforeAll(async () => {
  world = await startWorld({ config: draConfig([{ id: FS_ID }], MAPPINGS) });
}, 60_000);

afterAll(async () => {
  await world?.stop();
});

afterEach(() => {
  world.cloud.fsx.setFaults({});
  useConfig(world, draConfig([{ id: FS_ID }], MAPPINGS));
});

/** Writes files on the file system (as a model run on a Lustre client would). */
function writeOnFsx(files: Record<string, string>): void {
  const root = world.cloud.fsx.fileSystemRoot(FS_ID);
  for (const [path, body] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), body);
  }
}

async function s3Text(key: string): Promise<string | undefined> {
  try {
    const out = await getS3().send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    return await out.Body!.transformToString();
  } catch {
    return undefined;
  }
}

describe('DRA stage-in', () => {
  it('creates one association for the same request run twice, and the second run imports its scope again', async () => {
    await putObjects({ 'inputs/GEOS/a.nc': 'a'.repeat(100), 'inputs/b.nc': 'bb' });

    const first = await runTransfer(world, { mapping: 'inputs', direction: 'stage-in' });
    const second = await runTransfer(world, { mapping: 'inputs', direction: 'stage-in' });

    expect(first).toMatchObject({
      status: 'SUCCEEDED',
      output: { method: 'dra', files: 2, bytes: 102, verified: true },
    });
    expect(first.output!.details).toMatchObject({ associationCreated: true, task: { ran: true, failed: 0 } });
    expect(second.status).toBe('SUCCEEDED');
    expect(second.output!.details).toMatchObject({
      associationCreated: false,
      task: { ran: true, failed: 0, reason: expect.stringContaining('auto-import') },
    });
    const inputs = (await associationsOf(FS_ID)).filter(
      (a) => a.FileSystemPath?.replace(/\/$/, '') === '/inputs',
    );
    expect(inputs).toHaveLength(1);
    expect(inputs[0]!.S3).toEqual({ AutoImportPolicy: { Events: ['NEW', 'CHANGED', 'DELETED'] } });
    expect(
      world.cloud.fsx
        .hsmStates(FS_ID, '/inputs')
        .filter((s) => ['/inputs/GEOS/a.nc', '/inputs/b.nc'].includes(s.path))
        .map((s) => [s.path, s.size]),
    ).toEqual([
      ['/inputs/GEOS/a.nc', 100],
      ['/inputs/b.nc', 2],
    ]);
  });

  it('imports metadata only: contents are fetched on first access', async () => {
    await putObjects({ 'inputs/lazy/c.nc': 'contents of c' });
    const run = await runTransfer(world, {
      mapping: 'inputs',
      direction: 'stage-in',
      subPath: 'lazy',
      method: 'dra',
    });
    expect(run.status, run.cause).toBe('SUCCEEDED');

    const before = world.cloud.fsx.hsmState(FS_ID, '/inputs/lazy/c.nc');
    const read = await world.cloud.fsx.access(FS_ID, '/inputs/lazy/c.nc');
    const after = world.cloud.fsx.hsmState(FS_ID, '/inputs/lazy/c.nc');

    expect(before).toMatchObject({ size: 13, contentsPresent: false });
    expect(before!.flags).toContain('released');
    expect(read).toMatchObject({ restored: true, contents: Buffer.from('contents of c') });
    expect(after).toMatchObject({ contentsPresent: true });
  });

  it('verifies names and sizes on a Lustre client and preloads the contents with lfs hsm_restore', async () => {
    const clientId = await startLustreClient(world, FS_ID);
    useConfig(
      world,
      draConfig(
        [{ id: FS_ID, lustreClientInstanceId: clientId }],
        [
          {
            name: 'preloaded',
            fsxPath: '/preloaded',
            s3Uri: `s3://${BUCKET}/preloaded`,
            extra: ['method: dra', 'preload: true'],
          },
        ],
      ),
    );
    await putObjects({ 'preloaded/x/1.nc': 'one', 'preloaded/2.nc': 'second file' });

    const run = await runTransfer(world, { mapping: 'preloaded', direction: 'stage-in' }, 120_000);

    expect(run, run.cause).toMatchObject({ status: 'SUCCEEDED' });
    expect(run.states).toEqual(
      expect.arrayContaining(['WaitForFileListing', 'StartPreload', 'WaitForPreload']),
    );
    expect(run.output).toMatchObject({ verified: true, details: { preload: { status: 'Success' } } });
    expect(run.output!.details.checks).toEqual(
      expect.arrayContaining([expect.stringContaining('file system listing (2 files')]),
    );
    const states = world.cloud.fsx.hsmStates(FS_ID, '/preloaded');
    expect(states.map((s) => [s.path, s.contentsPresent])).toEqual([
      ['/preloaded/2.nc', true],
      ['/preloaded/x/1.nc', true],
    ]);
    expect(readFileSync(join(world.cloud.fsx.fileSystemRoot(FS_ID), 'preloaded/2.nc'), 'utf8')).toBe(
      'second file',
    );
  }, 150_000);
});

describe('DRA export', () => {
  it('exports files that existed on FSx before the association', async () => {
    writeOnFsx({ 'output/run1/result.nc': 'model output', 'output/log.txt': 'log' });
    expect(
      await associationsOf(FS_ID).then((l) => l.some((a) => a.FileSystemPath?.startsWith('/output'))),
    ).toBe(false);

    const run = await runTransfer(world, { mapping: 'output', direction: 'export' });

    expect(run).toMatchObject({ status: 'SUCCEEDED', output: { method: 'dra', files: 2, verified: true } });
    expect(await s3Text('output/run1/result.nc')).toBe('model output');
    expect(await s3Text('output/log.txt')).toBe('log');
  });

  it('never deletes in S3 what is deleted on FSx (export task, and auto-export)', async () => {
    writeOnFsx({ 'live/keep.nc': 'keep me', 'live/gone.nc': 'delete me on fsx' });
    const first = await runTransfer(world, { mapping: 'live', direction: 'export' });
    expect(first.status).toBe('SUCCEEDED');
    expect(await s3Text('live/gone.nc')).toBe('delete me on fsx');

    rmSync(join(world.cloud.fsx.fileSystemRoot(FS_ID), 'live/gone.nc'));
    writeOnFsx({ 'live/new.nc': 'written after the association' });
    await world.cloud.fsx.tick();
    const second = await runTransfer(world, { mapping: 'live', direction: 'export' });

    expect(second.status).toBe('SUCCEEDED');
    expect(await s3Text('live/gone.nc')).toBe('delete me on fsx');
    expect(await s3Text('live/new.nc')).toBe('written after the association');
    const head = await getS3().send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'live/keep.nc' }));
    expect(head.ContentLength).toBe(7);
  });

  it('fails a stage-in whose import task reports failed files (report.csv), naming them', async () => {
    await putObjects({ 'reports/in/ok.nc': 'fine', 'reports/in/broken.nc': 'cannot import' });
    world.cloud.fsx.setFaults({
      taskFileFailures: [
        { match: 'broken', errorCode: 'S3AccessDenied', types: ['IMPORT_METADATA_FROM_REPOSITORY'] },
      ],
    });

    const run = await runTransfer(world, { mapping: 'reports', direction: 'stage-in' });

    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('DataRepositoryTaskFailedError');
    expect(run.cause).toContain('reports/in/broken.nc (S3AccessDenied)');
    expect(run.cause).toContain('report.csv');
  });

  it('fails the run when the completion report lists failed files, naming them and the count', async () => {
    writeOnFsx({
      'reports/ok.nc': 'fine',
      'reports/broken.nc': 'cannot upload',
      'reports/sub/broken-too.nc': 'x',
    });
    world.cloud.fsx.setFaults({
      taskFileFailures: [{ match: 'broken', errorCode: 'S3AccessDenied', types: ['EXPORT_TO_REPOSITORY'] }],
    });

    const run = await runTransfer(world, { mapping: 'reports', direction: 'export' });

    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('DataRepositoryTaskFailedError');
    expect(run.cause).toContain('2 file(s) failed');
    expect(run.cause).toContain('reports/broken.nc (S3AccessDenied)');
    expect(run.cause).toContain('reports/sub/broken-too.nc (S3AccessDenied)');
    expect(run.states).not.toContain('VerifyDraTransfer');
  });
});
