/**
 * FSx on the local cloud, over the wire: the real `@aws-sdk/client-fsx` and the AWS CLI against
 * `startLocalCloud`, with the seed runbook's own `aws fsx` commands (plus `--endpoint-url`), the
 * seed's DRA semantics table through S3 and the admin API, pagination and AWS-shaped errors.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import {
  CreateDataRepositoryAssociationCommand,
  CreateDataRepositoryTaskCommand,
  type DataRepositoryAssociation,
  type DataRepositoryTask,
  DescribeDataRepositoryAssociationsCommand,
  DescribeDataRepositoryTasksCommand,
  DescribeFileSystemsCommand,
  type FSxClient,
  paginateDescribeFileSystems,
} from '@aws-sdk/client-fsx';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalCloud, startLocalCloud } from '../../local/cloud.js';
import { localClients } from '../support/local-clients.js';
import { rawRequest } from '../support/signed-fetch.js';

const run = promisify(execFile);
const SEED_BUCKET = 'dzhang-imi-gchp-test';

let cloud: LocalCloud;
let dataDir: string;
let fsx: FSxClient;
let s3: S3Client;

async function waitFor<T>(
  check: () => Promise<T> | T,
  what: string,
  timeoutMs = 20_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 20; ; delay = Math.min(delay * 2, 250)) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, delay));
  }
}

async function admin<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${cloud.endpoint}/_local/fsx${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = (await response.json()) as T;
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

async function newFileSystem(spec: Record<string, unknown> = {}): Promise<string> {
  const created = await admin<{ FileSystemId: string }>('POST', '/file-systems', spec);
  return created.FileSystemId;
}

async function createBucket(name: string): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: name })).catch((error: Error) => {
    if (error.name !== 'BucketAlreadyOwnedByYou' && error.name !== 'BucketAlreadyExists') throw error;
  });
}

async function association(id: string): Promise<DataRepositoryAssociation> {
  const out = await fsx.send(new DescribeDataRepositoryAssociationsCommand({ AssociationIds: [id] }));
  return out.Associations?.[0] as DataRepositoryAssociation;
}

async function available(id: string): Promise<DataRepositoryAssociation> {
  return waitFor(async () => {
    const a = await association(id);
    return a.Lifecycle === 'AVAILABLE' ? a : undefined;
  }, `${id} AVAILABLE`);
}

async function taskEnded(id: string): Promise<DataRepositoryTask> {
  return waitFor(async () => {
    const out = await fsx.send(new DescribeDataRepositoryTasksCommand({ TaskIds: [id] }));
    const task = out.DataRepositoryTasks?.[0];
    return task && ['SUCCEEDED', 'FAILED', 'CANCELED'].includes(task.Lifecycle ?? '') ? task : undefined;
  }, `task ${id} to end`);
}

async function getObject(bucket: string, key: string): Promise<string | undefined> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return await out.Body?.transformToString();
  } catch (error) {
    if ((error as Error).name === 'NoSuchKey') return undefined;
    throw error;
  }
}

async function aws(script: string): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run('bash', ['-c', script], {
      env: { ...process.env, ...cloud.env, EP: cloud.endpoint, AWS_PAGER: '' },
    });
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const e = error as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

function writeOnFsx(fileSystemId: string, fsPath: string, contents: string): void {
  const path = join(cloud.fsx.fileSystemRoot(fileSystemId), fsPath);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, contents);
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'local-cloud-fsx-'));
  cloud = await startLocalCloud({ port: 0, dataDir, timeScale: 0.01, quiet: true });
  const clients = localClients(cloud.endpoint, { region: cloud.region });
  fsx = clients.fsx();
  s3 = clients.s3();
  await createBucket(SEED_BUCKET);
}, 60_000);

afterAll(async () => {
  fsx?.destroy();
  s3?.destroy();
  await cloud?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the seed runbook with the AWS CLI', () => {
  it('creates the three DRAs with the seed commands and lists them with the seed query', async () => {
    await newFileSystem({ tags: { Name: 'gchp-fsx' } });
    const seedDra = (
      path: string,
      tag: string,
      token: string,
    ) => `aws fsx create-data-repository-association \\
      --file-system-id "$FSX_ID" \\
      --file-system-path "/${path}" \\
      --data-repository-path "s3://dzhang-imi-gchp-test/${path}" \\
      --batch-import-meta-data-on-create \\
      --s3 '{ "AutoImportPolicy": {"Events": ["NEW","CHANGED","DELETED"]} }' \\
      --tags Key=Name,Value=${tag} \\
      --client-request-token ${token} --endpoint-url "$EP"`;
    const script = [
      `FSX_ID=$(aws fsx describe-file-systems --endpoint-url "$EP" --query "FileSystems[?Tags[?Value=='gchp-fsx']] | [0].FileSystemId" --output text)`,
      seedDra('ExtData', 'dra-extdata', 'dra-extdata-001'),
      seedDra('blended-tropomi', 'dra-blended-tropomi', 'dra-tropomi-001'),
      seedDra('blended-boundary-conditions', 'dra-blended-bc', 'dra-bc-001'),
      'echo "$FSX_ID"',
    ].join(' >/dev/null && ');

    const created = await aws(script);
    const fsxId = created.stdout.trim();
    const list = `aws fsx describe-data-repository-associations --endpoint-url "$EP" \\
      --filters Name=file-system-id,Values="${fsxId}" \\
      --query "Associations[*].{Path:FileSystemPath,S3:DataRepositoryPath,State:Lifecycle}"`;
    const listed = JSON.parse((await aws(list)).stdout) as Array<{ Path: string; S3: string; State: string }>;
    const settled = await waitFor(async () => {
      const rows = JSON.parse((await aws(list)).stdout) as Array<{ State: string }>;
      return rows.every((r) => r.State === 'AVAILABLE') ? rows : undefined;
    }, 'the seed DRAs to become AVAILABLE');

    expect(created.code, created.stderr).toBe(0);
    expect(fsxId).toMatch(/^fs-[0-9a-f]{17}$/);
    expect(listed.map(({ Path, S3 }) => ({ Path, S3 }))).toEqual([
      { Path: '/ExtData', S3: 's3://dzhang-imi-gchp-test/ExtData' },
      { Path: '/blended-tropomi', S3: 's3://dzhang-imi-gchp-test/blended-tropomi' },
      { Path: '/blended-boundary-conditions', S3: 's3://dzhang-imi-gchp-test/blended-boundary-conditions' },
    ]);
    expect(listed.every((r) => ['CREATING', 'AVAILABLE'].includes(r.State))).toBe(true);
    expect(settled).toHaveLength(3);

    const again = await aws(
      `${seedDra('ExtData', 'dra-extdata', 'dra-extdata-001').replace('"$FSX_ID"', fsxId)} --query Association.FileSystemPath --output text`,
    );
    const overlapping = await aws(
      `aws fsx create-data-repository-association --endpoint-url "$EP" --file-system-id ${fsxId} --file-system-path /ExtData/sub --data-repository-path s3://dzhang-imi-gchp-test/ExtData-sub`,
    );
    const afterwards = JSON.parse((await aws(list)).stdout) as unknown[];

    expect(again.stdout.trim()).toBe('/ExtData');
    expect(overlapping.code).not.toBe(0);
    expect(overlapping.stderr).toContain(
      'An error occurred (BadRequest) when calling the CreateDataRepositoryAssociation operation',
    );
    expect(overlapping.stderr).toContain('overlaps with the file system path /ExtData');
    expect(afterwards).toHaveLength(3);
  }, 60_000);

  it('answers FileSystemNotFound to the CLI for an unknown file system', async () => {
    const out = await aws(
      'aws fsx describe-file-systems --endpoint-url "$EP" --file-system-ids fs-00000000000000000',
    );

    expect(out.code).not.toBe(0);
    expect(out.stderr).toContain('(FileSystemNotFound)');
  }, 30_000);
});

describe('FSx through the SDK', () => {
  it('pages DescribeFileSystems and DescribeDataRepositoryAssociations', async () => {
    const id = await newFileSystem();
    await createBucket('paging-bucket');
    for (let i = 0; i < 5; i += 1) {
      await fsx.send(
        new CreateDataRepositoryAssociationCommand({
          FileSystemId: id,
          FileSystemPath: `/p${i}`,
          DataRepositoryPath: `s3://paging-bucket/p${i}`,
        }),
      );
    }
    const systems: string[] = [];
    for await (const page of paginateDescribeFileSystems({ client: fsx, pageSize: 1 }, {})) {
      systems.push(...(page.FileSystems ?? []).map((f) => f.FileSystemId as string));
    }
    const paths: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const out = await fsx.send(
        new DescribeDataRepositoryAssociationsCommand({
          Filters: [{ Name: 'file-system-id', Values: [id] }],
          MaxResults: 2,
          NextToken: token,
        }),
      );
      paths.push(...(out.Associations ?? []).map((a) => a.FileSystemPath as string));
      token = out.NextToken;
      pages += 1;
    } while (token);

    expect(systems).toContain(id);
    expect(new Set(systems).size).toBe(systems.length);
    expect(paths).toEqual(['/p0', '/p1', '/p2', '/p3', '/p4']);
    expect(pages).toBe(3);
  }, 30_000);

  it('surfaces AWS error codes as SDK exceptions', async () => {
    const id = await newFileSystem({ deploymentType: 'SCRATCH_1' });
    const other = await newFileSystem();
    await fsx.send(
      new CreateDataRepositoryAssociationCommand({
        FileSystemId: other,
        FileSystemPath: '/a',
        DataRepositoryPath: `s3://${SEED_BUCKET}/errors-a`,
        ClientRequestToken: 'e2e-token',
      }),
    );

    const errors = await Promise.all(
      [
        new DescribeFileSystemsCommand({ FileSystemIds: ['fs-00000000000000000'] }),
        new CreateDataRepositoryAssociationCommand({
          FileSystemId: id,
          FileSystemPath: '/x',
          DataRepositoryPath: `s3://${SEED_BUCKET}/x`,
        }),
        new CreateDataRepositoryAssociationCommand({
          FileSystemId: other,
          FileSystemPath: '/b',
          DataRepositoryPath: `s3://${SEED_BUCKET}/errors-b`,
          ClientRequestToken: 'e2e-token',
        }),
        new DescribeDataRepositoryAssociationsCommand({ MaxResults: 0 }),
        new DescribeDataRepositoryTasksCommand({ TaskIds: ['task-0123456789abcdef0'] }),
        new CreateDataRepositoryAssociationCommand({
          FileSystemId: other,
          FileSystemPath: '/c',
          DataRepositoryPath: 's3://no-such-bucket-e2e/c',
        }),
      ].map((command) =>
        fsx.send(command as never).then(
          () => undefined,
          (error: Error & { $metadata?: { httpStatusCode?: number }; Parameter?: string }) => ({
            name: error.name,
            message: error.message,
            status: error.$metadata?.httpStatusCode,
            parameter: error.Parameter,
          }),
        ),
      ),
    );

    expect(errors.map((e) => e?.name)).toEqual([
      'FileSystemNotFound',
      'UnsupportedOperation',
      'IncompatibleParameterError',
      'BadRequest',
      'DataRepositoryTaskNotFound',
      'BadRequest',
    ]);
    expect(errors.every((e) => e?.status === 400)).toBe(true);
    expect(errors[3]?.message).toBe(
      "1 validation error detected: Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1",
    );
    expect(errors[2]?.parameter).toBe('DataRepositoryPath');
    expect(errors[5]?.message).toContain('unable to validate access to the S3 bucket');
  }, 30_000);

  it('answers malformed requests with AWS-shaped errors', async () => {
    const post = (target: string, body: string) =>
      rawRequest(cloud.endpoint, {
        headers: {
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': `AWSSimbaAPIService_v20180301.${target}`,
        },
        body,
        service: 'fsx',
      }).then((r) => ({
        status: r.status,
        body: JSON.parse(r.text) as { __type: string; message?: string },
      }));

    const wrongType = await post('DescribeFileSystems', '{"FileSystemIds": "fs-0123456789abcdef0"}');
    const notJson = await post('DescribeFileSystems', '{not json');
    const unknown = await post('BrewCoffee', '{}');
    const missing = await post('CreateDataRepositoryTask', '{}');

    expect(wrongType).toMatchObject({
      status: 400,
      body: { __type: expect.stringContaining('SerializationException') },
    });
    expect(notJson).toMatchObject({
      status: 400,
      body: { __type: expect.stringContaining('SerializationException') },
    });
    expect(unknown).toMatchObject({
      status: 400,
      body: { __type: expect.stringContaining('UnknownOperationException') },
    });
    expect(missing.status).toBe(400);
    expect(missing.body.__type).toContain('BadRequest');
    expect(missing.body.message).toMatch(/^3 validation errors detected: /);
  }, 30_000);
});

describe("the seed's behaviour summary over the wire", () => {
  let id: string;
  const bucket = 'semantics-bucket';

  beforeAll(async () => {
    id = await newFileSystem();
    await createBucket(bucket);
    writeOnFsx(id, 'output/existing.nc', 'existing before the DRA');
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'input/before.nc', Body: 'object before the DRA' }),
    );
    const input = await fsx.send(
      new CreateDataRepositoryAssociationCommand({
        FileSystemId: id,
        FileSystemPath: '/input',
        DataRepositoryPath: `s3://${bucket}/input`,
        BatchImportMetaDataOnCreate: true,
        S3: { AutoImportPolicy: { Events: ['NEW', 'CHANGED', 'DELETED'] } },
      }),
    );
    const output = await fsx.send(
      new CreateDataRepositoryAssociationCommand({
        FileSystemId: id,
        FileSystemPath: '/output',
        DataRepositoryPath: `s3://${bucket}/output`,
        S3: { AutoExportPolicy: { Events: ['NEW', 'CHANGED'] } },
      }),
    );
    const fixed = await fsx.send(
      new CreateDataRepositoryAssociationCommand({
        FileSystemId: id,
        FileSystemPath: '/static',
        DataRepositoryPath: `s3://${bucket}/static`,
      }),
    );
    for (const a of [input, output, fixed]) await available(a.Association?.AssociationId as string);
    await waitFor(
      async () =>
        (await admin<{ files: unknown[] }>('GET', `/file-systems/${id}/hsm?path=/input`)).files.length === 1,
      'the batch import',
    );
  }, 60_000);

  it('FSx -> S3 (existing files): not exported automatically; one-time export required', async () => {
    await new Promise((r) => setTimeout(r, cloud.clock.scale(60_000)));
    const automatically = await getObject(bucket, 'output/existing.nc');

    const task = await waitFor(
      () =>
        fsx
          .send(
            new CreateDataRepositoryTaskCommand({
              FileSystemId: id,
              Type: 'EXPORT_TO_REPOSITORY',
              Paths: ['output/existing.nc'],
              Report: { Enabled: false },
            }),
          )
          .then((out) => out.DataRepositoryTask)
          .catch((error: Error) => {
            if (error.name === 'DataRepositoryTaskExecuting') return undefined;
            throw error;
          }),
      'a free task slot',
    );
    const done = await taskEnded(task.TaskId as string);

    expect(automatically).toBeUndefined();
    expect(done.Lifecycle).toBe('SUCCEEDED');
    expect(await getObject(bucket, 'output/existing.nc')).toBe('existing before the DRA');
  }, 30_000);

  it('FSx -> S3 (new or modified files): automatically exported, full data, asynchronously', async () => {
    writeOnFsx(id, 'output/run/new.nc', 'new model output');

    const exported = await waitFor(() => getObject(bucket, 'output/run/new.nc'), 'auto-export');
    writeOnFsx(id, 'output/run/new.nc', 'modified model output');
    const modified = await waitFor(
      async () =>
        (await getObject(bucket, 'output/run/new.nc')) === 'modified model output' ? 'yes' : undefined,
      'auto-export of the change',
    );

    expect(exported).toBe('new model output');
    expect(modified).toBe('yes');
  }, 45_000); // two waits of up to 20 s each on a busy machine

  it('FSx file deletion: no effect on S3', async () => {
    writeOnFsx(id, 'output/to-delete.nc', 'keep me in S3');
    await waitFor(() => getObject(bucket, 'output/to-delete.nc'), 'auto-export');

    rmSync(join(cloud.fsx.fileSystemRoot(id), 'output/to-delete.nc'));
    await new Promise((r) => setTimeout(r, cloud.clock.scale(60_000)));

    expect(await getObject(bucket, 'output/to-delete.nc')).toBe('keep me in S3');
  }, 30_000);

  it('S3 -> FSx (any file): imported on access; metadata and data are lazy', async () => {
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'input/after.nc', Body: 'object after the DRA' }),
    );

    const states = await waitFor(async () => {
      const out = await admin<{
        files: Array<{ path: string; size: number; contentsPresent: boolean; lfs: string }>;
      }>('GET', `/file-systems/${id}/hsm?path=/input`);
      return out.files.length === 2 ? out.files : undefined;
    }, 'auto-import of the new object');
    const read = await admin<{ contents: string; restored: boolean }>('POST', `/file-systems/${id}/access`, {
      path: '/input/after.nc',
    });
    const restored = await admin<{ results: Array<{ restored: string[] }> }>(
      'POST',
      `/file-systems/${id}/restore`,
      { path: '/input/before.nc' },
    );

    expect(states).toEqual([
      expect.objectContaining({
        path: '/input/after.nc',
        size: 20,
        contentsPresent: false,
        lfs: '(0x0000000d) released exists archived, archive_id:1',
      }),
      expect.objectContaining({ path: '/input/before.nc', size: 21, contentsPresent: false }),
    ]);
    expect(read).toMatchObject({ contents: 'object after the DRA', restored: true });
    expect(restored.results[0]?.restored).toEqual(['/input/before.nc']);
  }, 30_000);

  it('Auto-import policy: enables access-triggered import, no proactive copying', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'input/watched.nc', Body: 'WATCHED' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'static/unwatched.nc', Body: 'UNWATCHED' }));

    const watched = await waitFor(async () => {
      const out = await admin<{ files: Array<{ path: string; contentsPresent: boolean }> }>(
        'GET',
        `/file-systems/${id}/hsm?path=/input/watched.nc`,
      );
      return out.files[0];
    }, 'auto-import');
    await new Promise((r) => setTimeout(r, cloud.clock.scale(30_000)));
    const unwatched = await admin<{ files: unknown[] }>('GET', `/file-systems/${id}/hsm?path=/static`);

    expect(watched.contentsPresent).toBe(false);
    expect(unwatched.files).toEqual([]);
  }, 30_000);

  it('fails an export task with failed files and writes the completion report to S3', async () => {
    writeOnFsx(id, 'output/report/good.nc', 'good');
    writeOnFsx(id, 'output/report/bad.nc', 'bad');
    await admin('POST', '/faults', {
      taskFileFailures: [{ match: 'report/bad.nc', errorCode: 'S3AccessDenied' }],
    });

    const task = await waitFor(
      () =>
        fsx
          .send(
            new CreateDataRepositoryTaskCommand({
              FileSystemId: id,
              Type: 'EXPORT_TO_REPOSITORY',
              Paths: ['output/report'],
              Report: {
                Enabled: true,
                Path: `s3://${bucket}/output/fsx-reports`,
                Format: 'REPORT_CSV_20191124',
                Scope: 'FAILED_FILES_ONLY',
              },
            }),
          )
          .then((out) => out.DataRepositoryTask)
          .catch((error: Error) => {
            if (error.name === 'DataRepositoryTaskExecuting') return undefined; // auto-export or another task
            throw error;
          }),
      'a free task slot',
    );
    const done = await taskEnded(task.TaskId as string);
    await admin('DELETE', '/faults');
    const report = await getObject(bucket, `output/fsx-reports/${task.TaskId}/failures.csv`);

    expect(done.Lifecycle).toBe('FAILED');
    expect(done.Status).toMatchObject({ FailedCount: 1 });
    expect(done.FailureDetails?.Message).toContain('See the completion report');
    expect(report).toBe('output/report/bad.nc,failed,S3AccessDenied\n');
  }, 30_000);
});
