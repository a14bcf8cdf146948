import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { beforeEach, describe, expect, it } from 'vitest';
import type { TaskState } from '../../../shared/dra/state.js';
import { verifyDraTransfer } from '../../../shared/dra/verify.js';
import { s3Mock } from './aws-mocks.js';
import { BUCKET, buildPlan } from './builders.js';

const task = (type: TaskState['type'], succeeded: number, failed = 0): TaskState => ({
  type,
  ran: true,
  reason: 'x',
  taskId: 'task-1',
  total: succeeded + failed,
  succeeded,
  failed,
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
