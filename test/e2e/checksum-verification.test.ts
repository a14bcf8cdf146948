/**
 * `checksum` verification end to end on the local cloud (issue 14): the EC2 method compares the
 * checksums the transfer instance computed on the file system with S3's own record of each object
 * (stored checksums, composite CRCs, single-part ETags) in both directions over the hostile-names
 * tree; a same-size corruption on either side fails the run naming the file, a `size` run says it
 * did not check content, and objects without a usable S3 checksum are counted as size-only. The DRA
 * method does the same with the checksums of a Lustre client: here (no client configured) a
 * transfer instance launched for them, terminated on success and failure.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getS3 } from '../../shared/aws/clients.js';
import { startLustreClient, useConfig } from './dra-helpers.js';
import {
  BUCKET,
  configYaml,
  expectedTree,
  FS_ID,
  fsTree,
  fsxDir,
  instancesNotTerminated,
  putTree,
  type Run,
  runTransfer,
  s3Tree,
  sampleTree,
  startWorld,
  type World,
} from './ec2-helpers.js';

const MB = 1024 * 1024;
let world: World;
/** A client with the SDK's default checksums (every upload carries one). */
let withChecksums: S3Client;

const CHECKED_DRA = `  - name: checked-dra
    fileSystemId: ${FS_ID}
    fsxPath: /checked-dra
    s3Uri: s3://${BUCKET}/checked-dra
    directions: [stage-in, export]
    method: dra
    verify: checksum`;

beforeAll(async () => {
  world = await startWorld({ config: configYaml({ extraMappings: CHECKED_DRA }) });
  withChecksums = new S3Client({
    endpoint: world.cloud.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    forcePathStyle: true,
  });
}, 60_000);

afterAll(async () => {
  withChecksums?.destroy();
  await world?.stop();
});

/** Uploads `parts` as one multipart object, with a composite CRC32 or without any checksum. */
async function putMultipart(
  client: S3Client,
  key: string,
  parts: Buffer[],
  checksum: boolean,
): Promise<void> {
  const algorithm = checksum ? { ChecksumAlgorithm: 'CRC32' as const } : {};
  const { UploadId } = await client.send(
    new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key, ...algorithm }),
  );
  const done = [];
  for (const [i, body] of parts.entries()) {
    const out = await client.send(
      new UploadPartCommand({
        Bucket: BUCKET,
        Key: key,
        UploadId,
        PartNumber: i + 1,
        Body: body,
        ...algorithm,
      }),
    );
    done.push({
      PartNumber: i + 1,
      ETag: out.ETag,
      ...(checksum ? { ChecksumCRC32: out.ChecksumCRC32 } : {}),
    });
  }
  await client.send(
    new CompleteMultipartUploadCommand({
      Bucket: BUCKET,
      Key: key,
      UploadId,
      MultipartUpload: { Parts: done },
    }),
  );
}

/** One same-size bit flip of a file on FSx (path from the file system root), at the next chance. */
async function corruptFile(path: string): Promise<void> {
  await world.cloud.faults.add({
    service: 'ssm',
    behavior: 'corrupt-file',
    match: { FileSystemId: FS_ID, Path: path },
    count: 1,
  });
}

/** One same-size bit flip of an object in S3, right after it is stored. */
async function corruptObject(key: string): Promise<void> {
  await world.cloud.faults.add({
    service: 's3',
    behavior: 'corrupt-object',
    match: { Bucket: BUCKET, Key: key },
    count: 1,
  });
}

/** The run failed verification naming `path` (checked by `how`) and no other file of the sample tree. */
function expectContentDiffers(run: Run, path: string, how: string): void {
  expect(run.status).toBe('FAILED');
  expect(run.error).toBe('VerificationFailedError');
  expect(run.cause).toContain(`content differs: ${path} (${how}`);
  expect(run.cause).not.toContain('content differs: a/sibling.txt');
}

function writeFsxTree(path: string, tree: Record<string, Buffer | string>): void {
  for (const [name, body] of Object.entries(tree)) {
    const file = join(fsxDir(world, path), name);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, body);
  }
}

describe('checksum verification, EC2 method', () => {
  it('stages the hostile-names tree and checks every file by content, counting objects without an S3 checksum', async () => {
    const tree = sampleTree(randomBytes(6 * MB), 'big/6mb.bin');
    await putTree('blended-tropomi/in', tree);
    // S3's other records of content: a CRC64NVME, a composite CRC32, and a multipart upload without checksums.
    await withChecksums.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: 'blended-tropomi/in/a/sibling.txt',
        Body: tree['a/sibling.txt'],
        ChecksumAlgorithm: 'CRC64NVME',
      }),
    );
    const big = tree['big/6mb.bin'] as Buffer;
    await putMultipart(
      withChecksums,
      'blended-tropomi/in/big/6mb.bin',
      [big.subarray(0, 5 * MB), big.subarray(5 * MB)],
      true,
    );
    const legacy = randomBytes(5 * MB + 10);
    await putMultipart(
      getS3(),
      'blended-tropomi/in/legacy/multipart.bin',
      [legacy.subarray(0, 5 * MB), legacy.subarray(5 * MB)],
      false,
    );

    const run = await runTransfer(
      world,
      { mapping: 'blended-tropomi', direction: 'stage-in', subPath: 'in', verify: 'checksum' },
      180_000,
    );

    expect(run.status, run.cause).toBe('SUCCEEDED');
    expect(await fsTree(fsxDir(world, 'blended-tropomi/in'))).toEqual(
      expectedTree({ ...tree, 'legacy/multipart.bin': legacy }),
    );
    const files = Object.keys(tree).length + 1;
    expect(run.output?.verification).toMatchObject({
      mode: 'checksum',
      files,
      contentChecked: files - 1,
      sizeOnly: 1,
      checkedBy: { 'ETag (MD5)': files - 3, CRC64NVME: 1, 'CRC32 (composite)': 1 },
      sizeOnlyFiles: [{ path: 'legacy/multipart.bin', reason: 'no S3 checksum, multipart ETag' }],
    });
  }, 240_000);

  it('exports the hostile-names tree with S3-validated CRC32s and checks every file by content', async () => {
    const tree = { ...sampleTree(randomBytes(6 * MB), 'big/6mb.bin'), 'big/9mb.bin': randomBytes(9 * MB) };
    writeFsxTree('output/out', tree);

    const run = await runTransfer(
      world,
      { mapping: 'output', direction: 'export', subPath: 'out', verify: 'checksum' },
      180_000,
    );

    expect(run.status, run.cause).toBe('SUCCEEDED');
    expect(await s3Tree('output/out')).toEqual(expectedTree(tree));
    const files = Object.keys(tree).length;
    expect(run.output?.verification).toMatchObject({
      mode: 'checksum',
      files,
      contentChecked: files,
      sizeOnly: 0,
    });
    const by = run.output?.verification.checkedBy as Record<string, number>;
    expect(Object.keys(by).every((how) => how.startsWith('CRC32'))).toBe(true);
  }, 240_000);

  it('fails a checksum stage-in whose file was corrupted on FSx (same size), naming the file', async () => {
    await putTree('blended-tropomi/bad-in', sampleTree(randomBytes(1000), 'big/small.bin'));
    await corruptFile('/blended-tropomi/bad-in/a/b/c/d/deep.nc');

    const run = await runTransfer(
      world,
      { mapping: 'blended-tropomi', direction: 'stage-in', subPath: 'bad-in', verify: 'checksum' },
      180_000,
    );

    expectContentDiffers(run, 'a/b/c/d/deep.nc', 'ETag (MD5)');
  }, 240_000);

  it('fails a checksum export whose object was corrupted in S3 (same size), naming the file', async () => {
    writeFsxTree('output/bad-out', sampleTree(randomBytes(1000), 'big/small.bin'));
    await corruptObject('output/bad-out/ünïcödé/数据 файл.nc');

    const run = await runTransfer(
      world,
      { mapping: 'output', direction: 'export', subPath: 'bad-out', verify: 'checksum' },
      180_000,
    );

    expectContentDiffers(run, 'ünïcödé/数据 файл.nc', 'CRC32');
  }, 240_000);

  it('lets a size run pass over the same corruption and says that it did not check content', async () => {
    const tree = sampleTree(randomBytes(1000), 'big/small.bin');
    await putTree('blended-tropomi/size-in', tree);
    await corruptFile('/blended-tropomi/size-in/a/b/c/d/deep.nc');

    const run = await runTransfer(
      world,
      { mapping: 'blended-tropomi', direction: 'stage-in', subPath: 'size-in' },
      180_000,
    );

    expect(run.status, run.cause).toBe('SUCCEEDED');
    const files = Object.keys(tree).length;
    expect(run.output?.verification).toEqual({ mode: 'size', files, contentChecked: 0, sizeOnly: files });
  }, 240_000);
});

describe('checksum verification, DRA method (no Lustre client: a launched transfer instance checksums)', () => {
  it('stages the hostile-names tree in by DRA and checks every file by content, then terminates the instance', async () => {
    const tree = sampleTree(randomBytes(6 * MB), 'big/6mb.bin');
    await putTree('checked-dra/in', tree);

    const run = await runTransfer(
      world,
      { mapping: 'checked-dra', direction: 'stage-in', subPath: 'in' },
      180_000,
    );

    expect(run.status, run.cause).toBe('SUCCEEDED');
    expect(run.output?.method).toBe('dra');
    expect(run.states).toEqual(
      expect.arrayContaining(['SendChecksumsCommand', 'VerifyDraContent', 'TerminateInstance']),
    );
    // Reading every file restored its contents: the staged tree is on FSx, not only its metadata.
    expect(await fsTree(fsxDir(world, 'checked-dra/in'))).toEqual(expectedTree(tree));
    const files = Object.keys(tree).length;
    expect(run.output?.verification).toMatchObject({
      mode: 'checksum',
      files,
      contentChecked: files,
      sizeOnly: 0,
    });
    expect(run.output?.verification.note).toBeUndefined();
    expect(await instancesNotTerminated()).toEqual([]);
  }, 240_000);

  it('exports the hostile-names tree by DRA and checks every file by content', async () => {
    const tree = sampleTree(randomBytes(6 * MB), 'big/6mb.bin');
    writeFsxTree('checked-dra/out', tree);

    const run = await runTransfer(
      world,
      { mapping: 'checked-dra', direction: 'export', subPath: 'out' },
      180_000,
    );

    expect(run.status, run.cause).toBe('SUCCEEDED');
    expect(await s3Tree('checked-dra/out')).toEqual(expectedTree(tree));
    const files = Object.keys(tree).length;
    expect(run.output?.verification).toMatchObject({
      mode: 'checksum',
      files,
      contentChecked: files,
      sizeOnly: 0,
    });
    expect(await instancesNotTerminated()).toEqual([]);
  }, 240_000);

  it('fails a DRA stage-in whose file was corrupted on FSx (same size), naming the file, and terminates the instance', async () => {
    await putTree('checked-dra/bad-in', sampleTree(randomBytes(1000), 'big/small.bin'));
    await corruptFile('/checked-dra/bad-in/a/b/c/d/deep.nc');

    const run = await runTransfer(
      world,
      { mapping: 'checked-dra', direction: 'stage-in', subPath: 'bad-in' },
      180_000,
    );

    expectContentDiffers(run, 'a/b/c/d/deep.nc', 'ETag (MD5)');
    expect(run.states).toEqual(expect.arrayContaining(['VerifyDraContent', 'TerminateAfterFailure']));
    expect(await instancesNotTerminated()).toEqual([]);
  }, 240_000);

  it('fails a DRA export whose object was corrupted in S3 (same size), naming the file, and terminates the instance', async () => {
    writeFsxTree('checked-dra/bad-out', sampleTree(randomBytes(1000), 'big/small.bin'));
    await corruptObject('checked-dra/bad-out/ünïcödé/数据 файл.nc');

    const run = await runTransfer(
      world,
      { mapping: 'checked-dra', direction: 'export', subPath: 'bad-out' },
      180_000,
    );

    // FSx exports without an additional checksum: S3's record of the content is the ETag (MD5).
    expectContentDiffers(run, 'ünïcödé/数据 файл.nc', 'ETag (MD5)');
    expect(run.states).toEqual(expect.arrayContaining(['VerifyDraContent', 'TerminateAfterFailure']));
    expect(await instancesNotTerminated()).toEqual([]);
  }, 240_000);

  it('lets a DRA size run launch nothing and say that it did not check content', async () => {
    const tree = sampleTree(randomBytes(1000), 'big/small.bin');
    writeFsxTree('checked-dra/size-out', tree);

    const run = await runTransfer(
      world,
      { mapping: 'checked-dra', direction: 'export', subPath: 'size-out', verify: 'size' },
      180_000,
    );

    expect(run.status, run.cause).toBe('SUCCEEDED');
    expect(run.states).not.toContain('LaunchInstance');
    const files = Object.keys(tree).length;
    expect(run.output?.verification).toEqual({ mode: 'size', files, contentChecked: 0, sizeOnly: files });
  }, 240_000);
});

// Last: it deploys a config naming a Lustre client, which every later run would use.
describe('checksum verification, DRA method with a configured Lustre client', () => {
  beforeAll(async () => {
    const client = await startLustreClient(world, FS_ID);
    useConfig(world, configYaml({ extraMappings: CHECKED_DRA, lustreClientInstanceId: client }));
  }, 60_000);

  it('checks every file of a DRA stage-in by content with the listing command on the client, launching nothing', async () => {
    const tree = sampleTree(randomBytes(6 * MB), 'big/6mb.bin');
    await putTree('checked-dra/client-in', tree);

    const run = await runTransfer(
      world,
      { mapping: 'checked-dra', direction: 'stage-in', subPath: 'client-in' },
      180_000,
    );

    expect(run.status, run.cause).toBe('SUCCEEDED');
    expect(run.states).toEqual(expect.arrayContaining(['StartFileListing', 'WaitForFileListing']));
    expect(run.states).not.toContain('LaunchInstance');
    expect(await fsTree(fsxDir(world, 'checked-dra/client-in'))).toEqual(expectedTree(tree));
    const files = Object.keys(tree).length;
    expect(run.output?.verification).toMatchObject({
      mode: 'checksum',
      files,
      contentChecked: files,
      sizeOnly: 0,
    });
    expect(run.output?.verification.note).toBeUndefined();
  }, 240_000);

  it('fails a DRA stage-in whose file was corrupted on FSx (same size) on the client, naming the file', async () => {
    await putTree('checked-dra/client-bad', sampleTree(randomBytes(1000), 'big/small.bin'));
    await corruptFile('/checked-dra/client-bad/a/b/c/d/deep.nc');

    const run = await runTransfer(
      world,
      { mapping: 'checked-dra', direction: 'stage-in', subPath: 'client-bad' },
      180_000,
    );

    expectContentDiffers(run, 'a/b/c/d/deep.nc', 'ETag (MD5)');
    expect(run.states).toContain('WaitForFileListing');
    expect(run.states).not.toContain('LaunchInstance');
  }, 240_000);
});
