import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { beforeEach, describe, expect, it } from 'vitest';
import { readCompletionReport, reportKeys } from '../../../shared/dra/report.js';
import { awsError, s3Mock } from './aws-mocks.js';

describe('reportKeys', () => {
  it('looks for both failures.csv (export, release) and report.csv (import) under the task folder', () => {
    const { bucket, keys } = reportKeys('s3://demo/ExtData/fsx-transfer-reports', 'task-0123456789abcdef0');

    expect(bucket).toBe('demo');
    expect(keys).toEqual([
      'ExtData/fsx-transfer-reports/task-0123456789abcdef0/failures.csv',
      'ExtData/fsx-transfer-reports/task-0123456789abcdef0/report.csv',
    ]);
  });
});

describe('readCompletionReport', () => {
  const TASK = 'task-0123456789abcdef0';
  const FOLDER = 'ExtData/fsx-transfer-reports';
  /** The part of a GetObject body that the code reads. */
  const body = (text: string) => ({ transformToString: async () => text }) as never;

  beforeEach(() => {
    s3Mock.reset();
    s3Mock.on(GetObjectCommand).rejects(awsError('NoSuchKey', 404));
  });

  it('reads the report at the usual key', async () => {
    s3Mock
      .on(GetObjectCommand, { Key: `${FOLDER}/${TASK}/failures.csv` })
      .resolves({ Body: body('a.nc,FAILED,S3AccessDenied\n') });

    const report = await readCompletionReport(new S3Client({}), `s3://demo/${FOLDER}`, TASK);

    expect(report).toEqual({
      uri: `s3://demo/${FOLDER}/${TASK}/failures.csv`,
      files: [{ filePath: 'a.nc', fileStatus: 'FAILED', errorCode: 'S3AccessDenied' }],
    });
    expect(s3Mock.commandCalls(ListObjectsV2Command)).toHaveLength(0);
  });

  it("finds a task's report under another name past the first 1,000 keys of the report folder", async () => {
    const otherRuns = Array.from({ length: 1000 }, (_, i) => ({
      Key: `${FOLDER}/task-${String(i).padStart(17, '0')}/failures.csv`,
      Size: 10,
    }));
    const key = `${FOLDER}/${TASK}/failures-0001.csv`;
    s3Mock
      .on(ListObjectsV2Command)
      .resolves({ Contents: otherRuns, IsTruncated: true, NextContinuationToken: 'page-2' });
    s3Mock.on(ListObjectsV2Command, { ContinuationToken: 'page-2' }).resolves({ Contents: [{ Key: key }] });
    s3Mock.on(GetObjectCommand, { Key: key }).resolves({ Body: body('b.nc,FAILED,S3ObjectNotFound\n') });

    const report = await readCompletionReport(new S3Client({}), `s3://demo/${FOLDER}`, TASK);

    expect(report).toEqual({
      uri: `s3://demo/${key}`,
      files: [{ filePath: 'b.nc', fileStatus: 'FAILED', errorCode: 'S3ObjectNotFound' }],
    });
    expect(s3Mock.commandCalls(ListObjectsV2Command)[0]!.args[0].input).toMatchObject({
      Bucket: 'demo',
      Prefix: `${FOLDER}/`,
    });
  });

  it('says there is no report when no key names the task', async () => {
    s3Mock.on(ListObjectsV2Command).resolves({ Contents: [{ Key: `${FOLDER}/task-other/failures.csv` }] });

    await expect(
      readCompletionReport(new S3Client({}), `s3://demo/${FOLDER}`, TASK),
    ).resolves.toBeUndefined();
  });
});
