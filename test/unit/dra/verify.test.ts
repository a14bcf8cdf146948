import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { beforeEach, describe, expect, it } from 'vitest';
import { type Listing, listingHash } from '../../../shared/dra/lustre-client.js';
import type { TaskState } from '../../../shared/dra/types.js';
import { compareDraTransfer, verifyDraTransfer } from '../../../shared/dra/verify.js';
import { s3Mock } from './aws-mocks.js';
import { BUCKET, buildPlan } from './builders.js';

function listing(entries: [string, number][], truncatedCount?: number): Listing {
  const files = new Map(entries);
  return {
    exists: true,
    count: truncatedCount ?? files.size,
    bytes: entries.reduce((s, [, n]) => s + n, 0),
    sha256: listingHash(files),
    files,
    truncated: truncatedCount !== undefined,
  };
}

const task = (type: TaskState['type'], succeeded: number, failed = 0): TaskState => ({
  type,
  ran: true,
  reason: 'x',
  taskId: 'task-1',
  total: succeeded + failed,
  succeeded,
  failed,
});

describe('compareDraTransfer', () => {
  const s3 = [
    { path: 'a.nc', size: 4 },
    { path: 'sub/b.nc', size: 2 },
  ];

  it('accepts a stage-in whose import covered the S3 listing and whose files are all on FSx', () => {
    const result = compareDraTransfer({
      direction: 'stage-in',
      s3,
      task: task('IMPORT_METADATA_FROM_REPOSITORY', 2),
      listing: listing([
        ['a.nc', 4],
        ['sub/b.nc', 2],
        ['model-output.log', 9],
      ]),
    });

    expect(result.differences).toEqual([]);
    expect(result.checks).toHaveLength(2);
  });

  it('lists stage-in files missing on FSx or with another size', () => {
    const result = compareDraTransfer({ direction: 'stage-in', s3, listing: listing([['a.nc', 3]]) });

    expect(result.differences).toEqual(['size differs: a.nc (S3 4, FSx 3)', 'missing on FSx: sub/b.nc']);
  });

  it('flags an import task that imported fewer files than S3 holds', () => {
    const result = compareDraTransfer({
      direction: 'stage-in',
      s3,
      task: task('IMPORT_METADATA_FROM_REPOSITORY', 1),
    });

    expect(result.differences).toEqual(['the import task imported 1 file(s), but the S3 scope holds 2']);
  });

  it('lists exported files missing in S3, ignoring the report folder', () => {
    const result = compareDraTransfer({
      direction: 'export',
      s3,
      listing: listing([
        ['a.nc', 4],
        ['sub/b.nc', 2],
        ['sub/c.nc', 7],
        ['fsx-transfer-reports/task-1/failures.csv', 1],
      ]),
      excludePath: 'fsx-transfer-reports',
    });

    expect(result.differences).toEqual(['missing in S3: sub/c.nc']);
  });

  it('compares counts when the FSx listing was truncated', () => {
    const result = compareDraTransfer({ direction: 'export', s3, listing: listing([['a.nc', 4]], 5) });

    expect(result.differences).toEqual(['FSx holds 5 file(s) in the scope, S3 only 2']);
  });
});

describe('verifyDraTransfer', () => {
  beforeEach(() => {
    s3Mock.reset();
    s3Mock.on(ListObjectsV2Command).resolves({
      Contents: [
        { Key: 'ExtData/a.nc', Size: 4 },
        { Key: 'ExtData/sub/', Size: 0 },
        { Key: 'ExtData/fsx-transfer-reports/task-1/failures.csv', Size: 10 },
      ],
    });
  });

  it('returns files and bytes of the S3 scope and what was checked', async () => {
    const result = await verifyDraTransfer(
      { s3: new S3Client({}) },
      {
        plan: buildPlan(),
        task: task('IMPORT_METADATA_FROM_REPOSITORY', 1),
        reportPath: `s3://${BUCKET}/ExtData/fsx-transfer-reports`,
      },
    );

    expect(result).toMatchObject({ files: 1, bytes: 4, verified: true });
    expect(s3Mock.commandCalls(ListObjectsV2Command)[0]!.args[0].input).toMatchObject({
      Bucket: BUCKET,
      Prefix: 'ExtData/',
    });
  });

  it('says the run is not verified when nothing could be compared', async () => {
    const result = await verifyDraTransfer(
      { s3: new S3Client({}) },
      {
        plan: buildPlan(),
        task: { type: 'IMPORT_METADATA_FROM_REPOSITORY', ran: false, reason: 'auto-import covers it' },
        reportPath: `s3://${BUCKET}/ExtData/fsx-transfer-reports`,
      },
    );

    expect(result.verified).toBe(false);
    expect(result.details.notes).toEqual([expect.stringContaining('not verified')]);
  });

  it('fails with VerificationFailedError listing the differences', async () => {
    const result = verifyDraTransfer(
      { s3: new S3Client({}) },
      {
        plan: buildPlan(),
        listing: {
          purpose: 'list',
          sent: true,
          reason: 'x',
          output: 'FSXT-LISTING v1\nCOUNT 0\nBYTES 0\nSHA256 x\n',
        },
        reportPath: `s3://${BUCKET}/ExtData/fsx-transfer-reports`,
      },
    );

    await expect(result).rejects.toMatchObject({
      name: 'VerificationFailedError',
      message: expect.stringContaining('missing on FSx: a.nc'),
    });
  });
});
