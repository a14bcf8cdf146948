import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AdminRegistry, fsxAdminRoutes, registerFsxAdmin } from '../../../local/fsx/admin.js';
import type { LocalRouter } from '../../../local/server.js';
import { call, type Harness, harness, waitFor } from './fsx-helpers.js';

const FS = 'fs-0123456789abcdef0';
const BUCKET = 'admin-bucket';

let h: Harness;
let route: ReturnType<typeof fsxAdminRoutes>;

beforeEach(async () => {
  h = harness({ fileSystems: [{ id: FS }] });
  h.s3.createBucket(BUCKET);
  route = fsxAdminRoutes(h.fsx);
});

afterEach(async () => {
  await h.close();
});

async function admin(request: Parameters<typeof route>[0]) {
  const response = await route(request);
  if (!response) throw new Error(`no FSx admin route for ${request.path}`);
  return response;
}

async function draAvailable(path = '/ExtData'): Promise<string> {
  const out = await call<{ Association: { AssociationId: string } }>(
    h.fsx,
    'CreateDataRepositoryAssociation',
    {
      FileSystemId: FS,
      FileSystemPath: path,
      DataRepositoryPath: `s3://${BUCKET}${path}`,
      BatchImportMetaDataOnCreate: true,
    },
  );
  const id = out.Association.AssociationId;
  await waitFor(() => h.fsx.snapshot().associations[0]?.Lifecycle === 'AVAILABLE');
  await h.fsx.whenIdle();
  return id;
}

describe('FSx admin endpoints', () => {
  it('creates a file system and lists it with its root directory', async () => {
    const created = await admin({
      method: 'POST',
      path: '/_local/fsx/file-systems',
      body: { deploymentType: 'SCRATCH_2', fileSystemTypeVersion: '2.12' },
    });
    const id = (created.body as { FileSystemId: string }).FileSystemId;

    const listed = await admin({ method: 'GET', path: '/_local/fsx/file-systems' });
    const one = await admin({ method: 'GET', path: `/_local/fsx/file-systems/${id}` });

    expect(created.status).toBe(201);
    expect(
      (listed.body as { FileSystems: Array<{ FileSystemId: string; root: string }> }).FileSystems.map(
        (f) => f.FileSystemId,
      ),
    ).toEqual([FS, id]);
    expect(one.body).toMatchObject({
      FileSystem: { LustreConfiguration: { DeploymentType: 'SCRATCH_2' } },
      root: expect.stringContaining(id),
    });
    expect(existsSync((one.body as { root: string }).root)).toBe(true);
  });

  it('restores, reads and reports HSM state of lazily imported files', async () => {
    h.s3.put(BUCKET, 'ExtData/a.nc', 'AAAA');
    await draAvailable();

    const before = await admin({
      method: 'GET',
      path: `/_local/fsx/file-systems/${FS}/hsm`,
      query: new URLSearchParams({ path: '/ExtData' }),
    });
    const restored = await admin({
      method: 'POST',
      path: `/_local/fsx/file-systems/${FS}/restore`,
      body: { path: '/ExtData' },
    });
    const read = await admin({
      method: 'POST',
      path: `/_local/fsx/file-systems/${FS}/access`,
      body: { path: '/ExtData/a.nc' },
    });

    expect(before.body).toEqual({
      files: [
        {
          path: '/ExtData/a.nc',
          bits: 13,
          flags: ['released', 'exists', 'archived'],
          contentsPresent: false,
          size: 4,
          lfs: '(0x0000000d) released exists archived, archive_id:1',
        },
      ],
    });
    expect(restored.body).toEqual({
      results: [{ path: '/ExtData', restored: ['/ExtData/a.nc'], bytes: 4 }],
    });
    expect(read.body).toMatchObject({
      path: '/ExtData/a.nc',
      size: 4,
      restored: false,
      contents: 'AAAA',
      encoding: 'utf8',
    });
  });

  it('forces DRA states and bucket reachability', async () => {
    const id = await draAvailable();

    const forced = await admin({
      method: 'POST',
      path: `/_local/fsx/associations/${id}/state`,
      body: { Lifecycle: 'FAILED', Message: 'bucket deleted' },
    });
    const wrong = await admin({
      method: 'POST',
      path: `/_local/fsx/associations/${id}/state`,
      body: { Lifecycle: 'CREATING' },
    });
    const bucket = await admin({
      method: 'POST',
      path: `/_local/fsx/buckets/${BUCKET}`,
      body: { unreachable: true },
    });

    expect(forced.body).toMatchObject({
      Association: { Lifecycle: 'FAILED', FailureDetails: { Message: 'bucket deleted' } },
    });
    expect(wrong.status).toBe(400);
    expect(bucket.body).toEqual({ bucket: BUCKET, settings: { unreachable: true } });
  });

  it('sets faults and timings, and answers 404 for unknown resources and endpoints', async () => {
    const faults = await admin({ method: 'POST', path: '/_local/fsx/faults', body: { taskFileDelayMs: 5 } });
    const timings = await admin({ method: 'POST', path: '/_local/fsx/timings', body: { taskStartMs: 1 } });
    const missingFs = await admin({ method: 'GET', path: '/_local/fsx/file-systems/fs-99999999999999999' });
    const missingFile = await admin({
      method: 'POST',
      path: `/_local/fsx/file-systems/${FS}/access`,
      body: { path: '/nope' },
    });
    const unknown = await admin({ method: 'GET', path: '/_local/fsx/teapot' });
    const other = await route({ method: 'GET', path: '/_local/ec2/instances' });

    expect(faults.body).toEqual({ taskFileDelayMs: 5 });
    expect((timings.body as { taskStartMs: number }).taskStartMs).toBe(1);
    expect(missingFs.status).toBe(404);
    expect(missingFile.status).toBe(404);
    expect(unknown.status).toBe(404);
    expect(other).toBeUndefined();
  });

  it('feeds S3 events to automatic import', async () => {
    const out = await call<{ Association: { AssociationId: string } }>(
      h.fsx,
      'CreateDataRepositoryAssociation',
      {
        FileSystemId: FS,
        FileSystemPath: '/in',
        DataRepositoryPath: `s3://${BUCKET}/in`,
        S3: { AutoImportPolicy: { Events: ['NEW'] } },
      },
    );
    await waitFor(
      () =>
        h.fsx.snapshot().associations.find((a) => a.AssociationId === out.Association.AssociationId)
          ?.Lifecycle === 'AVAILABLE',
    );
    h.s3.onEvent = () => {}; // deliver the event through the admin endpoint instead
    h.s3.put(BUCKET, 'in/x.nc', 'X');

    await admin({
      method: 'POST',
      path: '/_local/fsx/s3-events',
      body: {
        Records: [
          { eventName: 'ObjectCreated:Put', s3: { bucket: { name: BUCKET }, object: { key: 'in/x.nc' } } },
        ],
      },
    });
    await h.fsx.whenIdle();

    expect(h.fsx.hsmState(FS, '/in/x.nc')).toMatchObject({ size: 1, contentsPresent: false });
  });

  it('registers every endpoint on the local router with a description', async () => {
    const routes: Parameters<AdminRegistry['admin']>[0][] = [];
    const registry: AdminRegistry = { admin: (r) => routes.push(r) };
    const router: AdminRegistry = {} as LocalRouter; // the local router satisfies the registry
    writeFileSync(join(h.fsx.fileSystemRoot(FS), 'x'), 'x');

    registerFsxAdmin(registry, h.fsx);
    const hsm = routes.find((r) => r.method === 'GET' && String(r.path).includes('hsm'));
    const result = await hsm?.handler({
      method: 'GET',
      path: `/fsx/file-systems/${FS}/hsm`,
      query: new URLSearchParams(),
      body: undefined,
    });
    const state = routes.find((r) => r.path === '/fsx/state');

    expect(router).toBeDefined();
    expect(routes.every((r) => r.description?.startsWith('FSx:'))).toBe(true);
    expect(result).toEqual({ files: [expect.objectContaining({ path: '/x', lfs: '(0x00000000)' })] });
    expect(
      await state?.handler({
        method: 'GET',
        path: '/fsx/state',
        query: new URLSearchParams(),
        body: undefined,
      }),
    ).toHaveProperty('fileSystems');
  });
});
